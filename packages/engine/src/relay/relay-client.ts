import { MalformedFrameError, TandemError, type DeviceCertificate, type SignedDeviceList, type SignedMembership } from '@tandem/protocol'
import { compactionDue, type CompactionLimits, type LogSize } from '@tandem/storage'
import type { Link } from '@tandem/transport'
import * as Y from 'yjs'
import type { Runtime } from '../runtime.js'
import type { BlobCodec, DecodedBlob } from './blob-codec.js'
import { RelayConnection } from './relay-connection.js'
import type { OutboxEntry, RelayState } from './relay-state.js'
import { mergeSv, type StateVector } from './state-vector.js'
import { UploadCutter, type Cut } from './upload-cutter.js'

/** Origin of updates applied from a relay's stream: they are (or are about to be) in its log, never uploaded back. */
export class RelayOrigin {
  constructor (readonly relayId: string) {}
}

/** Live blobs whose commit notice has not come yet, per doc; older ones are forgotten first. */
const MAX_LIVE_PENDING = 1024

const RETRY_ON_RECONNECT = new Set(['ERR_ACCESS_DENIED', 'ERR_DEVICE_NOT_LISTED'])

/** Upload a snapshot once the relay's log after its newest one is this long (see compactionDue). */
const RELAY_SNAPSHOT_LIMITS: CompactionLimits = { entries: 500, bytes: 4 * 1024 * 1024 }

/**
 * At most this much of our own uploads may be in flight when a snapshot is cut (it would be
 * stored twice): 256 KiB, or an eighth of the relay's snapshot of the doc if that is more.
 * (A fixed 256 KiB starved a long chat written without pause: its uploads always had more
 * in flight, and a 1M-message history was left as one early snapshot and 3,000 entries.)
 */
const SNAPSHOT_MAX_IN_FLIGHT = 256 * 1024
const SNAPSHOT_IN_FLIGHT_SHARE = 1 / 8

/**
 * Content learned from a peer is uploaded only if the relay still lacks it after this
 * long: the device that wrote it normally uploads it itself, and the relay then sends it
 * to us, which makes our diff empty. (Uploading at once made every LAN-learned update a
 * second, duplicate append on the relay.)
 */
export const PEER_UPLOAD_GRACE_MS = 2_000

/**
 * A doc's cursor alone (no new "sent" status in it) is saved at most this often. A crash
 * loses only where we were in the relay's log, and the next start fetches those entries
 * again (applying them twice is harmless); saving it at once cost every message received,
 * and every echo of our own, a disk write of its own.
 */
export const CURSOR_SAVE_MS = 250

/** Where a doc change came from: ours, a peer's session, or the relay's log. */
export type ChangeSource = 'local' | 'peer' | 'relay'

export interface RelayClientHost {
  readonly certificate: DeviceCertificate
  /** Seals updates into blobs and opens them (the platform's compression). */
  readonly codec: BlobCodec
  /** The newest signed device list this device has (signed anew if it lacks a device). */
  deviceList(): SignedDeviceList
  /** Merges the relay's list with ours; returns a successor to upload when ours knows more. */
  mergeDeviceList(remote: SignedDeviceList | null): SignedDeviceList | null
  /** The membership record a chat doc is served under (null for account docs). */
  membership(docId: string): SignedMembership | null
  /** Docs to keep in sync with the relay. */
  docIds(): string[]
  open(docId: string): Promise<Y.Doc>
  get(docId: string): Y.Doc | undefined
  /** Applies a relay's update to an open doc (and persists it). */
  apply(docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown): void
  /** Messages of ours in this doc are waiting to be reported "sent". */
  awaitsAck(docId: string): boolean
}

export interface RelayProgress {
  relay: string
  entriesDone: number
  entriesTotal: number
  bytesDone: number
  bytesTotal: number
  /** Every subscribed doc has reached the relay's head. */
  caughtUp: boolean
}

export interface RelayClientEvents {
  /** The relay acknowledged more of a doc: messages inside `acked` are now "sent". */
  onAcked(docId: string, acked: StateVector): void
  onProgress(progress: RelayProgress): void
  /** The relay became live for every doc we keep there (subscribed and caught up), or stopped being. */
  onLive(relay: string, live: boolean): void
  onConnection(relay: string, connected: boolean, error?: Error): void
  onError(error: TandemError): void
  onEphemeral(docId: string, from: string, payload: Uint8Array): void
}

/**
 * Keeps this device's docs in one relay's log: subscribes to every doc since
 * its cursor and applies what comes, and uploads what the relay lacks (its own
 * writes at once, peers' after a grace period; see UploadCutter). Uploads go
 * through a persistent outbox and are resent byte-identical
 * until acked, so the relay stores each exactly once.
 */
export class RelayClient {
  private conn: RelayConnection | null = null
  private outbox: OutboxEntry[] = []
  private nextUploadId = 1
  /** Docs with a flush scheduled for the end of the current burst. */
  private readonly flushTimers = new Set<string>()
  /** Docs with a peer-content upload waiting out {@link PEER_UPLOAD_GRACE_MS}. */
  private readonly graceTimers = new Map<string, unknown>()
  private readonly snapshotting = new Map<number, string>()
  private readonly receivedSeq = new Map<string, number>()
  private readonly progress = new Map<string, { head: number; entries: number; bytes: number; entriesDone: number; bytesDone: number; caughtUp: boolean }>()
  private stopped = false
  private readonly cutter = new UploadCutter()
  /** Per doc, the relay advised a snapshot at this seq: taken once we have caught up to it. */
  private readonly snapshotWanted = new Map<string, number>()
  /** Per doc, the size of the relay's snapshot, from its last ack. */
  private readonly relaySnapshotBytes = new Map<string, number>()
  /** Per doc, our acked uploads the cursor has not reached yet (a snapshot would hold them twice). */
  private readonly ackedAhead = new Map<string, Array<{ seq: number; bytes: number }>>()
  /** Per doc, a save of its relay state in progress (see saveSoon). */
  private readonly saving = new Map<string, { dirty: boolean }>()
  /** Docs whose `acked` grew since the last save that reported it. */
  private readonly ackUnreported = new Set<string>()
  /** Docs with a cursor-only save waiting out {@link CURSOR_SAVE_MS}. */
  private readonly cursorTimers = new Map<string, unknown>()
  private flushing: Promise<void> = Promise.resolve()
  /** Flushes queued or under way. */
  private flushesRunning = 0
  /** Per doc, the reach of each blob the relay sent live, by live id (unique on a stream), until a notice names its entry. */
  private readonly liveReach = new Map<string, Map<number, StateVector>>()
  /** Docs subscribed on this connection whose `subscribed` answer has not come yet. */
  private readonly subscribing = new Set<string>()
  private wasLive = false
  /** Callers of {@link settle} waiting. */
  private readonly settleWaiters = new Set<() => void>()
  readonly origin: RelayOrigin

  constructor (
    readonly relayId: string,
    readonly host: RelayClientHost,
    private readonly state: RelayState,
    private readonly runtime: Runtime,
    private readonly events: RelayClientEvents
  ) {
    this.origin = new RelayOrigin(relayId)
  }

  async load (): Promise<void> {
    this.outbox = await this.state.load()
    for (const e of this.outbox) this.nextUploadId = Math.max(this.nextUploadId, e.uploadId + 1)
  }

  get isConnected (): boolean { return this.conn?.isOpen === true }

  /** Blobs still waiting for the relay's ack. */
  get pending (): number { return this.outbox.length }

  /**
   * The relay has this doc subscribed and caught up for us: it is live for the doc, so
   * what we upload reaches its other subscribers at once.
   */
  carries (docId: string): boolean { return this.isConnected && this.progress.get(docId)?.caughtUp === true }

  /**
   * Every doc we keep on the relay is subscribed and caught up: what other devices upload
   * reaches us at once. (Listed in our `peers` frames only then: a device still catching up
   * gets no live blobs, and a peer that left its writes to the relay would leave us waiting.)
   */
  get isLive (): boolean {
    if (!this.isConnected || this.subscribing.size > 0) return false
    for (const p of this.progress.values()) if (!p.caughtUp) return false
    return true
  }

  private checkLive (): void {
    const live = this.isLive
    if (live === this.wasLive) return
    this.wasLive = live
    this.events.onLive(this.relayId, live)
  }

  /** What the relay holds of a doc, as recorded on our disk: messages inside it are "sent". */
  ackedSv (docId: string): StateVector { return this.state.doc(docId).ackedDurable }

  /**
   * Resolves once nothing of ours is on its way to the relay — no upload waiting for its
   * ack, no snapshot advised or under way — or the connection is gone, or after
   * `timeoutMs`. A device that quits right after its last message otherwise cut off the
   * snapshot it had just started, and left the relay a log where a snapshot belonged.
   */
  settle (timeoutMs: number): Promise<void> {
    if (this.settled) return Promise.resolve()
    return new Promise(resolve => {
      const done = (): void => { this.runtime.clearTimeout(timer); this.settleWaiters.delete(done); resolve() }
      const timer = this.runtime.setTimeout(done, timeoutMs)
      this.settleWaiters.add(done)
    })
  }

  private get settled (): boolean {
    return !this.isConnected || (this.outbox.length === 0 && this.snapshotting.size === 0 && this.snapshotWanted.size === 0)
  }

  private checkSettled (): void {
    if (this.settleWaiters.size > 0 && this.settled) for (const done of [...this.settleWaiters]) done()
  }

  /** A new /tandem/store stream to this relay (the network redials after a drop). */
  addLink (link: Link): void {
    this.conn?.close()
    const conn = new RelayConnection(link, this)
    this.conn = conn
    conn.start()
  }

  stop (): void {
    this.stopped = true
    this.flushTimers.clear()
    for (const t of this.graceTimers.values()) this.runtime.clearTimeout(t)
    this.graceTimers.clear()
    // cursors still waiting go to disk now (the store drains its queue before it closes)
    for (const docId of [...this.cursorTimers.keys()]) this.saveSoon(docId)
    this.conn?.close()
  }

  /** A doc opened locally: subscribe to it and upload what the relay lacks. */
  docOpened (docId: string): void {
    if (this.isConnected) this.setUp(this.conn!, docId)
    this.scheduleFlush(docId)
    this.scheduleGrace(docId)
  }

  /**
   * A doc changed: our own writes go up at the end of the burst (coalesced); what a peer
   * wrote goes up after a grace period, and only the part the relay still lacks then.
   */
  docUpdated (docId: string, source: ChangeSource, update: Uint8Array, transaction?: Y.Transaction): void {
    if (source === 'local') {
      this.cutter.collect(docId, update, transaction)
      this.scheduleFlush(docId)
    } else if (source === 'peer') {
      this.scheduleGrace(docId)
    }
  }

  /** Pushes a device list (after a revocation, say) to the relay now. */
  pushDeviceList (list: SignedDeviceList): void {
    if (this.isConnected) void this.conn!.send({ type: 'device-list', list })
  }


  // ── called by RelayConnection ─────────────────────────────────────────────

  async connected (conn: RelayConnection, relayList: SignedDeviceList | null): Promise<void> {
    const successor = this.host.mergeDeviceList(relayList)
    if (successor !== null) void conn.send({ type: 'device-list', list: successor })
    this.progress.clear()
    this.liveReach.clear()
    this.subscribing.clear()
    for (const docId of this.host.docIds()) this.setUp(conn, docId)
    for (const e of this.outbox) conn.upload(e.docId, e.uploadId, e.blob)
    for (const docId of this.host.docIds()) {
      await this.flush(docId, false)
      this.scheduleGrace(docId)
    }
    this.events.onConnection(this.relayId, true)
  }

  connectionClosed (conn: RelayConnection, error?: Error): void {
    if (this.conn !== conn) return
    this.conn = null
    this.snapshotting.clear()
    this.checkSettled()
    this.wasLive = false // the connection's loss is news enough (onConnection)
    if (!this.stopped) this.events.onConnection(this.relayId, false, error)
  }

  connectionError (error: TandemError): void { this.events.onError(error) }

  backlog (docId: string, head: number, entries: number, bytes: number): void {
    this.subscribing.delete(docId)
    this.progress.set(docId, { head, entries, bytes, entriesDone: 0, bytesDone: 0, caughtUp: entries === 0 })
    this.emitProgress()
    this.checkLive()
  }

  caughtUp (docId: string): void {
    const p = this.progress.get(docId)
    if (p !== undefined && !p.caughtUp) { p.caughtUp = true; p.entriesDone = p.entries; p.bytesDone = p.bytes; this.emitProgress() }
    this.checkLive()
  }

  /** A blob (or snapshot) from the relay's log, or `null` for an echo of our own blob. */
  async received (docId: string, seq: number, blob: Uint8Array | null): Promise<void> {
    const doc = await this.host.open(docId)
    const opened = blob === null ? null : await this.open(docId, seq, blob)
    if (opened !== null) this.applyBlob(docId, doc, seq, opened)
    this.advance(docId, doc, seq, opened?.reach ?? null, blob?.byteLength ?? 0)
  }

  /**
   * Another device's blob, sent before the relay made it durable: applied now (latency),
   * while the cursor and "sent" wait for the notice that names its entry — a relay that crashes
   * first never stores it, and its uploader sends it again.
   */
  async live (docId: string, liveId: number, blob: Uint8Array): Promise<void> {
    const doc = this.host.get(docId) ?? await this.host.open(docId)
    const opened = await this.open(docId, 0, blob)
    if (opened === null) return
    this.applyBlob(docId, doc, 0, opened)
    let pending = this.liveReach.get(docId)
    if (pending === undefined) { pending = new Map(); this.liveReach.set(docId, pending) }
    if (pending.size >= MAX_LIVE_PENDING) pending.delete(pending.keys().next().value!)
    pending.set(liveId, opened.reach)
  }

  /** A blob we got live is durable as entry `seq`: as if it came now, without its bytes. */
  async committed (docId: string, seq: number, liveId: number): Promise<void> {
    const doc = await this.host.open(docId)
    const pending = this.liveReach.get(docId)
    const reach = pending?.get(liveId) ?? null
    pending?.delete(liveId)
    this.advance(docId, doc, seq, reach, 0)
  }

  private applyBlob (docId: string, doc: Y.Doc, seq: number, opened: DecodedBlob): void {
    try {
      this.host.apply(docId, doc, opened.update, this.origin)
    } catch (err) {
      this.events.onError(new MalformedFrameError(`relay blob ${docId}#${seq} is not a valid update`, { cause: err }))
    }
  }

  /** Entry `seq` is in hand; `reach` (from its blob's header) is what the relay now holds, when known. */
  private advance (docId: string, doc: Y.Doc, seq: number, reach: StateVector | null, bytes: number): void {
    const st = this.state.doc(docId)
    let ackedNow = false
    if (reach !== null) {
      // with a chain of diffs, a blob's reach is what the relay holds
      mergeSv(st.uploaded, reach)
      ackedNow = mergeSv(st.acked, reach)
    }
    this.receivedSeq.set(docId, Math.max(seq, this.receivedSeq.get(docId) ?? 0))
    // The cursor moves only while the doc has no pending (dependency-less) structs: those are
    // not on our disk, so after a restart we must fetch them from the relay again.
    if (doc.store.pendingStructs === null && doc.store.pendingDs === null) st.cursor = Math.max(st.cursor, this.receivedSeq.get(docId)!)
    const p = this.progress.get(docId)
    if (p !== undefined && !p.caughtUp && seq <= p.head) {
      p.entriesDone = Math.min(p.entries, p.entriesDone + 1)
      p.bytesDone += bytes
      this.emitProgress()
    }
    if (ackedNow) this.ackUnreported.add(docId)
    // (the relay holding more of other devices' writes changes no status of ours)
    if (ackedNow && this.host.awaitsAck(docId)) this.saveSoon(docId)
    else this.saveLater(docId)
    this.snapshotIfCaughtUp(docId)
  }

  /**
   * Persists a doc's cursor and state vectors without holding up the next blob: one save
   * at a time per doc, and one more if anything changed meanwhile (a backfill of many
   * blobs waited for a disk write per blob). "Sent" is reported only once the state that
   * says so is on disk: it never goes back.
   */
  private saveSoon (docId: string): void {
    const running = this.saving.get(docId)
    if (running !== undefined) { running.dirty = true; return }
    const run = { dirty: true }
    this.saving.set(docId, run)
    void (async () => {
      try {
        while (run.dirty) {
          run.dirty = false
          const report = this.ackUnreported.delete(docId)
          await this.persist(docId)
          if (report) this.events.onAcked(docId, this.state.doc(docId).ackedDurable)
        }
      } catch (err) {
        this.events.onError(err as TandemError)
      } finally {
        this.saving.delete(docId)
      }
    })()
  }

  /** Saves a doc's relay state (and outbox changes); a cursor waiting for its timer goes along. */
  private persist (docId: string, add?: OutboxEntry[], remove?: OutboxEntry[]): Promise<void> {
    const timer = this.cursorTimers.get(docId)
    if (timer !== undefined) { this.runtime.clearTimeout(timer); this.cursorTimers.delete(docId) }
    return this.state.save(docId, add, remove)
  }

  /** A cursor-only change: saved with the next save of the doc, or after {@link CURSOR_SAVE_MS}. */
  private saveLater (docId: string): void {
    // a save under way takes it along; a stopped client saves it now
    if (this.stopped || this.saving.has(docId)) { this.saveSoon(docId); return }
    if (this.cursorTimers.has(docId)) return
    this.cursorTimers.set(docId, this.runtime.setTimeout(() => {
      this.cursorTimers.delete(docId)
      this.saveSoon(docId)
    }, CURSOR_SAVE_MS))
  }

  async acked (docId: string, uploadId: number, seq: number, tail: LogSize): Promise<void> {
    const snapDoc = this.snapshotting.get(uploadId)
    if (snapDoc !== undefined) {
      this.snapshotting.delete(uploadId)
      // advice taken while it was on its way predates it: this ack's hint is the relay's log now
      this.snapshotWanted.delete(docId)
      if (compactionDue(tail, RELAY_SNAPSHOT_LIMITS)) this.snapshotWanted.set(docId, seq)
      this.snapshotIfCaughtUp(docId)
      this.checkSettled()
      return
    }
    this.relaySnapshotBytes.set(docId, tail.snapshotBytes)
    const i = this.outbox.findIndex(e => e.uploadId === uploadId)
    if (i < 0) return
    const [entry] = this.outbox.splice(i, 1)
    const st = this.state.doc(docId)
    const grew = mergeSv(st.acked, entry!.sv)
    await this.persist(docId, [], [entry!])
    if (grew) this.events.onAcked(docId, st.ackedDurable)
    let ahead = this.ackedAhead.get(docId)
    if (ahead === undefined) { ahead = []; this.ackedAhead.set(docId, ahead) }
    ahead.push({ seq, bytes: entry!.blob.byteLength })
    if (!this.snapshotWanted.has(docId) && compactionDue(tail, RELAY_SNAPSHOT_LIMITS)) this.snapshotWanted.set(docId, seq)
    this.snapshotIfCaughtUp(docId)
    this.checkSettled()
  }

  /**
   * A snapshot holds the whole doc but covers the log only up to our cursor: what is in
   * flight then (our uploads not yet acked, or acked but not yet echoed) ends up in the
   * relay twice — taken mid-burst, a 1M-message history came down at 130 B a message
   * instead of 66. So it waits until the cursor has reached our last ack and little of
   * ours is in flight (not nothing: a device that keeps writing must still compact).
   */
  private snapshotIfCaughtUp (docId: string): void {
    const cursor = this.state.doc(docId).cursor
    let ahead = this.ackedAhead.get(docId) ?? []
    if (ahead.length > 0 && ahead[0]!.seq <= cursor) {
      ahead = ahead.filter(a => a.seq > cursor)
      this.ackedAhead.set(docId, ahead)
    }
    const wantedAt = this.snapshotWanted.get(docId)
    if (wantedAt === undefined || cursor < wantedAt) return
    // ours beyond the cursor: acked but not yet echoed, or not yet acked
    let inFlight = ahead.reduce((n, a) => n + a.bytes, 0)
    for (const e of this.outbox) if (e.docId === docId) inFlight += e.blob.byteLength
    // one snapshot of a doc at a time; the advice waits for it (dropping it lost the last one of a burst)
    const maxInFlight = Math.max(SNAPSHOT_MAX_IN_FLIGHT, (this.relaySnapshotBytes.get(docId) ?? 0) * SNAPSHOT_IN_FLIGHT_SHARE)
    if (inFlight > maxInFlight || this.snapshotInFlight(docId)) return
    this.snapshotWanted.delete(docId)
    this.snapshot(docId)
  }

  private snapshotInFlight (docId: string): boolean {
    for (const d of this.snapshotting.values()) if (d === docId) return true
    return false
  }

  docError (conn: RelayConnection, docId: string, uploadId: number, error: TandemError): void {
    this.snapshotting.delete(uploadId)
    this.checkSettled()
    // a refused subscription: that doc is not kept on this relay (not live, and not waited for)
    if (uploadId === 0 && this.subscribing.delete(docId)) this.checkLive()
    this.events.onError(error)
    // Our list lost a race with another device's: reconnect to read the relay's and merge.
    // An upload refused for a state the next handshake repairs (not listed yet, membership
    // not recorded): reconnect too, which resends the setup and then the outbox.
    if (error.code === 'ERR_STALE_DEVICE_LIST' || (uploadId !== 0 && RETRY_ON_RECONNECT.has(error.code))) conn.close()
  }

  ephemeral (docId: string, from: string, payload: Uint8Array): void { this.events.onEphemeral(docId, from, payload) }

  // ── internals ────────────────────────────────────────────────────────────

  private setUp (conn: RelayConnection, docId: string): void {
    const record = this.host.membership(docId)
    if (record !== null) void conn.send({ type: 'membership', record })
    this.subscribing.add(docId)
    this.progress.delete(docId)
    this.checkLive()
    void conn.send({ type: 'subscribe', docId, since: this.state.doc(docId).cursor })
  }

  /**
   * Our own writes go up in one upload per burst. The first write after a quiet spell goes
   * up at once, without waiting for the end of its burst (latency: the relay passes it on
   * to the other devices the moment it arrives); the rest of the burst at its end.
   */
  private scheduleFlush (docId: string): void {
    if (this.stopped || this.flushTimers.has(docId)) return
    this.flushTimers.add(docId)
    const report = (err: unknown): void => { this.events.onError(err as TandemError) }
    const leading = this.flushesRunning === 0
    if (leading) void this.flush(docId, false).catch(report)
    this.runtime.defer(() => {
      if (!this.flushTimers.delete(docId) || this.stopped) return
      // (a flush with nothing collected would cut the whole doc to find nothing)
      if (!leading || this.cutter.has(docId)) void this.flush(docId, false).catch(report)
    })
  }

  /** Uploads whatever the relay lacks (peers' content too) once the grace period is over. */
  private scheduleGrace (docId: string): void {
    if (this.stopped || this.graceTimers.has(docId)) return
    this.graceTimers.set(docId, this.runtime.setTimeout(() => {
      this.graceTimers.delete(docId)
      if (this.stopped || !this.isConnected) return // connected() schedules it again
      void this.flush(docId, true).catch(err => { this.events.onError(err as TandemError) })
    }, PEER_UPLOAD_GRACE_MS))
  }

  /**
   * Cuts the diff the relay lacks into an outbox entry (persisted), then sends it if
   * connected. Unless `all`, only this session's own writes (the doc's client id).
   */
  private flush (docId: string, all: boolean): Promise<void> {
    // one at a time: a diff is cut against `uploaded`, which only the previous flush's entry (once in the outbox) may raise
    this.flushesRunning++
    const run = this.flushing.then(() => this.flushNow(docId, all)).finally(() => { this.flushesRunning-- })
    this.flushing = run.catch(() => {})
    return run
  }



  private async flushNow (docId: string, all: boolean): Promise<void> {
    const doc = this.host.get(docId)
    if (doc === undefined) return
    const cut = this.cutter.cut(docId, doc, this.state.doc(docId).uploaded, all)
    if (cut !== null) await this.commitUpload(docId, cut)
  }


  /** Seals an update into an outbox entry (persisted), then sends it if connected. */
  private async commitUpload (docId: string, cut: Cut): Promise<void> {
    const st = this.state.doc(docId)
    const blob = await this.host.codec.encode(cut.update, cut.reach)
    const entry: OutboxEntry = { uploadId: this.nextUploadId++, docId, blob, sv: cut.uploaded }
    mergeSv(st.uploaded, cut.uploaded)
    this.outbox.push(entry)
    // queued before it is sent, so the relay's ack can only remove it after it is stored;
    // not awaited first: the relay passes it on to live subscribers on arrival (latency)
    const saved = this.persist(docId, [entry])
    if (this.isConnected) this.conn!.upload(docId, entry.uploadId, blob)
    await saved
  }

  private snapshot (docId: string): void {
    const st = this.state.doc(docId)
    const doc = this.host.get(docId)
    if (!this.isConnected || doc === undefined || st.cursor < 1 || this.snapshotInFlight(docId)) return
    const uploadId = this.nextUploadId++
    const conn = this.conn!
    const covers = st.cursor
    this.snapshotting.set(uploadId, docId)
    void this.host.codec.encode(Y.encodeStateAsUpdate(doc), Y.decodeStateVector(Y.encodeStateVector(doc))).then(blob => {
      if (this.conn === conn && this.snapshotting.has(uploadId)) conn.upload(docId, uploadId, blob, covers)
    }, err => { this.snapshotting.delete(uploadId); this.checkSettled(); this.events.onError(err as TandemError) })
  }

  /** The update inside a relay blob, or null (reported) if this device cannot read it. */
  private async open (docId: string, seq: number, blob: Uint8Array): Promise<DecodedBlob | null> {
    try {
      return await this.host.codec.decode(blob)
    } catch (err) {
      const error = err instanceof TandemError ? err : new MalformedFrameError(`relay blob ${docId}#${seq} is unreadable`, { cause: err })
      this.events.onError(error)
      return null
    }
  }

  private emitProgress (): void {
    let entriesDone = 0; let entriesTotal = 0; let bytesDone = 0; let bytesTotal = 0; let caughtUp = true
    for (const p of this.progress.values()) {
      entriesDone += p.entriesDone; entriesTotal += p.entries; bytesDone += p.bytesDone; bytesTotal += p.bytes
      caughtUp &&= p.caughtUp
    }
    this.events.onProgress({ relay: this.relayId, entriesDone, entriesTotal, bytesDone, bytesTotal, caughtUp })
  }
}

