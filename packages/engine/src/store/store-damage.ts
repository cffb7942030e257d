/** One thing found wrong in the device's store: a record that does not read back as written, or one that is missing. */
export interface DamagedRecord {
  /** The doc it belonged to; `null` when its key itself is garbled (then every doc is fetched again). */
  docId: string | null
  /** The key as found (for a missing record: the key it should have had). */
  key: string
  /** What is wrong, as a sentence: `checksum mismatch`, `log entries 5…7 are missing`, … */
  problem: string
}

/**
 * What a store check found, in the order found. Damaged records are never returned as
 * data: a reader gets what verifies and the damage is noted here, for the engine to report
 * (`ERR_STORE_CORRUPT`) and to repair from the relays and peers that hold the same docs.
 */
export class StoreDamage {
  private readonly found: DamagedRecord[] = []
  private readonly listeners = new Set<(record: DamagedRecord) => void>()

  note(record: DamagedRecord): void {
    this.found.push(record)
    for (const l of this.listeners) l(record)
  }

  /** Called (synchronously) with every record noted from now on. */
  listen(listener: (record: DamagedRecord) => void): void {
    this.listeners.add(listener)
  }

  get records(): readonly DamagedRecord[] {
    return this.found
  }

  /** The docs with damage, and whether some damage names no doc (then every doc is suspect). */
  docs(): { docIds: Set<string>; unattributed: boolean } {
    const docIds = new Set<string>()
    let unattributed = false
    for (const r of this.found) {
      if (r.docId === null) unattributed = true
      else docIds.add(r.docId)
    }
    return { docIds, unattributed }
  }
}
