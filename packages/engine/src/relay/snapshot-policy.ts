import { parseDocId, segmentDocId } from '@tandem/protocol'
import { compactionDue, type CompactionLimits, type LogSize } from '@tandem/storage'

/** Upload a snapshot once the relay's log after its newest one is this long (see compactionDue). */
export const RELAY_SNAPSHOT_LIMITS: CompactionLimits = { entries: 500, bytes: 4 * 1024 * 1024 }

/**
 * The same for the docs a new device must hold before it shows anything: the account doc (the
 * chat list) and a chat's own doc (its title and segment index). A new device waits until the
 * relay has sent all of them, and each log entry costs it ~0.7 ms (a frame, a signature, a
 * decryption, a Yjs apply): the writer of a 1M-message chat left its index as 495 entries
 * (93 KB), 340 of the 560 ms to the first screen (bench/README.md, issue 15). compactionDue
 * still waits for the tail to reach a quarter of the snapshot's bytes, so a big doc is not
 * uploaded whole every few writes.
 */
export const RELAY_SNAPSHOT_LIMITS_FIRST_READ: CompactionLimits = { entries: 32, bytes: RELAY_SNAPSHOT_LIMITS.bytes }

/** The snapshot limits of `docId`: tighter for the docs read before a first screen. */
export function relaySnapshotLimits(docId: string): CompactionLimits {
  const kind = parseDocId(docId)?.kind
  return kind === 'account' || kind === 'chat' ? RELAY_SNAPSHOT_LIMITS_FIRST_READ : RELAY_SNAPSHOT_LIMITS
}

/**
 * At most this much of our own uploads may be in flight when a snapshot is cut (it would be
 * stored twice): 256 KiB, or an eighth of the relay's snapshot of the doc if that is more.
 * (A fixed 256 KiB starved a long chat written without pause: its uploads always had more
 * in flight, and a 1M-message history was left as one early snapshot and 3,000 entries.)
 */
export const SNAPSHOT_MAX_IN_FLIGHT = 256 * 1024
export const SNAPSHOT_IN_FLIGHT_SHARE = 1 / 8

/** What the policy needs of an outbox entry: whose it is and how big. */
export interface PendingUpload {
  readonly docId: string
  readonly blob: Uint8Array
}

/**
 * When this device cuts a snapshot of a doc for one relay: the relay advises one in its
 * acks (its log after its snapshot has grown long), and the snapshot is cut once our cursor
 * has reached the advice, little of ours is in flight, and no other snapshot of the doc is
 * under way. Data and decisions only, no I/O: the relay client tells it what happened and
 * asks it what to do.
 */
export class SnapshotPolicy {
  /** Per doc, the relay advised a snapshot at this seq: taken once we have caught up to it. */
  private readonly advisedAt = new Map<string, number>()
  /** Per doc, the size of the relay's snapshot, from its last ack. */
  private readonly relaySnapshotBytes = new Map<string, number>()
  /** Per doc, our acked uploads the cursor has not reached yet (a snapshot would hold them twice). */
  private readonly ackedAhead = new Map<string, Array<{ seq: number; bytes: number }>>()
  /** Our snapshots on their way, by upload id. */
  private readonly underWay = new Map<number, string>()
  /** Per chat, the newest segment this device wrote in since it started. */
  private readonly writingIn = new Map<string, number>()
  /** Segments full since (see wrote): a snapshot once our last upload of each is acked. */
  private readonly full = new Set<string>()
  /** Per segment, our last append acked: its seq, and the entries of the relay's log after its snapshot then. */
  private readonly lastAck = new Map<string, { seq: number; entries: number }>()

  /** Nothing advised and no snapshot on its way. */
  get settled(): boolean {
    return this.underWay.size === 0 && this.advisedAt.size === 0
  }

  /** An ack of one of our appends told the size of the relay's snapshot of the doc. */
  relaySnapshotSize(docId: string, bytes: number): void {
    this.relaySnapshotBytes.set(docId, bytes)
  }

  /** The relay holds our append of `bytes` as entry `seq`; `tail` is its log after its snapshot. */
  appendAcked(docId: string, seq: number, bytes: number, tail: LogSize): void {
    let ahead = this.ackedAhead.get(docId)
    if (ahead === undefined) {
      ahead = []
      this.ackedAhead.set(docId, ahead)
    }
    ahead.push({ seq, bytes })
    if (!this.advisedAt.has(docId) && compactionDue(tail, relaySnapshotLimits(docId))) this.advisedAt.set(docId, seq)
    if (this.full.has(docId)) this.adviseFull(docId, seq, tail.entries)
    else if (parseDocId(docId)?.kind === 'segment') this.lastAck.set(docId, { seq, entries: tail.entries })
  }

  /**
   * This device writes in `docId`. Its first write in segment n of a chat after one in n − 1
   * says n − 1 is full (a new message goes to the newest segment, and a segment is started
   * once the one before holds a segment's worth): it gets a snapshot once our last upload of
   * it is acked, and the relay keeps one dense blob of it for every new device, instead of the
   * bursts it came in (each compressed alone, fast). Bench history, 100k messages seeded one at
   * a time: see bench/README.md (2026-12-07).
   */
  wrote(docId: string): void {
    const ref = parseDocId(docId)
    if (ref?.kind !== 'segment') return
    const before = this.writingIn.get(ref.chatId)
    if (before !== undefined && before >= ref.index) return
    this.writingIn.set(ref.chatId, ref.index)
    if (before !== ref.index - 1) return
    const closed = segmentDocId(ref.chatId, before)
    this.full.add(closed)
    const last = this.lastAck.get(closed)
    if (last !== undefined) this.adviseFull(closed, last.seq, last.entries)
  }

  /**
   * A full segment's log after the relay's snapshot holds `entries` after our ack at `seq`: any,
   * and a snapshot is advised there. One entry too: a segment written fast came as one or two
   * bursts, compressed for speed (bench history: 70 of 99 full segments were left so).
   */
  private adviseFull(docId: string, seq: number, entries: number): void {
    this.lastAck.delete(docId)
    if (entries >= 1) this.advisedAt.set(docId, Math.max(seq, this.advisedAt.get(docId) ?? 0))
  }

  /** Upload `uploadId` of `docId` acked as `seq`: true if it was our snapshot (then no longer under way). */
  snapshotAcked(uploadId: number, docId: string, seq: number, tail: LogSize): boolean {
    if (!this.underWay.delete(uploadId)) return false
    // advice taken while it was on its way predates it: this ack's hint is the relay's log now
    this.advisedAt.delete(docId)
    if (compactionDue(tail, relaySnapshotLimits(docId))) this.advisedAt.set(docId, seq)
    return true
  }

  /**
   * Whether to cut a snapshot of the doc now, given our cursor in the relay's log and our
   * uploads not yet acked (`outbox`); true takes the advice (a snapshot not cut after all
   * waits for the next one).
   *
   * A snapshot holds the whole doc but covers the log only up to our cursor: what is in
   * flight then (our uploads not yet acked, or acked but not yet echoed) ends up in the
   * relay twice — taken mid-burst, a 1M-message history came down at 130 B a message
   * instead of 66. So it waits until the cursor has reached our last ack and little of
   * ours is in flight (not nothing: a device that keeps writing must still compact).
   */
  due(docId: string, cursor: number, outbox: readonly PendingUpload[]): boolean {
    let ahead = this.ackedAhead.get(docId) ?? []
    if (ahead.length > 0 && ahead[0]!.seq <= cursor) {
      ahead = ahead.filter(a => a.seq > cursor)
      this.ackedAhead.set(docId, ahead)
    }
    const advisedAt = this.advisedAt.get(docId)
    if (advisedAt === undefined || cursor < advisedAt) return false
    // ours beyond the cursor: acked but not yet echoed, or not yet acked
    let inFlight = ahead.reduce((n, a) => n + a.bytes, 0)
    let queued = false
    for (const e of outbox)
      if (e.docId === docId) {
        inFlight += e.blob.byteLength
        queued = true
      }
    // a full segment's snapshot waits for all of ours: its last messages would be held twice
    if (queued && this.full.has(docId)) return false
    // one snapshot of a doc at a time; the advice waits for it (dropping it lost the last one of a burst)
    const maxInFlight = Math.max(SNAPSHOT_MAX_IN_FLIGHT, (this.relaySnapshotBytes.get(docId) ?? 0) * SNAPSHOT_IN_FLIGHT_SHARE)
    if (inFlight > maxInFlight || this.isUnderWay(docId)) return false
    this.advisedAt.delete(docId)
    this.full.delete(docId)
    return true
  }

  /** A snapshot of the doc is on its way as upload `uploadId`. */
  started(docId: string, uploadId: number): void {
    this.underWay.set(uploadId, docId)
  }

  /** Upload `uploadId` (if it was a snapshot) is no longer on its way: refused, or it could not be sealed. */
  dropped(uploadId: number): void {
    this.underWay.delete(uploadId)
  }

  /** Whether upload `uploadId` is one of our snapshots still on its way. */
  isSnapshot(uploadId: number): boolean {
    return this.underWay.has(uploadId)
  }

  /** Whether a snapshot of the doc is on its way. */
  isUnderWay(docId: string): boolean {
    for (const d of this.underWay.values()) if (d === docId) return true
    return false
  }

  /** The connection is gone, and with it every snapshot on its way (the advice stays). */
  connectionLost(): void {
    this.underWay.clear()
  }
}
