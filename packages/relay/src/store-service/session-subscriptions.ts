import { AccessDeniedError, StoreCorruptError, membershipDocOf } from '@tandem/protocol'
import type { StoreService } from './store-service.js'
import type { StoreSession } from './store-session.js'
import { type OwnUploads, Subscription } from './subscription.js'

/**
 * One store session's subscriptions: a Subscription per doc (backfill, then live entries), its
 * pump run so that a re-subscription's frames never interleave with the one it replaces, and
 * the live blobs of other devices' appends sent to the subscriptions keeping up.
 */
export class SessionSubscriptions {
  private readonly subs = new Map<string, Subscription>()
  /** Per doc, the run of its newest pump until it returns (a stopped pump still finishes the blob it is sending). */
  private readonly pumps = new Map<string, Promise<void>>()
  private nextLiveId = 1

  constructor(
    private readonly session: StoreSession,
    private readonly service: StoreService
  ) {}

  has(docId: string): boolean {
    return this.subs.has(docId)
  }

  get(docId: string): Subscription | undefined {
    return this.subs.get(docId)
  }

  docIds(): IterableIterator<string> {
    return this.subs.keys()
  }

  get size(): number {
    return this.subs.size
  }

  /** Starts (or replaces) a doc's subscription since `since`; `own` says which of this device's own uploads go as bytes. */
  start(docId: string, since: number, own: OwnUploads): void {
    const session = this.session
    this.subs.get(docId)?.stop()
    const sub = new Subscription(docId, since, session.peerId, own, this.service.history, this.service.metrics, f => session.send(f), this.service.timers)
    this.subs.set(docId, sub)
    this.service.subscribed(session, docId, true)
    // a re-subscription's pump starts once the previous one has returned: their frames must not interleave
    const running = (this.pumps.get(docId) ?? Promise.resolve())
      .catch(() => {})
      .then(async () => {
        await sub.run()
      })
    this.pumps.set(docId, running)
    void running.then(
      () => {
        if (this.pumps.get(docId) === running) this.pumps.delete(docId)
      },
      err => {
        if (this.pumps.get(docId) === running) this.pumps.delete(docId)
        // a doc the relay cannot read back is refused to this device; its other docs go on
        if (err instanceof StoreCorruptError && this.subs.get(docId) === sub) {
          this.service.storeCorrupt(docId, err)
          this.stop(docId)
          void this.session.docError(docId, 0, err).catch(() => {})
        } else session.fail(err)
      }
    )
  }

  /** Ends one doc's subscription (the device unsubscribed). */
  stop(docId: string): void {
    this.subs.get(docId)?.stop()
    this.subs.delete(docId)
    this.service.subscribed(this.session, docId, false)
  }

  stopAll(): void {
    for (const [docId, sub] of this.subs) {
      sub.stop()
      this.service.subscribed(this.session, docId, false)
    }
    this.subs.clear()
  }

  /**
   * The chat whose doc is `chatDocId` no longer has this session's account among its members:
   * its subscriptions to the chat's docs (segments too) end, each refused (ERR_ACCESS_DENIED),
   * so nothing written from the new record on reaches this device.
   */
  dropChat(chatDocId: string): void {
    for (const [docId, sub] of [...this.subs]) {
      if (membershipDocOf(docId) !== chatDocId) continue
      sub.stop()
      this.subs.delete(docId)
      this.service.subscribed(this.session, docId, false)
      void this.session.docError(docId, 0, new AccessDeniedError(`${docId} is no longer shared with account ${this.session.account}`))
    }
  }

  /** Numbers a live blob for a subscription that takes it (numbered per stream, not per subscription: a committed notice of a replaced one never matches); null when it does not. */
  takeLive(docId: string, uploadKey: string, ownAccount: boolean): number | null {
    const liveId = this.nextLiveId
    if (this.subs.get(docId)?.takeLive(uploadKey, liveId, ownAccount) !== true) return null
    this.nextLiveId++
    return liveId
  }
}
