import { createRequire } from 'node:module'

// LevelDB's log format (leveldb/doc/log_format.md), which its write-ahead logs and its MANIFEST
// share: 32 KiB blocks of records, each a 7-byte header — masked CRC-32C of the type byte and
// the data (little-endian), the data's length (2 bytes, little-endian), the type (1 FULL,
// 2 FIRST, 3 MIDDLE, 4 LAST) — then the data; fewer than 7 bytes left in a block are padding.
const BLOCK = 32 * 1024
export const HEADER = 7
const MASK_DELTA = 0xa282ead8
const FULL = 1
const FIRST = 2
const MIDDLE = 3
const LAST = 4

// crc-32's CRC-32C (Castagnoli, LevelDB's checksum); the package is CommonJS with no types for it
export const crc32c = createRequire(import.meta.url)('crc-32/crc32c.js') as { buf(data: Uint8Array, seed?: number): number }

/** LevelDB's masked CRC (crc32c.h): rotated and offset, so that a CRC stored beside its data does not check itself. */
export const masked = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0

const storedCrc = (log: Uint8Array, pos: number): number => (log[pos]! | (log[pos + 1]! << 8) | (log[pos + 2]! << 16) | (log[pos + 3]! << 24)) >>> 0

/** Whether the record at `pos`, its data `length` bytes, carries the checksum of its type byte and data. */
const checksumMatches = (log: Uint8Array, pos: number, length: number): boolean => masked(crc32c.buf(log.subarray(pos + 6, pos + HEADER + length)) >>> 0) === storedCrc(log, pos)

/** A physical record's header: where it starts, its type and data length, and the bytes left in its block from `pos`. */
export interface RecordHeader {
  pos: number
  type: number
  length: number
  left: number
}

/** The header at `pos`, or null where a block's padding is (fewer than HEADER bytes left in it) or the file ends. */
function headerAt(log: Uint8Array, pos: number): RecordHeader | null {
  const left = BLOCK - (pos % BLOCK)
  if (left < HEADER || pos + HEADER > log.length) return null
  return { pos, type: log[pos + 6]!, length: log[pos + 4]! | (log[pos + 5]! << 8), left }
}

/** True when a whole record with a valid checksum starts at `pos`. */
export function validRecordAt(log: Uint8Array, pos: number): boolean {
  const h = headerAt(log, pos)
  if (h === null || h.type < FULL || h.type > LAST || HEADER + h.length > h.left || pos + HEADER + h.length > log.length) return false
  return checksumMatches(log, pos, h.length)
}

/**
 * The physical records' headers from the start of `log`, as LevelDB's reader walks them:
 * block padding skipped, and preallocated zeros (a zero type and length: LevelDB drops the
 * rest of that block). Whether a record's data fits is the caller's question.
 */
export function* recordHeaders(log: Uint8Array): Generator<RecordHeader> {
  let pos = 0
  while (pos + HEADER <= log.length) {
    const h = headerAt(log, pos)
    if (h === null || (h.type === 0 && h.length === 0)) {
      pos += BLOCK - (pos % BLOCK)
      continue
    }
    yield h
    pos += HEADER + h.length
  }
}

/**
 * The logical records of a log, as LevelDB's reader assembles them, or null where it would
 * report corruption (a checksum that does not match, fragments out of order, an unknown type).
 * A record cut short by the end of the file is a crash's torn last write: the records end there.
 */
export function logRecords(log: Uint8Array): Uint8Array[] | null {
  const records: Uint8Array[] = []
  let parts: Uint8Array[] | null = null
  for (const { pos, type, length, left } of recordHeaders(log)) {
    if (HEADER + length > left) return null
    if (pos + HEADER + length > log.length) break
    if (!checksumMatches(log, pos, length)) return null
    const data = log.subarray(pos + HEADER, pos + HEADER + length)
    if (type === FULL && parts === null) records.push(data)
    else if (type === FIRST && parts === null) parts = [data]
    else if (type === MIDDLE && parts !== null) parts.push(data)
    else if (type === LAST && parts !== null) {
      records.push(Buffer.concat([...parts, data]))
      parts = null
    } else return null
  }
  return records
}
