import type { TandemError } from '@tandem/protocol'
import type { LogSize } from '@tandem/storage'
import * as Y from 'yjs'
import type { Runtime } from '../runtime.js'
import { BurstBatcher } from '../util/burst-batcher.js'
import type { RelayClientEvents, RelayClientHost } from './relay-client-host.js'
import type { RelayConnection } from './relay-connection.js'
import type { OutboxEntry, RelayState } from './relay-state.js'
import type { RelayStateSaver } from './relay-state-saver.js'
import { mergeSv, type StateVector } from './state-vector.js'
import { SnapshotPolicy } from './snapshot-policy.js'
import { GraceUploads } from './grace-uploads.js'
import { OutboxReseal } from './outbox-reseal.js'
import { UploadHolds } from './upload-holds.js'
import { UploadCutter, type Cut } from './upload-cutter.js'

export type RelayUploaderHost = Pick<RelayClientHost, 'codec' | 'get' | 'membership' | 'foreignWriters'> & { readonly chain: { readonly accountId: string } }
export type RelayUploaderEvents = Pick<RelayClientEvents, 'onAcked' | 'onError'>

/**
 * The writing half of a relay client: uploads what the relay lacks (our own writes at
 * once, peers' after a grace period; see UploadCutter) through a persistent outbox, resent
 * byte-identical until acked so the relay stores each exactly once; takes the relay's acks;
 * and uploads a snapshot when the {@link SnapshotPolicy} says so.
 */
export class RelayUploader {
  private outbox: OutboxEntry[] = []
  /** The connection the outbox was last sent again on (see sendable). */
  private resentOn: RelayConnection | null = null
  /** Docs whose writes do not go now, and why (see UploadHolds). */
  readonly holds = new UploadHolds()
  /** Peers' content the relay may lack, uploaded once a grace period is over. */
  private readonly grace: GraceUploads
  private nextUploadId = 1
  private readonly cutter = new UploadCutter()
  private readonly snapshots = new SnapshotPolicy()
  private readonly resealer: OutboxReseal
  /**
   * Our own writes go up in one upload per burst. The first write after a quiet spell goes
   * up at once, without waiting for the end of its burst (latency: the relay passes it on
   * to the other devices the moment it arrives); the rest of the burst at its end. A flush
   * under way would only queue it: then the whole burst goes at its end.
   */
  private readonly ownWrites = new BurstBatcher<string, null>(
    fn => {
      this.runtime.defer(fn)
    },
    {
      now: docId => {
        if (this.flushesRunning > 0) return false
        void this.flush(docId, false).catch(this.report)
      },
      end: (docId, _, firstWentNow) => {
        if (this.stopped) return
        // (a flush with nothing collected would cut the whole doc to find nothing)
        if (!firstWentNow || this.cutter.has(docId)) void this.flush(docId, false).catch(this.report)
      }
    }
  )

  /**
   * Per doc, entries the relay acked while an earlier entry of the doc is still in the
   * outbox: their state counts as acked once every earlier one is (in memory: after a
   * restart the next ack of a later entry, whose state includes theirs, makes up for it).
   */
  private readonly ackedAhead = new Map<string, Array<{ uploadId: number; sv: StateVector }>>()

  private flushing: Promise<void> = Promise.resolve()
  /** Flushes queued or under way. */
  private flushesRunning = 0
  private stopped = false
  /** Callers of {@link settle} waiting. */
  private readonly settleWaiters = new Set<() => void>()
  private readonly report = (err: unknown): void => {
    this.events.onError(err as TandemError)
  }

  constructor(
    private readonly host: RelayUploaderHost,
    private readonly state: RelayState,
    private readonly saver: RelayStateSaver,
    private readonly runtime: Runtime,
    /** The open connection to the relay, if any. */
    private readonly connection: () => RelayConnection | null,
    private readonly events: RelayUploaderEvents
  ) {
    this.resealer = new OutboxReseal(host.codec, saver, this.holds, {
      outbox: () => this.outbox,
      stopped: () => this.stopped,
      send: entry => this.sendable()?.upload(entry.docId, entry.uploadId, entry.blob),
      report: this.report
    })
    this.grace = new GraceUploads(
      runtime,
      () => this.connection() !== null,
      docId => {
        if (!this.stopped) void this.flush(docId, true).catch(this.report)
      }
    )
  }

  /** Takes the outbox as it was on disk. */
  loaded(outbox: OutboxEntry[]): void {
    this.outbox = outbox
    for (const e of this.outbox) this.nextUploadId = Math.max(this.nextUploadId, e.uploadId + 1)
  }

  /** Blobs still waiting for the relay's ack. */
  get pending(): number {
    return this.outbox.length
  }

  /** The relay refused an upload as stale (ERR_STALE_EPOCH): the doc's uploads from it on are sealed again and sent, in order (see OutboxReseal). */
  reseal(uploadId: number): void {
    this.resealer.reseal(uploadId)
  }

  /**
   * Whether this account was removed from the chat `docId` belongs to: the record it is served
   * under (the newest this device holds) leaves the account out, so the relay refuses its
   * uploads for good. Nothing of it is cut or sent any more (see discardLeft).
   */
  isLeft(docId: string): boolean {
    const record = this.host.membership(docId)
    return record !== null && !record.members.includes(this.host.chain.accountId)
  }

  /**
   * The relay refused an upload of a chat this account was removed from: it holds none of it
   * and never will, so the upload leaves the outbox (on disk too) instead of waiting for an
   * ack that never comes; the text stays in the docs on this device, and its messages show
   * `failed` once nothing of the doc waits (SentTracker). An upload the relay took before the
   * removal is acked as any other: only the relay's answer says which.
   */
  async discardRefused(uploadId: number): Promise<void> {
    const entry = this.outbox.find(e => e.uploadId === uploadId)
    if (entry === undefined || !this.isLeft(entry.docId)) return
    this.outbox = this.outbox.filter(e => e !== entry)
    const docId = entry.docId
    this.holds.undeny(docId)
    // (what was acked ahead of it counts now: nothing before it waits any more)
    const st = this.state.doc(docId)
    this.countAckedAhead(docId)
    await this.saver.persist(docId, [], [entry])
    this.events.onAcked(docId, st.ackedDurable)
    this.checkSettled()
  }

  /** Whether an upload of the doc waits for the relay's answer. */
  awaitsAnswer(docId: string): boolean {
    return this.outbox.some(e => e.docId === docId)
  }

  /** This account learnt it was removed from a chat: what its docs hold in the outbox goes (again) for the relay's answer. */
  chatLeft(): void {
    for (const docId of this.holds.deniedIds()) if (this.isLeft(docId)) this.holds.undeny(docId)
    for (const e of this.outbox) if (this.isLeft(e.docId) && this.holds.goes(e.docId)) this.sendable()?.upload(e.docId, e.uploadId, e.blob)
  }

  /** Something changed that may allow the denied docs (the device chain, a chat's membership): their uploads go again. */
  allowDenied(): void {
    const docs = this.holds.allowDenied()
    for (const e of this.outbox) if (docs.has(e.docId) && this.holds.goes(e.docId)) this.sendable()?.upload(e.docId, e.uploadId, e.blob)
  }

  /** The outbox's blobs of a doc, oldest first. */
  waiting(docId: string): OutboxEntry[] {
    return this.outbox.filter(e => e.docId === docId)
  }

  /**
   * Nothing of `doc` this device wrote waits to go to the relay (no own write collected, no
   * live blob awaiting its notice) and every clock of the doc is within what the relay's log
   * holds or the outbox carries. A peer's content in its grace period counts as held once
   * its clocks are: its author uploads it too, and the doc's next open flushes it again.
   */
  holdsAll(docId: string, doc: Y.Doc): boolean {
    if (this.cutter.has(docId) || this.grace.watching(docId)) return false
    const uploaded = this.state.doc(docId).uploaded
    for (const client of doc.store.clients.keys()) if ((uploaded.get(client) ?? 0) < Y.getState(doc.store, client)) return false
    return true
  }

  /** An update of one of our own transactions: it goes up with its burst. */
  ownWrite(docId: string, update: Uint8Array, transaction?: Y.Transaction): void {
    this.snapshots.wrote(docId)
    this.cutter.collect(docId, update, transaction)
    this.scheduleFlush(docId)
  }

  /** Uploads our own writes the relay lacks, at the end of the current burst (or at once after a quiet spell). */
  scheduleFlush(docId: string): void {
    if (!this.stopped) this.ownWrites.add(docId, null)
  }

  /** Uploads whatever the relay lacks (peers' content too) once the grace period is over (see GraceUploads). */
  scheduleGrace(docId: string): void {
    if (!this.stopped) this.grace.schedule(docId)
  }

  /** Another device's blob came live, before the relay made it durable (see GraceUploads.watchLive). */
  watchLive(docId: string, liveId: number, uncommitted: (liveIds: readonly number[]) => boolean): void {
    if (!this.stopped) this.grace.watchLive(docId, liveId, uncommitted)
  }

  /** A new connection: everything in the outbox goes again, byte-identical. */
  resend(conn: RelayConnection): void {
    for (const e of this.outbox) if (this.holds.goes(e.docId)) conn.upload(e.docId, e.uploadId, e.blob) // (a held doc's go once sealed again)
    this.resentOn = conn
  }

  /**
   * The connection new uploads may go on: only once the outbox went again on it, so that a
   * doc's uploads reach the relay in the order they were cut (an upload cut while the
   * connection was being set up went out before older ones: simulator seed 20261516).
   */
  private sendable(): RelayConnection | null {
    const conn = this.connection()
    return conn !== null && conn === this.resentOn ? conn : null
  }

  /**
   * Cuts the diff the relay lacks into an outbox entry (persisted), then sends it if
   * connected. Unless `all`, only this session's own writes (the doc's client id).
   */
  flush(docId: string, all: boolean): Promise<void> {
    // one at a time: a diff is cut against `uploaded`, which only the previous flush's entry (once in the outbox) may raise
    this.flushesRunning++
    const run = this.flushing
      .then(() => this.flushNow(docId, all))
      .finally(() => {
        this.flushesRunning--
        this.checkSettled()
      })
    this.flushing = run.catch(() => {})
    return run
  }

  async acked(docId: string, uploadId: number, seq: number, tail: LogSize): Promise<void> {
    if (this.snapshots.snapshotAcked(uploadId, docId, seq, tail)) {
      this.snapshotIfDue(docId)
      this.checkSettled()
      return
    }
    this.snapshots.relaySnapshotSize(docId, tail.snapshotBytes)
    const i = this.outbox.findIndex(e => e.uploadId === uploadId)
    if (i < 0) return
    const [entry] = this.outbox.splice(i, 1)
    const st = this.state.doc(docId)
    // An entry's sv is everything uploaded when it was cut, its predecessors' items too: the
    // relay holds that only once every earlier entry of the doc is in as well. An entry acked
    // ahead of one still out (refused, or lost in a relay's crash and not yet sent again)
    // waits; counting it at once reported messages "sent" that the relay never got (seed 20261547).
    this.ackedAhead.set(docId, [...(this.ackedAhead.get(docId) ?? []), { uploadId, sv: entry!.sv }])
    const grew = this.countAckedAhead(docId)
    await this.saver.persist(docId, [], [entry!])
    if (grew) this.events.onAcked(docId, st.ackedDurable)
    this.snapshots.appendAcked(docId, seq, entry!.blob.byteLength, tail)
    this.snapshotIfDue(docId)
    this.checkSettled()
  }

  /** The acks of the doc's entries with none still out before them count now (the rest wait); true when `acked` grew. */
  private countAckedAhead(docId: string): boolean {
    const st = this.state.doc(docId)
    const firstOut = this.outbox.find(e => e.docId === docId)?.uploadId ?? Number.POSITIVE_INFINITY
    const ahead = this.ackedAhead.get(docId) ?? []
    let grew = false
    for (const a of ahead) if (a.uploadId < firstOut) grew = mergeSv(st.acked, a.sv) || grew
    const waiting = ahead.filter(a => a.uploadId > firstOut)
    if (waiting.length > 0) this.ackedAhead.set(docId, waiting)
    else this.ackedAhead.delete(docId)
    return grew
  }

  /** The relay refused upload `uploadId` (0: not about an upload). */
  refused(uploadId: number): void {
    this.snapshots.dropped(uploadId)
    this.checkSettled()
  }

  /** Uploads a snapshot of the doc if one is due now (see {@link SnapshotPolicy.due}). */
  snapshotIfDue(docId: string): void {
    if (this.snapshots.due(docId, this.state.doc(docId).cursor, this.outbox)) this.snapshot(docId)
  }

  /** The connection is gone, and with it every snapshot on its way. */
  disconnected(): void {
    this.snapshots.connectionLost()
    this.checkSettled()
  }

  /**
   * Resolves once nothing of ours is on its way to the relay — no upload waiting for its
   * ack, no snapshot advised or under way — or the connection is gone, or after
   * `timeoutMs`. A device that quits right after its last message otherwise cut off the
   * snapshot it had just started, and left the relay a log where a snapshot belonged.
   */
  settle(timeoutMs: number): Promise<void> {
    if (this.settled) return Promise.resolve()
    return new Promise(resolve => {
      const done = (): void => {
        this.runtime.clearTimeout(timer)
        this.settleWaiters.delete(done)
        resolve()
      }
      const timer = this.runtime.setTimeout(done, timeoutMs)
      this.settleWaiters.add(done)
    })
  }

  /** Nothing is flushed or uploaded from now on. */
  stop(): void {
    this.stopped = true
    this.grace.stop()
  }

  /**
   * Nothing of ours on its way: no write waiting for its burst to end, none being cut or
   * sealed (sealing is asynchronous), no outbox entry unacked, no snapshot under way. (Found:
   * `stop()` right after a send returned before that send was even in the outbox.)
   */
  private get settled(): boolean {
    return this.connection() === null || (this.outbox.length === 0 && this.snapshots.settled && this.flushesRunning === 0 && !this.ownWrites.pending)
  }

  private checkSettled(): void {
    if (this.settleWaiters.size > 0 && this.settled) for (const done of [...this.settleWaiters]) done()
  }

  private async flushNow(docId: string, all: boolean): Promise<void> {
    const doc = this.host.get(docId)
    if (doc === undefined) return
    if (!this.host.codec.sealable(docId)) {
      // (collected, not cut, until the keys change: see UploadHolds)
      this.holds.park(
        docId,
        all,
        () => this.host.codec.keysChange(),
        again => {
          if (!this.stopped) void this.flush(docId, again).catch(this.report)
        }
      )
      return
    }
    const cut = this.cutter.cut(docId, doc, this.state.doc(docId).uploaded, all, update => this.host.foreignWriters?.(docId, doc, update))
    // (a chat this account was removed from: the relay takes nothing of it, so nothing waits for it;
    // `uploaded` stays, so that the account's writes go up if it is added again)
    if (cut !== null && !this.isLeft(docId)) await this.commitUpload(docId, cut)
  }

  /** Seals an update into an outbox entry (persisted), then sends it if connected. */
  private async commitUpload(docId: string, cut: Cut): Promise<void> {
    const st = this.state.doc(docId)
    const blob = await this.host.codec.encode(docId, cut.update, cut.reach)
    const entry: OutboxEntry = { uploadId: this.nextUploadId++, docId, blob, sv: cut.uploaded }
    mergeSv(st.uploaded, cut.uploaded)
    this.outbox.push(entry)
    // queued before it is sent, so the relay's ack can only remove it after it is stored;
    // not awaited first: the relay passes it on to live subscribers on arrival (latency)
    const saved = this.saver.persist(docId, [entry])
    if (this.holds.goes(docId)) this.sendable()?.upload(docId, entry.uploadId, blob) // (held: it goes after the one sealed again)
    await saved
  }

  private snapshot(docId: string): void {
    const st = this.state.doc(docId)
    const doc = this.host.get(docId)
    const conn = this.connection()
    if (conn === null || doc === undefined || st.cursor < 1 || this.snapshots.isUnderWay(docId)) return
    const uploadId = this.nextUploadId++
    const covers = st.cursor
    this.snapshots.started(docId, uploadId)
    void this.host.codec.encode(docId, Y.encodeStateAsUpdate(doc), Y.decodeStateVector(Y.encodeStateVector(doc)), { dense: true }).then(
      blob => {
        if (this.connection() === conn && this.snapshots.isSnapshot(uploadId)) conn.upload(docId, uploadId, blob, covers)
      },
      err => {
        this.snapshots.dropped(uploadId)
        this.checkSettled()
        this.events.onError(err as TandemError)
      }
    )
  }
}
