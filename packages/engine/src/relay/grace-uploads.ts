import type { Runtime } from '../runtime.js'

/**
 * Content learned from a peer is uploaded only if the relay still lacks it after this
 * long: the device that wrote it normally uploads it itself, and the relay then sends it
 * to us, which makes our diff empty. (Uploading at once made every LAN-learned update a
 * second, duplicate append on the relay.)
 */
export const PEER_UPLOAD_GRACE_MS = 2_000

/**
 * What this device uploads for others, once {@link PEER_UPLOAD_GRACE_MS} is over: what a peer
 * brought, and another device's live blob whose notice never came. One timer per doc, whatever
 * the traffic; `flush` uploads whatever the relay lacks of the doc (peers' content too).
 */
export class GraceUploads {
  /** Docs with a peer-content upload waiting out the grace period. */
  private readonly timers = new Map<string, unknown>()
  /** Per doc, live blobs applied whose notices are checked for once the grace period is over. */
  private readonly liveWatches = new Map<string, { ids: number[]; timer: unknown }>()

  constructor(
    private readonly runtime: Pick<Runtime, 'setTimeout' | 'clearTimeout'>,
    private readonly connected: () => boolean,
    private readonly flush: (docId: string) => void
  ) {}

  /** Uploads whatever the relay lacks of the doc once the grace period is over (if connected then: the next connection schedules it again). */
  schedule(docId: string): void {
    if (this.timers.has(docId)) return
    this.timers.set(
      docId,
      this.runtime.setTimeout(() => {
        this.timers.delete(docId)
        if (this.connected()) this.flush(docId)
      }, PEER_UPLOAD_GRACE_MS)
    )
  }

  /**
   * Another device's blob came live, before the relay made it durable. If its notice has not
   * come after the grace period, the relay may never store it (it refused the commit: its
   * author was revoked meanwhile, or sealed it in an old generation) and its author may never
   * send it again (revoked devices erase themselves): this device uploads what the relay lacks,
   * as it does for what a peer brought. (The simulator, seed 20262021: a message shown
   * everywhere and never sent.) Only what its own account wrote: another account's writers are
   * left out of the cut (UploadCutter.cut), their author's outbox sends them again.
   */
  watchLive(docId: string, liveId: number, uncommitted: (liveIds: readonly number[]) => boolean): void {
    const watch = this.liveWatches.get(docId)
    if (watch !== undefined) {
      watch.ids.push(liveId)
      return
    }
    const ids = [liveId]
    const timer = this.runtime.setTimeout(() => {
      this.liveWatches.delete(docId)
      // (disconnected meanwhile: the outbox keeps it for the next connection)
      if (uncommitted(ids)) this.flush(docId)
    }, PEER_UPLOAD_GRACE_MS)
    this.liveWatches.set(docId, { ids, timer })
  }

  /** Live blobs of the doc are being watched. */
  watching(docId: string): boolean {
    return this.liveWatches.has(docId)
  }

  stop(): void {
    for (const t of this.timers.values()) this.runtime.clearTimeout(t)
    this.timers.clear()
    for (const w of this.liveWatches.values()) this.runtime.clearTimeout(w.timer)
    this.liveWatches.clear()
  }
}
