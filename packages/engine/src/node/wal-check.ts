import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { HEADER, recordHeaders, validRecordAt } from './leveldb-log.js'

/**
 * Where LevelDB would silently stop reading `log`: a record in the file's last (short) block
 * whose length runs past what was read is, to LevelDB, the torn last write of a crash, and it
 * drops the rest of the file without a word in its LOG. That is only true when nothing valid follows; when a
 * whole record with a valid checksum does (a CRC-32C match by chance is 1 in 2^32), the
 * length field was damaged and acknowledged writes after it are being dropped. Returns the
 * offset of that damaged record, or null.
 */
export function silentlyDroppedAt(log: Uint8Array): number | null {
  for (const { pos, length, left } of recordHeaders(log)) {
    if (pos + HEADER + length > Math.min(pos + left, log.length)) {
      // LevelDB reports a length past its block itself, unless the block is the file's last,
      // read short: then it takes the record for a torn write and stops without a word
      if (pos + left <= log.length) return null
      for (let p = pos + 1; p + HEADER <= log.length; p++) if (validRecordAt(log, p)) return pos
      return null // a torn tail: the last write of a crash, never acknowledged
    }
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
