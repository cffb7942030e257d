import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'

// Reading a LevelDB directory as bytes, the way someone holding the relay's disk could: every
// file raw, and what LevelDB's own formats hide from a raw scan made plain: the write-ahead
// and manifest logs reassembled from their 32 KiB blocks (a record, and a word in it, can be
// split by a block header), and the tables' blocks decompressed (LevelDB compresses .ldb
// blocks with snappy by default, which would hide text from a raw scan).

/** One file's bytes as a reader sees them: raw, and decoded from LevelDB's format where it has one. */
export interface FileView {
  file: string
  raw: Uint8Array
  /** Log records reassembled, or every table block (decompressed); null for files of no LevelDB format. */
  decoded: Uint8Array | null
  /** Table blocks found, and how many of them were snappy-compressed. */
  blocks: number
  snappyBlocks: number
}

/** Every file under `dir`, recursively. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile()) out.push(path)
  }
  return out.sort()
}

/** Every file under `dir` as a FileView. */
export async function viewsUnder(dir: string): Promise<FileView[]> {
  const views: FileView[] = []
  for (const file of await filesUnder(dir)) {
    const raw = new Uint8Array(await readFile(file))
    const name = file.slice(file.lastIndexOf('/') + 1)
    if (/^\d+\.log$/.test(name) || name.startsWith('MANIFEST-')) views.push({ file, raw, decoded: concat(readLogRecords(raw)), blocks: 0, snappyBlocks: 0 })
    else if (/\.(ldb|sst)$/.test(name)) views.push({ file, raw, ...readTable(raw) })
    else views.push({ file, raw, decoded: null, blocks: 0, snappyBlocks: 0 })
  }
  return views
}

/** Directories under `dir` (itself included) that hold a LevelDB database (a CURRENT file). */
export async function levelDbsUnder(dir: string): Promise<string[]> {
  return (await filesUnder(dir)).filter(f => f.endsWith('/CURRENT')).map(f => f.slice(0, -'/CURRENT'.length))
}

/**
 * Opens a (closed) LevelDB database and compacts its whole key range: the write-ahead log goes
 * into tables, which LevelDB writes with its default snappy compression.
 */
export async function compactAll(location: string): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false })
  await db.open()
  try {
    await db.compactRange(new Uint8Array([0]), new Uint8Array(64).fill(0xff))
  } finally {
    await db.close()
  }
}

/** Every key and value of a (closed) LevelDB database, read through LevelDB itself. */
export async function logicalContent(location: string): Promise<Uint8Array> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false })
  await db.open()
  const parts: Uint8Array[] = []
  try {
    for await (const [k, v] of db.iterator()) parts.push(k, new Uint8Array([0]), v, new Uint8Array([0]))
  } finally {
    await db.close()
  }
  return concat(parts)
}

// ── the LevelDB log format (db/log_format.h): 32 KiB blocks of records with 7-byte headers ──

const LOG_BLOCK = 32 * 1024
const LOG_HEADER = 7
const FULL = 1
const FIRST = 2
const MIDDLE = 3
const LAST = 4

export function readLogRecords(bytes: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = []
  let pending: Uint8Array[] = []
  let pos = 0
  while (pos + LOG_HEADER <= bytes.length) {
    const leftInBlock = LOG_BLOCK - (pos % LOG_BLOCK)
    if (leftInBlock < LOG_HEADER) {
      pos += leftInBlock // the block's trailer
      continue
    }
    const length = bytes[pos + 4]! | (bytes[pos + 5]! << 8)
    const type = bytes[pos + 6]!
    const start = pos + LOG_HEADER
    pos = start + length
    if (type === 0 && length === 0) {
      // preallocated space (zeros): nothing more in this block
      pos = start + leftInBlock - LOG_HEADER
      continue
    }
    const fragment = bytes.subarray(start, Math.min(pos, bytes.length))
    if (type === FULL) records.push(fragment)
    else if (type === FIRST) pending = [fragment]
    else if (type === MIDDLE) pending.push(fragment)
    else if (type === LAST) {
      pending.push(fragment)
      records.push(concat(pending))
      pending = []
    }
  }
  if (pending.length > 0) records.push(concat(pending))
  return records
}

// ── the LevelDB table format (table/format.h): blocks found through the footer's index ──

const FOOTER = 48
const MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]
const BLOCK_TRAILER = 5
const NO_COMPRESSION = 0
const SNAPPY = 1

interface Handle {
  offset: number
  size: number
}

export function readTable(bytes: Uint8Array): { decoded: Uint8Array; blocks: number; snappyBlocks: number } {
  if (bytes.length < FOOTER) throw new Error('a table shorter than its footer')
  const footer = bytes.subarray(bytes.length - FOOTER)
  if (!MAGIC.every((b, i) => footer[FOOTER - 8 + i] === b)) throw new Error('not a LevelDB table (bad magic)')
  let at = 0
  const varint = (): number => {
    let n = 0
    let shift = 0
    for (;;) {
      const b = footer[at++]!
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return n
      shift += 7
    }
  }
  const metaindex: Handle = { offset: varint(), size: varint() }
  const index: Handle = { offset: varint(), size: varint() }
  let snappyBlocks = 0
  const block = (h: Handle): Uint8Array => {
    const contents = bytes.subarray(h.offset, h.offset + h.size)
    const type = bytes[h.offset + h.size]
    if (type === NO_COMPRESSION) return contents
    if (type === SNAPPY) {
      snappyBlocks++
      return snappyDecompress(contents)
    }
    throw new Error(`a table block of unknown compression ${type}`)
  }
  const indexBlock = block(index)
  const metaBlock = block(metaindex)
  const handles = [...blockEntries(indexBlock), ...blockEntries(metaBlock)].map(e => readHandle(e.value))
  const decoded = [indexBlock, metaBlock]
  for (const h of handles) {
    if (h.offset + h.size + BLOCK_TRAILER > bytes.length) throw new Error('a block handle past the end of the table')
    decoded.push(block(h))
  }
  return { decoded: concat(decoded), blocks: decoded.length, snappyBlocks }
}

/** A block's entries (keys prefix-compressed against the one before, values whole). */
function blockEntries(block: Uint8Array): Array<{ key: Uint8Array; value: Uint8Array }> {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const restarts = view.getUint32(block.length - 4, true)
  const end = block.length - 4 - 4 * restarts
  const out: Array<{ key: Uint8Array; value: Uint8Array }> = []
  let pos = 0
  let key: Uint8Array = new Uint8Array(0)
  const varint = (): number => {
    let n = 0
    let shift = 0
    for (;;) {
      const b = block[pos++]!
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return n
      shift += 7
    }
  }
  while (pos < end) {
    const shared = varint()
    const unshared = varint()
    const valueLength = varint()
    key = concat([key.subarray(0, shared), block.subarray(pos, pos + unshared)])
    pos += unshared
    out.push({ key, value: block.subarray(pos, pos + valueLength) })
    pos += valueLength
  }
  if (pos !== end) throw new Error('a table block whose entries overrun its restart array')
  return out
}

function readHandle(bytes: Uint8Array): Handle {
  let pos = 0
  const varint = (): number => {
    let n = 0
    let shift = 0
    for (;;) {
      const b = bytes[pos++]!
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return n
      shift += 7
    }
  }
  return { offset: varint(), size: varint() }
}

/** Snappy's raw format (what LevelDB stores in a compressed block): a length, then literals and back-references. */
export function snappyDecompress(src: Uint8Array): Uint8Array {
  let pos = 0
  let length = 0
  let shift = 0
  for (;;) {
    const b = src[pos++]!
    length += (b & 0x7f) * 2 ** shift
    if (b < 0x80) break
    shift += 7
  }
  const out = new Uint8Array(length)
  let op = 0
  while (pos < src.length) {
    const tag = src[pos++]!
    let len: number
    let offset: number
    switch (tag & 3) {
      case 0: {
        len = tag >> 2
        if (len >= 60) {
          const extra = len - 59
          len = 0
          for (let i = 0; i < extra; i++) len += src[pos++]! * 2 ** (8 * i)
        }
        len += 1
        if (pos + len > src.length || op + len > out.length) throw new Error('snappy: a literal overruns')
        out.set(src.subarray(pos, pos + len), op)
        pos += len
        op += len
        continue
      }
      case 1:
        len = ((tag >> 2) & 7) + 4
        offset = ((tag >> 5) << 8) | src[pos++]!
        break
      case 2:
        len = (tag >> 2) + 1
        offset = src[pos]! | (src[pos + 1]! << 8)
        pos += 2
        break
      default:
        len = (tag >> 2) + 1
        offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16)) + src[pos + 3]! * 2 ** 24
        pos += 4
    }
    if (offset === 0 || offset > op || op + len > out.length) throw new Error('snappy: a copy out of range')
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]!
  }
  if (op !== out.length) throw new Error(`snappy: ${op} bytes of ${out.length}`)
  return out
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}
