import { MalformedFrameError, membershipDocOf, TandemError, UnknownEpochError } from '@tandem/protocol'
import type * as Y from 'yjs'
import type { DecodedBlob } from './blob-codec.js'
import { ParkedBlobs } from './parked-blobs.js'
import { RecordOffers } from './record-offers.js'
import { BlobTurns } from './blob-turns.js'
import { KeyChanges } from './key-changes.js'
import { RelayLiveness } from './relay-liveness.js'
import type { RelayClientEvents, RelayClientHost } from './relay-client-host.js'
import type { RelayConnection } from './relay-connection.js'
import { RelayOrigin } from './relay-origin.js'
import type { RelayState } from './relay-state.js'
import type { RelayStateSaver } from './relay-state-saver.js'
import { mergeSv, type StateVector } from './state-vector.js'

/** Live blobs whose commit notice has not come yet, per doc; older ones are forgotten first. */
const MAX_LIVE_PENDING = 1024

export type RelayReaderHost = Pick<RelayClientHost, 'codec' | 'membership' | 'open' | 'get' | 'apply' | 'refuse' | 'awaitsAck' | 'needsRefetch' | 'needsResume' | 'resumed'>

/** judge(): the blob waits for a key. */
const PARKED = Symbol('parked')

export interface RelayReaderEvents extends Pick<RelayClientEvents, 'onProgress' | 'onLive' | 'onError' | 'onSettled' | 'onRejected'> {
  /** Entry `seq` of a doc is in hand (the cursor may have moved): a snapshot may be due. */
  onAdvanced(docId: string): void
  /** A `refetch` of the doc caught up: all the relay holds of it is back. */
  onRefetched(docId: string): void
  /** Another device's blob was applied before the relay made it durable (its notice follows, or never does). */
  onLiveApplied(docId: string, liveId: number): void
  /** Live blobs of the doc never got their notice before the connection was lost. */
  onLiveLost(docId: string): void
}

/** How far the backfill of one subscribed doc has come. */
interface DocProgress {
  head: number
  entries: number
  bytes: number
  entriesDone: number
  bytesDone: number
  caughtUp: boolean
}

/**
 * The reading half of a relay client: subscribes to each doc since its cursor, applies
 * what the relay sends (backfill, live blobs, notices of entries we have without their
 * bytes), moves the cursor, and tracks the backfill's progress and whether the relay is
 * live for us (every doc subscribed and caught up). Blobs are opened as they arrive, side
 * by side (up to MAX_OPENING), and everything the relay sent is applied in turns, in the
 * order it came: a blob that does not open is reported in its turn and never applied, one
 * waiting for a key is parked in its turn, and the cursor moves only past what was applied.
 */
export class RelayReader {
  /** Origin of the updates it applies: they are (or are about to be) in the relay's log, never uploaded back. */
  readonly origin: RelayOrigin
  private readonly progress = new Map<string, DocProgress>()
  private readonly receivedSeq = new Map<string, number>()
  /** Per doc, the reach of each blob the relay sent live, by live id (unique on a stream), until a notice names its entry. */
  private readonly liveReach = new Map<string, Map<number, StateVector>>()
  /** Docs the relay refused on this connection: it will send nothing of them. */
  private readonly refusedDocs = new Set<string>()
  /** Docs subscribed with `refetch` (a damaged store's repair) or `resume` (the last run crashed) whose backfill has not caught up yet. */
  private readonly catchingUp = new Map<string, 'refetch' | 'resume'>()
  /** Blobs of a key generation this device does not hold yet. */
  private readonly parked = new ParkedBlobs()
  readonly offers = new RecordOffers() // (the records offered on this connection)
  /** Keys that came: the passes over parked blobs they make. */
  private readonly keys = new KeyChanges()
  private readonly liveness: RelayLiveness
  /** What the relay sent, applied in turns in the order it came, its blobs opened side by side. */
  private readonly turns = new BlobTurns(err => {
    this.failed(err)
  })

  constructor(
    private readonly relayId: string,
    private readonly host: RelayReaderHost,
    private readonly state: RelayState,
    private readonly saver: RelayStateSaver,
    /** The open connection to the relay, if any. */
    private readonly connection: () => RelayConnection | null,
    private readonly events: RelayReaderEvents
  ) {
    this.origin = new RelayOrigin(relayId)
    this.liveness = new RelayLiveness(
      this.progress,
      () => this.connection() !== null,
      live => {
        this.events.onLive(this.relayId, live)
      }
    )
  }

  /**
   * The relay serves us this doc on this connection (it answered our subscription, or the doc
   * is a segment new since the relay went live, not refused: see RelayLiveness): what we upload
   * reaches its other subscribers at once, whether or not its history has all come to us yet.
   * (Waiting for the catch-up sent each new segment's first burst down every circuit as well:
   * ~1 MB more per receiving device in the 20,000-message throughput bench. A peer that opens
   * the doc still asks us for it on the circuit, so a refused upload is not lost to it.)
   */
  carries(docId: string): boolean {
    return this.connection() !== null && (this.progress.has(docId) || this.liveness.joining(docId))
  }

  /** The relay is connected and has not yet sent all it holds of this doc (or not yet been asked): its history is on its way. */
  backfilling(docId: string): boolean {
    return this.connection() !== null && !this.refusedDocs.has(docId) && this.progress.get(docId)?.caughtUp !== true
  }

  /** Every doc we keep on the relay is subscribed and caught up: what other devices upload reaches us at once. */
  get isLive(): boolean {
    return this.liveness.isLive
  }

  /** A new connection: nothing is subscribed on it yet. */
  connected(): void {
    this.turns.newSession()
    // live blobs whose notice never came on the old connection: the relay may not hold them
    // (it crashed before its disk had them) and their author may never send them again
    for (const [docId, pending] of this.liveReach) if (pending.size > 0) this.events.onLiveLost(docId)
    this.progress.clear()
    this.liveReach.clear()
    this.liveness.reset()
    this.catchingUp.clear()
    this.refusedDocs.clear()
    this.parked.clear() // (the cursor stayed before them: the relay sends them again)
    this.offers.clear()
  }

  disconnected(): void {
    this.turns.newSession() // (what came on it and waits for its turn is dropped)
    this.liveness.reset()
  }

  /** Subscribes to a doc since our cursor (with the membership record it is served under). */
  subscribe(conn: RelayConnection, docId: string): void {
    const record = this.host.membership(docId)
    if (record !== null && this.offers.due(docId, record)) void conn.send({ type: 'membership', record })
    this.refusedDocs.delete(docId) // (asked again: a doc refused before may be served now)
    this.progress.delete(docId)
    const chat = membershipDocOf(docId)
    this.liveness.subscribed(docId, chat !== docId && this.progress.get(chat)?.caughtUp === true)
    this.catchingUp.delete(docId)
    const since = this.state.doc(docId).cursor
    const mode = this.host.needsRefetch(docId) ? 'refetch' : this.host.needsResume(docId) ? 'resume' : null
    if (mode !== null) this.catchingUp.set(docId, mode)
    void conn.send(mode === 'refetch' ? { type: 'refetch', docId } : { type: mode ?? 'subscribe', docId, since })
  }

  /**
   * The relay refused a subscription: that doc is not kept on this relay (not live, and not
   * waited for). At once, not in turn: nothing of the doc is on its way, and a subscription
   * asked again (new links came) must not be taken back by this refusal's late turn.
   */
  refused(docId: string): void {
    this.catchingUp.delete(docId)
    this.refusedDocs.add(docId)
    this.events.onSettled(this.relayId, docId)
    this.liveness.settled(docId)
  }

  backlog(docId: string, head: number, entries: number, bytes: number): void {
    void this.turns.inTurn(() => {
      this.backlogNow(docId, head, entries, bytes)
    })
  }

  private backlogNow(docId: string, head: number, entries: number, bytes: number): void {
    this.progress.set(docId, { head, entries, bytes, entriesDone: 0, bytesDone: 0, caughtUp: entries === 0 })
    this.emitProgress()
    if (entries === 0) this.liveness.settled(docId)
    else this.liveness.answered(docId)
  }

  /** The relay has sent all it holds of the doc (in turn: once what it sent before is applied). */
  caughtUp(docId: string): void {
    void this.turns.inTurn(() => {
      this.caughtUpNow(docId)
    })
  }

  private caughtUpNow(docId: string): void {
    const p = this.progress.get(docId)
    if (p !== undefined && !p.caughtUp) {
      p.caughtUp = true
      p.entriesDone = p.entries
      p.bytesDone = p.bytes
      this.emitProgress()
    }
    const mode = this.catchingUp.get(docId)
    this.catchingUp.delete(docId)
    if (mode === 'refetch') this.events.onRefetched(docId)
    else if (mode === 'resume') this.host.resumed(docId)
    this.events.onSettled(this.relayId, docId)
    if (p !== undefined) this.liveness.settled(docId)
  }

  /**
   * A blob (or snapshot) from the relay's log, or `null` for an echo of our own blob. Resolves
   * once the blob is being opened (there is room for it): it is applied in its turn.
   */
  async received(docId: string, seq: number, blob: Uint8Array | null, snapshot = false): Promise<void> {
    if (blob !== null) await this.turns.roomFor(blob.byteLength)
    // (a key that comes while it opens is seen by the open, or makes it open again in its turn: KeyChanges)
    const keysAt = this.keys.mark
    const opening = blob === null ? null : this.turns.startOpening(blob.byteLength, () => this.openBlob(docId, seq, blob))
    void this.turns.inTurn(async current => {
      try {
        if (!current()) return
        let result = opening === null ? null : await opening.result
        // (the doc is taken once the blob is open: applied to at once, never after it left memory)
        const doc = this.host.get(docId) ?? (await this.host.open(docId))
        if (result !== null && this.keys.cameSince(keysAt, result)) result = await this.openBlob(docId, seq, blob!)
        if (!current()) return
        const opened = result === null ? null : this.judge(docId, result)
        if (opened === PARKED) this.park(docId, seq, blob!, snapshot)
        const applied = opened !== null && opened !== PARKED && this.applyBlob(docId, doc, seq, opened, snapshot)
        this.advance(docId, doc, seq, applied ? opened.reach : null, blob?.byteLength ?? 0)
      } finally {
        opening?.release()
      }
    })
  }

  /** This device holds more keys: parked blobs that open now are applied, in order (in turn); the cursor may move on. */
  keysChanged(): Promise<void> {
    return this.keys.changed(
      step => this.turns.inTurn(step),
      async (current: () => boolean) => {
        if (!current()) return
        for (const [docId, blobs] of this.parked.take()) {
          const doc = await this.host.open(docId)
          for (const { seq, blob, snapshot } of blobs) {
            const result = await this.openBlob(docId, seq, blob)
            if (!current()) return // (a new connection cleared the parked blobs: the relay sends them again)
            const opened = this.judge(docId, result)
            if (opened === PARKED) this.park(docId, seq, blob, snapshot)
            else if (opened !== null) this.applyBlob(docId, doc, seq, opened, snapshot === true)
          }
          if (!this.parked.has(docId)) this.moveCursor(docId, doc)
        }
      }
    )
  }

  private park(docId: string, seq: number, blob: Uint8Array, snapshot?: boolean): void {
    if (!this.parked.park(docId, snapshot === true ? { seq, blob, snapshot } : { seq, blob }))
      this.events.onError(new UnknownEpochError(`more than the kept number of ${docId}'s blobs wait for a key: the oldest is let go until a restart fetches it again`))
  }

  /**
   * Another device's blob, sent before the relay made it durable: applied now (latency),
   * while the cursor and "sent" wait for the notice that names its entry — a relay that crashes
   * first never stores it, and its uploader sends it again.
   */
  async live(docId: string, liveId: number, blob: Uint8Array): Promise<void> {
    await this.turns.roomFor(blob.byteLength)
    const keysAt = this.keys.mark
    const opening = this.turns.startOpening(blob.byteLength, () => this.openBlob(docId, 0, blob))
    void this.turns.inTurn(async current => {
      try {
        if (!current()) return
        let result = await opening.result
        const doc = this.host.get(docId) ?? (await this.host.open(docId))
        if (this.keys.cameSince(keysAt, result)) result = await this.openBlob(docId, 0, blob)
        if (!current()) return
        const opened = this.judge(docId, result)
        if (opened === PARKED) this.park(docId, 0, blob)
        if (opened === null || opened === PARKED || !this.applyBlob(docId, doc, 0, opened, false)) return
        let pending = this.liveReach.get(docId)
        if (pending === undefined) {
          pending = new Map()
          this.liveReach.set(docId, pending)
        }
        if (pending.size >= MAX_LIVE_PENDING) pending.delete(pending.keys().next().value!)
        pending.set(liveId, opened.reach)
        this.events.onLiveApplied(docId, liveId)
      } finally {
        opening.release()
      }
    })
  }

  /** Whether any of these live blobs still waits for its notice; their reach is kept for a late one (chaos seed 770136720). */
  uncommitted(docId: string, liveIds: readonly number[]): boolean {
    const pending = this.liveReach.get(docId)
    return liveIds.some(id => pending?.has(id) === true)
  }

  /** A blob we got live is durable as entry `seq`: as if it came now, without its bytes (in turn: after the blob itself). */
  async committed(docId: string, seq: number, liveId: number): Promise<void> {
    void this.turns.inTurn(async current => {
      if (!current()) return
      const doc = await this.host.open(docId)
      if (!current()) return
      const pending = this.liveReach.get(docId)
      const reach = pending?.get(liveId) ?? null
      pending?.delete(liveId)
      this.advance(docId, doc, seq, reach, 0)
    })
  }

  /** Applies an opened blob unless the host refuses it (a `rejected` event, never applied): false then. */
  private applyBlob(docId: string, doc: Y.Doc, seq: number, opened: DecodedBlob, snapshot: boolean): boolean {
    try {
      const refused = snapshot ? null : (this.host.refuse?.(docId, doc, opened.author, opened.update) ?? null)
      if (refused !== null) {
        this.events.onRejected(docId, refused, false)
        return false
      }
      this.host.apply(docId, doc, opened.update, this.origin)
      return true
    } catch (err) {
      this.events.onError(new MalformedFrameError(`relay blob ${docId}#${seq} is not a valid update`, { cause: err }))
      return true // (as before refusals: a blob Yjs cannot read still counts as read)
    }
  }

  /** Entry `seq` is in hand; `reach` (from its blob's header) is what the relay now holds, when known. */
  private advance(docId: string, doc: Y.Doc, seq: number, reach: StateVector | null, bytes: number): void {
    const st = this.state.doc(docId)
    let ackedNow = false
    if (reach !== null) {
      // with a chain of diffs, a blob's reach is what the relay holds
      mergeSv(st.uploaded, reach)
      ackedNow = mergeSv(st.acked, reach)
    }
    this.receivedSeq.set(docId, Math.max(seq, this.receivedSeq.get(docId) ?? 0))
    this.moveCursor(docId, doc)
    const p = this.progress.get(docId)
    if (p !== undefined && !p.caughtUp && seq <= p.head) {
      p.entriesDone = Math.min(p.entries, p.entriesDone + 1)
      p.bytesDone += bytes
      this.emitProgress()
    }
    if (ackedNow) this.saver.ackGrew(docId)
    // (the relay holding more of other devices' writes changes no status of ours)
    if (ackedNow && this.host.awaitsAck(docId)) this.saver.saveSoon(docId)
    else this.saver.saveLater(docId)
    this.events.onAdvanced(docId)
  }

  /**
   * The cursor moves only while the doc has no pending (dependency-less) structs and no blob
   * waits for a key: neither is on our disk, so after a restart the relay must send them again.
   */
  private moveCursor(docId: string, doc: Y.Doc): void {
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null || this.parked.has(docId)) return
    const st = this.state.doc(docId)
    const seq = this.receivedSeq.get(docId) ?? 0
    if (seq > st.cursor) {
      st.cursor = seq
      this.saver.saveLater(docId)
    }
  }

  private failed(err: unknown): void {
    const error = err instanceof TandemError ? err : new TandemError('ERR_INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    this.events.onError(error)
    this.connection()?.close(error)
  }

  /** The update inside a relay blob, or the typed error it fails with (never rejects). */
  private async openBlob(docId: string, seq: number, blob: Uint8Array): Promise<DecodedBlob | TandemError> {
    try {
      return await this.host.codec.decode(docId, blob)
    } catch (err) {
      return err instanceof TandemError ? err : new MalformedFrameError(`relay blob ${docId}#${seq} is unreadable`, { cause: err })
    }
  }

  /**
   * In its turn: the opened blob; null when it cannot be read (a typed error, reported and
   * counted, never applied: a flipped bit, another doc's blob, a forged author); PARKED when
   * it is sealed in a generation this device does not hold yet.
   */
  private judge(docId: string, result: DecodedBlob | TandemError): DecodedBlob | null | typeof PARKED {
    if (!(result instanceof TandemError)) return result
    this.events.onRejected(docId, result, result instanceof UnknownEpochError)
    return result instanceof UnknownEpochError ? PARKED : null
  }

  private emitProgress(): void {
    let entriesDone = 0
    let entriesTotal = 0
    let bytesDone = 0
    let bytesTotal = 0
    let caughtUp = true
    for (const p of this.progress.values()) {
      entriesDone += p.entriesDone
      entriesTotal += p.entries
      bytesDone += p.bytesDone
      bytesTotal += p.bytes
      caughtUp &&= p.caughtUp
    }
    this.events.onProgress({ relay: this.relayId, entriesDone, entriesTotal, bytesDone, bytesTotal, caughtUp })
  }
}
