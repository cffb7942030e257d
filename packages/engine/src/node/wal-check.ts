import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRequire } from 'node:module'

// LevelDB's write-ahead log format (leveldb/doc/log_format.md): 32 KiB blocks of records,
// each a 7-byte header — masked CRC-32C of the type byte and the data (little-endian), the
// data's length (2 bytes, little-endian), the type (1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST) —
// then the data; fewer than 7 bytes left in a block are padding.
const BLOCK = 32 * 1024
const HEADER = 7
const MASK_DELTA = 0xa282ead8

// crc-32's CRC-32C (Castagnoli, LevelDB's checksum); the package is CommonJS with no types for it
const crc32c = createRequire(import.meta.url)('crc-32/crc32c.js') as { buf(data: Uint8Array, seed?: number): number }

const masked = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0

/** True when a whole record with a valid checksum starts at `pos`. */
function validRecordAt(log: Uint8Array, pos: number): boolean {
  const left = BLOCK - (pos % BLOCK)
  if (left < HEADER || pos + HEADER > log.length) return false
  const type = log[pos + 6]!
  const length = log[pos + 4]! | (log[pos + 5]! << 8)
  if (type < 1 || type > 4 || HEADER + length > left || pos + HEADER + length > log.length) return false
  const stored = (log[pos]! | (log[pos + 1]! << 8) | (log[pos + 2]! << 16) | (log[pos + 3]! << 24)) >>> 0
  return masked(crc32c.buf(log.subarray(pos + 6, pos + HEADER + length)) >>> 0) === stored
}

/**
 * Where LevelDB would silently stop reading `log`: a record in the file's last (short) block
 * whose length runs past what was read is, to LevelDB, the torn last write of a crash, and it
 * drops the rest of the file without a word in its LOG. That is only true when nothing valid follows; when a
 * whole record with a valid checksum does (a CRC-32C match by chance is 1 in 2^32), the
 * length field was damaged and acknowledged writes after it are being dropped. Returns the
 * offset of that damaged record, or null.
 */
export function silentlyDroppedAt(log: Uint8Array): number | null {
  let pos = 0
  while (pos + HEADER <= log.length) {
    const left = BLOCK - (pos % BLOCK)
    if (left < HEADER) {
      pos += left
      continue
    }
    const type = log[pos + 6]!
    const length = log[pos + 4]! | (log[pos + 5]! << 8)
    if (type === 0 && length === 0) {
      pos += HEADER // preallocated zeros: LevelDB skips them too
      continue
    }
    if (pos + HEADER + length > Math.min(pos + left, log.length)) {
      // LevelDB reports a length past its block itself, unless the block is the file's last,
      // read short: then it takes the record for a torn write and stops without a word
      if (pos + left <= log.length) return null
      for (let p = pos + 1; p + HEADER <= log.length; p++) if (validRecordAt(log, p)) return pos
      return null // a torn tail: the last write of a crash, never acknowledged
    }
    pos += HEADER + length
  }
  return null
}

/** One sentence per write-ahead log in `dir` that LevelDB would cut short without saying so. */
export async function checkWriteAheadLogs(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter(n => /^\d+\.log$/.test(n))
  const notes: string[] = []
  for (const name of names) {
    const log = await readFile(join(dir, name)).catch(() => null)
    const at = log === null ? null : silentlyDroppedAt(log)
    if (at !== null)
      notes.push(`the write-ahead log ${name} is damaged at byte ${at} (a record's length runs past the file, and valid records follow): what was written after it is lost`)
  }
  return notes
}
