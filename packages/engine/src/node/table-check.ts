import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as decoding from 'lib0/decoding'
import { crc32c, masked } from './leveldb-log.js'
import { liveTables } from './leveldb-manifest.js'

// LevelDB's table format (leveldb/doc/table_format.md): blocks, each followed by a 5-byte
// trailer — the block's compression type, then the masked CRC-32C of the block and that type
// byte (little-endian) — and a 48-byte footer: the metaindex and index blocks' handles
// (varint64 offset, varint64 size), padding, and an 8-byte magic number.
export const FOOTER = 48
const TRAILER = 5
const MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]

/** Where a table's footer says its metaindex and index blocks are (each without its trailer), or null when it cannot be read. */
export function footerHandles(footer: Uint8Array): { metaindex: BlockHandle; index: BlockHandle } | null {
  const dec = decoding.createDecoder(footer)
  try {
    const metaindex = { offset: decoding.readVarUint(dec), length: decoding.readVarUint(dec) }
    return { metaindex, index: { offset: decoding.readVarUint(dec), length: decoding.readVarUint(dec) } }
  } catch {
    return null
  }
}

export interface BlockHandle {
  offset: number
  length: number
}

/**
 * What is wrong with a table's footer, metaindex or index block, or null. LevelDB without
 * `paranoid_checks` reads a table's index block without checking it: a damaged one hides
 * the keys of whole data blocks, and the store opens consistent without them (measured: one
 * bit flipped in an index block, 130 records gone and no note anywhere). Data blocks need no
 * check here: every value carries its own checksum (checked records), and a garbled key is a
 * stray the store's open check notes.
 */
export async function tableDamage(path: string): Promise<string | null> {
  // (a table gone since the directory was listed was compacted away by LevelDB: nothing to check.
  // CI: a device restarted after a crash while its old process still compacted, ERR_STORE_CORRUPT)
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  if (file === null) return null
  try {
    const { size } = await file.stat()
    if (size < FOOTER) return `it is ${size} bytes, shorter than a table's footer`
    const footer = Buffer.alloc(FOOTER)
    await file.read(footer, 0, FOOTER, size - FOOTER)
    if (MAGIC.some((b, i) => footer[FOOTER - 8 + i] !== b)) return 'its footer is damaged (magic number)'
    const handles = footerHandles(footer)
    if (handles === null) return "its footer is damaged (a block's handle)"
    for (const [name, { offset, length }] of Object.entries(handles)) {
      if (offset + length + TRAILER > size - FOOTER) return `its footer is damaged (the ${name} block's handle points past the file)`
      const block = Buffer.alloc(length + TRAILER)
      await file.read(block, 0, block.length, offset)
      const crc = crc32c.buf(block.subarray(length, length + 1), crc32c.buf(block.subarray(0, length)))
      if (masked(crc >>> 0) !== block.readUInt32LE(length + 1)) return `its ${name} block is damaged (checksum mismatch)`
    }
    return null
  } finally {
    await file.close()
  }
}

/**
 * One sentence per table in `dir` whose index LevelDB would read damaged without saying so.
 * Only the tables the MANIFEST names are checked (all of them when it cannot be read): a crash
 * in the middle of a compaction leaves a partly written table LevelDB deletes at open unread,
 * and taking it for damage refetched every doc from the relays.
 */
export async function checkTables(dir: string): Promise<string[]> {
  const live = await liveTables(dir)
  const names = (await readdir(dir).catch(() => [] as string[])).filter(n => /^\d+\.(ldb|sst)$/.test(n) && (live === null || live.has(Number.parseInt(n, 10))))
  const notes: string[] = []
  for (const name of names) {
    const damage = await tableDamage(join(dir, name)).catch((err: unknown) => `it cannot be read (${String(err)})`)
    if (damage !== null) notes.push(`the table ${name} is damaged: ${damage}`)
  }
  return notes
}
