import type { DocStore } from './doc-store.js'
import type { DamagedRecord } from './store-damage.js'
import { REPAIR_MARK as MARK } from './store-keys.js'

/** What `engine.storeDamage()` reports. */
export interface StoreDamageReport {
  /** Every damaged or missing record found since this engine opened its store (none was shown as data). */
  found: DamagedRecord[]
  /**
   * Docs waiting to be fetched whole from a relay: their damaged records are gone, and
   * what the relay holds of them (this device's own uploads included) comes back when it
   * is next reached. Writes that reached no relay or device are lost with the record.
   */
  repairing: string[]
}

/**
 * Present while an engine has the store open, removed by a clean stop: found at open, it says
 * the last run ended in a crash (or a kill).
 */
const RUNNING = 'running'

/**
 * Turns damage found in the store into repair: each damaged doc is marked (a metadata
 * record, so a restart before the repair keeps it) and fetched whole from the next relay
 * that has it (`refetch`: from seq 0, this device's own uploads with their bytes); peers
 * fill in the rest by the usual state-vector exchange. The mark is cleared once a relay's
 * refetch has caught up.
 *
 * A crash is repaired too. A device uploads a write without waiting for its own disk (the disk
 * would cost every message its latency), so a crash can take a write the relay holds, which the
 * relay then sends the device only as an echo, and which its peers leave to the relay: the
 * author lacked for good a message its other device showed (chaos seed 194808270). After a
 * start that follows a crash, each doc's first subscription is a `resume`, whose backfill brings
 * this device's own uploads back with their bytes, until one has caught up.
 */
export class StoreRepair {
  private readonly marked = new Set<string>()
  /** Whether the last run ended without a clean stop (see RUNNING). */
  private afterCrash = false
  /** Docs a `resume` caught up on since this start. */
  private readonly resumedDocs = new Set<string>()

  constructor(
    private readonly store: DocStore,
    private readonly onRepaired: (docId: string) => void,
    private readonly onError: (error: unknown) => void
  ) {
    // damage found from now on (a doc read later) is marked before anything subscribes to the doc
    store.damage.listen(record => {
      this.take(record).catch(onError)
    })
  }

  /** Reads the marks earlier runs left, and marks what the store's open check found (every doc when some damage names none). */
  async load(): Promise<void> {
    // (on disk before anything can be uploaded: a crash from here on is found at the next start)
    this.afterCrash = (await this.store.getMeta(RUNNING)) !== undefined
    if (!this.afterCrash) await this.store.putMeta(RUNNING, new Uint8Array(0))
    for (const [name] of await this.store.metaEntries(MARK)) this.marked.add(name.slice(MARK.length))
    const { docIds, unattributed } = this.store.damage.docs()
    if (unattributed) for (const id of await this.store.listDocs()) docIds.add(id)
    await this.mark([...docIds])
  }

  /** Marks the doc a damaged record found later belongs to; every doc when it names none. */
  private async take(record: DamagedRecord): Promise<void> {
    // (a doc is marked before this returns to its caller: a subscription made next asks for all of it)
    await this.mark(record.docId !== null ? [record.docId] : await this.store.listDocs())
  }

  private async mark(docIds: string[]): Promise<void> {
    const add = docIds.filter(id => !this.marked.has(id))
    for (const id of add) this.marked.add(id)
    if (add.length > 0) await this.store.writeMeta(add.map(id => [MARK + id, new Uint8Array(0)]))
  }

  needsRefetch(docId: string): boolean {
    return this.marked.has(docId)
  }

  /** A relay sent all it holds of a marked doc, this device's own uploads included: the mark goes. */
  refetched(docId: string): void {
    if (!this.marked.delete(docId)) return
    this.store.writeMeta([[MARK + docId, null]]).then(() => this.onRepaired(docId), this.onError)
  }

  /** Whether the doc's next subscription is a `resume`: the last run crashed, and no resume of it caught up yet. */
  needsResume(docId: string): boolean {
    return this.afterCrash && !this.resumedDocs.has(docId)
  }

  /** A relay sent all it held of the doc when it was resumed, this device's own uploads included. */
  resumed(docId: string): void {
    if (this.afterCrash) this.resumedDocs.add(docId)
  }

  /** The engine stops cleanly, everything it wrote on its way to disk before this: the next start is no crash's. */
  stopped(): Promise<void> {
    return this.store.writeMeta([[RUNNING, null]])
  }

  report(): StoreDamageReport {
    return { found: [...this.store.damage.records], repairing: [...this.marked].sort() }
  }
}
