import { sealedEpoch } from '@tandem/protocol'
import type { RelayUploaderHost } from './relay-uploader.js'
import type { OutboxEntry } from './relay-state.js'
import type { RelayStateSaver } from './relay-state-saver.js'
import type { UploadHolds } from './upload-holds.js'

/** What sealing the outbox again needs of its uploader. */
export interface ResealedUploads {
  /** The outbox as it is now, oldest first. */
  outbox(): readonly OutboxEntry[]
  stopped(): boolean
  /** Sends an entry on the connection new uploads may go on, if any. */
  send(entry: OutboxEntry): void
  report(err: unknown): void
}

/**
 * The outbox's uploads of a doc the relay refused as stale, sealed again in a newer key
 * generation and sent again in order, while the doc's other uploads are held
 * (UploadHolds.resealing). Its own file: it is the one path that rewrites outbox entries.
 */
export class OutboxReseal {
  constructor(
    private readonly codec: RelayUploaderHost['codec'],
    private readonly saver: RelayStateSaver,
    private readonly holds: UploadHolds,
    private readonly uploads: ResealedUploads
  ) {}

  /**
   * The relay refused an upload as stale (ERR_STALE_EPOCH): sealed in a key generation older
   * than the account's newest (a device was revoked meanwhile), or sent after such a one (a
   * doc's uploads must land in the order they were cut: each is a diff against the ones before
   * it, and readers take its reach as "the relay holds all below"). Nothing of them was
   * stored. The doc's uploads from that one on are held back; once this device writes in a
   * newer generation, those older than it are sealed again, and all are sent, in order.
   */
  reseal(uploadId: number): void {
    const entry = this.uploads.outbox().find(e => e.uploadId === uploadId)
    if (entry === undefined || this.holds.resealing.has(entry.docId)) return // (a held doc's uploads all go again, in order)
    this.holds.resealing.add(entry.docId)
    void this.resealFrom(entry)
      .catch(this.uploads.report)
      .finally(() => {
        this.holds.resealing.delete(entry.docId)
      })
  }

  private async resealFrom(refused: OutboxEntry): Promise<void> {
    const docId = refused.docId
    // sealed in an epoch older than the newest the relay may ask for (the account chain's newest
    // generation: the relay sent the link that started it before refusing; a shared chat's next
    // epoch once a member's generation moved on, read again now): it waits for this device to
    // write in a newer one. Otherwise it was refused only for coming after such an upload, and
    // goes again as it is.
    const stale = sealedEpoch(refused.blob) ?? 0
    await this.codec.refresh(docId)
    let first = stale < this.codec.latestEpoch(docId)
    for (const entry of this.uploads.outbox().filter(e => e.docId === docId && e.uploadId >= refused.uploadId)) {
      if (this.uploads.stopped()) return
      const own = sealedEpoch(entry.blob) ?? 0
      // the stale one waits for a newer generation; the ones after it only need to be as new
      if (first || own < (this.codec.writeEpoch(docId) ?? 0)) {
        const { update, reach } = await this.codec.decode(docId, entry.blob)
        const blob = await this.codec.encode(docId, update, reach, { minEpoch: first ? stale + 1 : 0 })
        if (!this.uploads.outbox().includes(entry)) continue // acked meanwhile (another relay's copy of the state)
        entry.blob = blob
        await this.saver.persist(docId, [entry])
      }
      first = false
    }
    // every upload of the doc not acked yet, in order, now that none waits (anything cut meanwhile
    // is among them; one the relay already holds, byte for byte, it stores once; one refused while
    // the doc was held comes back refused, and is sealed again then)
    if (this.holds.isDenied(docId)) return
    for (const entry of this.uploads.outbox()) if (entry.docId === docId) this.uploads.send(entry)
  }
}
