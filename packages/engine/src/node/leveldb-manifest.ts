import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as decoding from 'lib0/decoding'
import { logRecords } from './leveldb-log.js'

// A LevelDB MANIFEST (leveldb/db/version_edit.cc) is a log of version edits, each a run of
// (varint tag, fields): 1 comparator (a length-prefixed name), 2 log number, 3 next file
// number, 4 last sequence, 9 previous log number (each a varint), 5 compact pointer (level,
// length-prefixed key), 6 deleted file (level, file number), 7 new file (level, file number,
// size, smallest and largest length-prefixed keys). CURRENT names the MANIFEST in use.
const COMPARATOR = 1
const LOG_NUMBER = 2
const NEXT_FILE_NUMBER = 3
const LAST_SEQUENCE = 4
const COMPACT_POINTER = 5
const DELETED_FILE = 6
const NEW_FILE = 7
const PREV_LOG_NUMBER = 9

/** Applies one version edit to `live` (file numbers by level); false for a tag LevelDB would refuse. */
function applyEdit(edit: Uint8Array, live: Map<string, number>): boolean {
  const dec = decoding.createDecoder(edit)
  const deleted: string[] = []
  const added: Array<[string, number]> = []
  while (decoding.hasContent(dec)) {
    const tag = decoding.readVarUint(dec)
    if (tag === COMPARATOR) decoding.readVarUint8Array(dec)
    else if (tag === LOG_NUMBER || tag === NEXT_FILE_NUMBER || tag === LAST_SEQUENCE || tag === PREV_LOG_NUMBER) decoding.readVarUint(dec)
    else if (tag === COMPACT_POINTER) {
      decoding.readVarUint(dec)
      decoding.readVarUint8Array(dec)
    } else if (tag === DELETED_FILE) {
      const level = decoding.readVarUint(dec)
      deleted.push(`${level}/${decoding.readVarUint(dec)}`)
    } else if (tag === NEW_FILE) {
      const level = decoding.readVarUint(dec)
      const number = decoding.readVarUint(dec)
      decoding.readVarUint(dec) // size
      decoding.readVarUint8Array(dec) // smallest key
      decoding.readVarUint8Array(dec) // largest key
      added.push([`${level}/${number}`, number])
    } else return false
  }
  // (VersionSet applies an edit's deletions before its additions: a table moved down a level is both)
  for (const key of deleted) live.delete(key)
  for (const [key, number] of added) live.set(key, number)
  return true
}

/**
 * The numbers of the tables the store's current MANIFEST names: the tables LevelDB will read.
 * Any other table in the directory is one it deletes at open unread — the output of a
 * compaction a crash cut short (often a table without its footer), or one compacted away.
 * Null when CURRENT or the MANIFEST cannot be read or parsed (LevelDB's open reports that itself).
 */
export async function liveTables(dir: string): Promise<Set<number> | null> {
  try {
    const current = (await readFile(join(dir, 'CURRENT'), 'utf8')).trim()
    if (!/^MANIFEST-\d+$/.test(current)) return null
    const records = logRecords(await readFile(join(dir, current)))
    if (records === null) return null
    const live = new Map<string, number>()
    for (const edit of records) if (!applyEdit(edit, live)) return null
    return new Set(live.values())
  } catch {
    return null // (a missing file, or a field cut short: lib0 throws)
  }
}
