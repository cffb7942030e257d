import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { KeyValueStore } from '@tandem/storage'
import { ClassicLevel } from 'classic-level'
import { repairInChild } from './level-repair.js'
import { checkTables } from './table-check.js'
import { checkWriteAheadLogs } from './wal-check.js'

/**
 * A device store on disk: classic-level, plus what LevelDB's own recovery says. LevelDB runs
 * without `paranoid_checks` (classic-level exposes no way to turn it on), so at open a damaged
 * write-ahead log is skipped silently — measured: one 8-byte overwrite dropped 17,750 bytes of
 * acknowledged writes, and the next open found a consistent store without them. It does write
 * that to its info log (`LOG`): "(ignoring error) …: dropping N bytes; Corruption: …". This
 * store reads that note right after opening and hands it on as damage (see DocStore.open),
 * and a store LevelDB refuses as corrupt is repaired (LevelDB's RepairDB salvages what its
 * checksums still vouch for) and reported as damaged everywhere, never as lost.
 */
export class NodeLevelStore implements KeyValueStore {
  private readonly db: ClassicLevel<string, Uint8Array>
  private notes: string[] = []

  constructor(private readonly location: string) {
    this.db = this.make()
  }

  private make(): ClassicLevel<string, Uint8Array> {
    return new ClassicLevel<string, Uint8Array>(this.location, { keyEncoding: 'utf8', valueEncoding: 'view' })
  }

  async open(): Promise<void> {
    // before LevelDB reads (and then deletes) its write-ahead log: the one damage it drops without a note
    this.notes = await checkWriteAheadLogs(this.location)
    // CURRENT names the manifest; garbled, LevelDB fails with an I/O error naming a garbage file
    const current = await readFile(join(this.location, 'CURRENT'), 'latin1').catch(() => null)
    if (current !== null && !/^MANIFEST-\d+\n$/.test(current)) return await this.repairAndOpen('its CURRENT file is garbled')
    // a table whose index is damaged opens without a word, its records hidden (see tableDamage):
    // noted, so that every doc is fetched whole again (LevelDB's repair of such a table can leave
    // a manifest that names the table it set aside, and the store no longer opens)
    this.notes.push(...(await checkTables(this.location)))
    try {
      await this.db.open()
    } catch (err) {
      if (!isCorruption(err)) throw err
      return await this.repairAndOpen(String((err as Error).cause ?? err))
    }
    const log = await readFile(join(this.location, 'LOG'), 'utf8').catch(() => '')
    for (const line of log.split('\n')) if (/dropping \d+ bytes|Corruption:/.test(line)) this.notes.push(`LevelDB's recovery: ${line.replace(/^\S+ \S+ /, '')}`)
  }

  /**
   * Closes the store, runs LevelDB's repair (it rebuilds the manifest from the tables and
   * logs, and keeps the entries whose blocks still read), and opens it again. For a damaged
   * table a read meets after open (Engine.open retries once after this).
   */
  async repair(reason: string): Promise<void> {
    await this.db.close()
    await this.repairAndOpen(reason)
  }

  private async repairAndOpen(reason: string): Promise<void> {
    await repairInChild(this.location)
    this.notes.push(`LevelDB found the store damaged (${reason}) and repaired it: records it could not salvage are gone`)
    await this.db.open()
  }

  /** What LevelDB dropped or repaired while opening (empty for a store that opened clean). */
  recoveryNotes(): string[] {
    return this.notes
  }

  close(): Promise<void> {
    return this.db.close()
  }

  /** Closes the store and removes its directory: deleted records would linger in LevelDB's tables and logs until a compaction. */
  async erase(): Promise<void> {
    await this.db.close()
    await rm(this.location, { recursive: true, force: true })
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(key)
  }

  batch: KeyValueStore['batch'] = (ops, options) => this.db.batch(ops, options ?? {})
  keys: KeyValueStore['keys'] = range => this.db.keys(range)
  iterator: KeyValueStore['iterator'] = range => this.db.iterator(range)
}

const isCorruption = (err: unknown): boolean => {
  const e = err as { code?: string; cause?: { code?: string } }
  return e?.code === 'LEVEL_CORRUPTION' || e?.cause?.code === 'LEVEL_CORRUPTION'
}
