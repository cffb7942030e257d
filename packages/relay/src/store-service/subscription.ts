import { MAX_NOTICES, StoreCorruptError, type EntryNotice, type StoreFrame } from '@tandem/protocol'
import type { HistoryBackend } from '../history/backend.js'
import type { LogEntry } from '../history/records.js'
import type { RelayMetrics } from '../metrics.js'
import type { RelayTimers } from '../timers.js'

/** How many log entries a pump reads from the index per step. */
const BATCH = 64

/** Live blobs remembered until their entry commits; one that never does (a refused or repeated upload) ages out. */
const MAX_LIVE_PENDING = 1024

/**
 * Notices of entries a subscriber has without their bytes (its own uploads, blobs it got
 * live) wait this long for company once its pump is idle: one frame then names many. Each
 * went in a frame of its own, and a chat's every message cost the sender an `echo` and
 * every other member a `committed` frame, each a write, a read and a cursor update.
 */
const NOTICE_DELAY_MS = 50
// ...except a notice of a blob another device of the subscriber's own account sent live: that
// notice is when the subscriber may show the message "sent" (the relay holds it), and a
// delivered tick that came meanwhile waits for that step (bench `people`: delivered on the
// author's other device came 300 ms after the receipt). Those go at the pump's next turn.

/**
 * Which of a subscriber's own uploads it gets as bytes; the rest go as echoes (a notice, no bytes):
 * - `echoed`: none (`subscribe`);
 * - `backfill`: those up to the doc's head when the subscription began (`resume`: a device that
 *   starts after a crash; its upload does not wait for its own disk, so the crash may have taken a
 *   write the relay holds, and its peers leave to the relay what the relay carries — chaos seed
 *   194808270: the author lacked for good a message its other device showed);
 * - `refetch`: every one until `caught-up` (`refetch`: a device repairing a damaged store).
 */
export type OwnUploads = 'echoed' | 'backfill' | 'refetch'

/**
 * Streams one doc's log to one subscribed device, reading from the store as
 * it goes: the snapshot if it covers more than the device has, every later
 * entry in seq order, `caught-up`, then live entries as they commit. Entries the device
 * has without their bytes — its own uploads, blobs it was sent live — go as `notices`,
 * several to a frame (see NOTICE_DELAY_MS), always before the next frame of the doc.
 * Each send waits for the stream's backpressure, so a slow device slows its own
 * pump and nothing piles up in memory.
 */
export class Subscription {
  private stopped = false
  private dirty = true
  private wakeUp: (() => void) | null = null
  private caughtUp = false
  /** The doc's head when the subscription began (see OwnUploads). */
  private backfillHead = 0
  /** Uploads sent live, by upload key: their entry goes out as a notice, without the bytes. */
  private readonly liveSent = new Map<string, number>()
  /** Of those, the ones another device of the subscriber's account sent (their notices do not wait). */
  private readonly ownAccountLive = new Set<string>()
  /** A notice waiting is of one of those. */
  private noticeDueNow = false
  private notices: EntryNotice[] = []
  private noticeTimer: unknown = null
  /** The notice delay is over: the pump sends them on its next turn. */
  private noticesDue = false
  /**
   * The part the last plan found missing. A snapshot that dropped an entry makes the next
   * plan send the snapshot instead; a plan that misses the same part twice reads a log that
   * names bytes the store no longer has, and ends with ERR_STORE_CORRUPT instead of looping.
   */
  private missing: string | null = null

  constructor(
    readonly docId: string,
    private sent: number,
    private readonly peerId: string,
    /** Which of the subscriber's own uploads go as bytes rather than as echoes. */
    private readonly own: OwnUploads,
    private readonly history: HistoryBackend,
    private readonly metrics: RelayMetrics,
    private readonly send: (frame: StoreFrame) => Promise<void>,
    private readonly timers: RelayTimers
  ) {}

  /** A new entry committed for this doc. */
  wake(): void {
    this.dirty = true
    this.wakeUp?.()
  }

  /**
   * Records a blob about to be sent live (before it is durable) under `liveId`; false when
   * this subscriber must get it as a `blob` after its commit instead: still catching up.
   */
  takeLive(uploadKey: string, liveId: number, ownAccount = false): boolean {
    if (!this.caughtUp || this.stopped) return false
    if (this.liveSent.size >= MAX_LIVE_PENDING) {
      const oldest = this.liveSent.keys().next().value!
      this.liveSent.delete(oldest)
      this.ownAccountLive.delete(oldest)
    }
    this.liveSent.set(uploadKey, liveId)
    if (ownAccount) this.ownAccountLive.add(uploadKey)
    return true
  }

  stop(): void {
    this.stopped = true
    this.cancelNoticeTimer()
    this.wakeUp?.()
  }

  async run(): Promise<void> {
    if (this.stopped) return // replaced or unsubscribed before it started
    const backlog = await this.history.backlog(this.docId, this.sent)
    this.backfillHead = backlog.head
    await this.send({ type: 'subscribed', docId: this.docId, head: backlog.head, entries: backlog.entries, bytes: backlog.bytes })
    while (!this.stopped) {
      if (!this.dirty) {
        if (this.noticeDueNow) {
          await this.sendNotices()
          continue
        }
        // (a timer only wakes the pump: a notice must not land between the chunks of a blob)
        if (this.notices.length > 0 && this.noticeTimer === null) {
          this.noticeTimer = this.timers.setTimeout(() => {
            this.noticeTimer = null
            this.noticesDue = true
            this.wake()
          }, NOTICE_DELAY_MS)
        }
        await new Promise<void>(resolve => {
          this.wakeUp = resolve
        })
        this.wakeUp = null
        continue
      }
      this.dirty = false
      if (this.noticesDue) await this.sendNotices()
      const progressed = await this.step()
      if (progressed) {
        this.dirty = true
        continue
      }
      if (!this.caughtUp && !this.stopped) {
        this.caughtUp = true
        await this.sendNotices()
        await this.send({ type: 'caught-up', docId: this.docId, head: this.sent })
      }
    }
  }

  /** Sends what follows `sent`; false when there is nothing more right now. */
  private async step(): Promise<boolean> {
    const meta = await this.history.meta(this.docId)
    if (meta === null) return false
    const snap = meta.snapshot
    if (snap !== null && snap.covers > this.sent) {
      await this.sendNotices()
      if (!(await this.sendParts(snap.upload, snap.parts, (chunk, final) => ({ type: 'snapshot-data', docId: this.docId, covers: snap.covers, final, chunk })))) return true
      this.sent = snap.covers
      this.metrics.backfillBytes.inc(snap.size)
      return true
    }
    // live entries come from memory; a subscriber further behind reads the disk
    const entries: Array<{ entry: LogEntry; chunks?: readonly Uint8Array[] }> =
      this.history.tailAfter(this.docId, this.sent, BATCH) ?? (await this.history.entriesAfter(this.docId, this.sent, BATCH)).map(entry => ({ entry }))
    for (const { entry: e, chunks } of entries) {
      if (this.stopped) return false
      const liveId = this.liveSent.get(e.upload)
      const echo = e.uploader === this.peerId && (this.caughtUp || this.own === 'echoed' || (this.own === 'backfill' && e.seq > this.backfillHead))
      if (echo || liveId !== undefined) {
        this.liveSent.delete(e.upload)
        if (this.ownAccountLive.delete(e.upload)) this.noticeDueNow = true
        this.notices.push({ seq: e.seq, liveId: echo ? 0 : liveId! })
        if (this.notices.length >= MAX_NOTICES) await this.sendNotices()
      } else {
        await this.sendNotices()
        // a snapshot may drop an entry between reading the index and its parts: re-plan
        if (!(await this.sendParts(e.upload, e.parts, (chunk, final) => ({ type: 'blob', docId: this.docId, seq: e.seq, final, chunk }), chunks))) return true
        this.metrics.backfillBytes.inc(e.size)
      }
      this.sent = e.seq
    }
    return entries.length > 0
  }

  private cancelNoticeTimer(): void {
    if (this.noticeTimer !== null) this.timers.clearTimeout(this.noticeTimer)
    this.noticeTimer = null
  }

  private async sendNotices(): Promise<void> {
    this.cancelNoticeTimer()
    this.noticesDue = false
    this.noticeDueNow = false
    if (this.notices.length === 0) return
    const entries = this.notices
    this.notices = []
    await this.send({ type: 'notices', docId: this.docId, entries })
  }

  private async sendParts(upload: string, parts: number, frame: (chunk: Uint8Array, final: boolean) => StoreFrame, cached?: readonly Uint8Array[]): Promise<boolean> {
    const count = Math.max(parts, 1)
    for (let n = 0; n < count; n++) {
      const chunk = parts === 0 ? new Uint8Array(0) : (cached?.[n] ?? (await this.history.readPart(upload, n)))
      if (chunk === undefined) {
        const part = `${upload}/${n}`
        if (this.missing === part) throw new StoreCorruptError(`the relay's log of ${this.docId} names part ${n} of upload ${upload}, which its store does not hold`)
        this.missing = part
        return false
      }
      this.missing = null
      await this.send(frame(chunk, n === count - 1))
    }
    return true
  }
}
