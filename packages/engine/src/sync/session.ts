import * as Y from 'yjs'
import {
  AccessDeniedError,
  MAX_PEERS,
  MalformedFrameError,
  NotAuthenticatedError,
  SYNC_PROTOCOL_VERSION,
  checkVersion,
  chunkPayload,
  decodeSyncFrame,
  errorFrame,
  encodeSyncFrame,
  errorFromWire,
  verifyDeviceCertificate,
  type DeviceCertificate,
  type SyncFrame,
  type TandemError
} from '@tandem/protocol'
import { FramedSession, type FrameCodec, type Link, type SessionTimers } from '@tandem/transport'
import { BurstBatcher } from '../util/burst-batcher.js'
import { Reassembler } from './reassembler.js'

/** Largest diff or update a peer may send us, reassembled from chunks. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024

/** What a session needs from the engine (its timers run the hello deadline): who we are, which docs a peer may share, the docs. */
export interface SessionHost extends SessionTimers {
  readonly certificate: DeviceCertificate
  readonly accountId: string
  /** Docs to sync with this peer as soon as the session opens. */
  sharedDocIds(peerAccountId: string): string[]
  canShare(docId: string, peerAccountId: string): boolean
  /** Runs `fn` after the current burst of work, to send one frame for many updates. */
  defer(fn: () => void): void
  /** Throws a typed error if this certified peer must still be refused (a revoked device). */
  checkPeer(peerId: string): void
  open(docId: string): Promise<Y.Doc>
  get(docId: string): Y.Doc | undefined
  /** Applies a peer's update to an open doc (and persists it). */
  apply(docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown): void
  /** Resolves when this peer may be asked for the doc (a relay is still sending its history: RelayFirst); null for now. */
  beforeRequest?(docId: string): Promise<void> | null
}

export interface SessionEvents {
  /** The peer proved a valid certificate; the session starts syncing. */
  onOpen(session: SyncSession): void
  onClose(session: SyncSession, error?: Error): void
}

type State = 'handshake' | 'open' | 'closed'

const SYNC_FRAMES: FrameCodec<SyncFrame> = { encode: encodeSyncFrame, decode: decodeSyncFrame, errorFrame }

/**
 * One sync session per peer link, multiplexing every doc both sides share with
 * the y-protocols exchange: each side sends a state vector per doc (sync-request),
 * the other answers with the diff (sync-reply), then live updates flow. Frames
 * are handled strictly in order; sends are serialized so chunks of one payload
 * stay contiguous. Any bad frame closes this session with a typed error
 * (the framing skeleton is {@link FramedSession}).
 */
export class SyncSession {
  private state: State = 'handshake'
  private peerAccount: string | null = null
  private readonly requested = new Set<string>()
  private readonly reassembler = new Reassembler(MAX_PAYLOAD_BYTES)
  /**
   * Live updates: the first after a quiet spell goes at once (latency); the rest of its
   * burst is merged per doc and sent when the burst is over (one frame, one seal, one write).
   */
  private readonly updates = new BurstBatcher<string, Uint8Array>(
    fn => {
      this.host.defer(fn)
    },
    {
      now: (docId, update) => {
        this.sendNow(docId, update)
      },
      end: (docId, updates) => {
        if (updates.length > 0 && this.state === 'open') this.sendNow(docId, updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates))
      }
    },
    'all-keys'
  )
  /** Peers the remote device says it has a session with (its last `peers` frame). */
  private remotePeers = new Set<string>()
  private readonly framed: FramedSession<SyncFrame>

  constructor(
    readonly link: Link,
    private readonly host: SessionHost,
    private readonly events: SessionEvents
  ) {
    this.framed = new FramedSession(link, SYNC_FRAMES, {
      handle: frame => this.handle(frame),
      // its doc open: applied at once, before the transport goes on to its own bookkeeping
      // (window updates…) — latency
      handleNow: frame => this.applyNow(frame),
      closed: error => {
        this.state = 'closed'
        this.events.onClose(this, error)
      }
    })
  }

  get remotePeerId(): string {
    return this.link.remotePeerId
  }
  get peerAccountId(): string | null {
    return this.peerAccount
  }
  get isOpen(): boolean {
    return this.state === 'open'
  }

  start(): void {
    this.framed.start(this.host)
    void this.framed.send({ type: 'hello', version: SYNC_PROTOCOL_VERSION, certificate: this.host.certificate })
  }

  /** A doc was opened locally (new chat, say): start syncing it if the peer may share it. */
  docOpened(docId: string): void {
    if (this.state === 'open' && !this.requested.has(docId) && this.host.canShare(docId, this.peerAccount!)) this.request(docId)
  }

  /**
   * Forwards a live update of a doc this session syncs. Updates made in one burst (a
   * batch of sends, a relay backfill) go out merged as one frame: framing, Noise and a
   * socket write per update is what limits throughput.
   */
  sendUpdate(docId: string, update: Uint8Array): void {
    if (this.state !== 'open' || !this.requested.has(docId)) return
    this.updates.add(docId, update)
  }

  private sendNow(docId: string, update: Uint8Array): void {
    this.sendChunks('update', docId, update)
  }

  /** Sends a payload as consecutive chunk frames (the send chain keeps them contiguous). */
  private sendChunks(type: 'update' | 'sync-reply', docId: string, payload: Uint8Array): void {
    const chunks = chunkPayload(payload)
    for (let i = 0; i < chunks.length; i++) void this.framed.send({ type, docId, final: i === chunks.length - 1, chunk: chunks[i]! })
  }

  close(error?: TandemError): void {
    this.framed.close(error)
  }

  /** Closes with a typed error, telling the peer why first (best effort). */
  fail(err: unknown): void {
    this.framed.fail(err)
  }

  /** Handles an update to an open doc synchronously; false if the frame needs the async path. */
  private applyNow(frame: SyncFrame): boolean {
    if (this.state !== 'open' || (frame.type !== 'update' && frame.type !== 'sync-reply')) return false
    const doc = this.host.get(frame.docId)
    if (doc === undefined) return false
    this.apply(frame, doc)
    return true
  }

  private apply(frame: Extract<SyncFrame, { type: 'update' | 'sync-reply' }>, doc: Y.Doc): void {
    if (!this.host.canShare(frame.docId, this.peerAccount!)) throw new AccessDeniedError(`doc ${frame.docId} is not shared with account ${this.peerAccount!}`)
    const payload = this.reassembler.add(`${frame.type}:${frame.docId}`, frame.chunk, frame.final)
    if (payload === null) return
    try {
      this.host.apply(frame.docId, doc, payload, this)
    } catch (err) {
      throw new MalformedFrameError(`invalid update for ${frame.docId}`, { cause: err })
    }
  }

  private async handle(frame: SyncFrame): Promise<void> {
    if (this.state === 'handshake') {
      if (frame.type === 'error') throw errorFromWire(frame.code, frame.message)
      if (frame.type !== 'hello') throw new NotAuthenticatedError(`expected hello, got ${frame.type}`)
      this.framed.authenticated()
      checkVersion(frame.version)
      const account = verifyDeviceCertificate(frame.certificate, { peerId: this.link.remotePeerId, accountId: this.host.accountId })
      this.host.checkPeer(this.link.remotePeerId)
      this.peerAccount = account
      this.state = 'open'
      this.events.onOpen(this)
      if (this.state !== 'open') return
      for (const docId of this.host.sharedDocIds(this.peerAccount)) this.request(docId)
      return
    }
    const peer = this.peerAccount!
    switch (frame.type) {
      case 'hello':
        throw new MalformedFrameError('duplicate hello')
      case 'error': {
        const error = errorFromWire(frame.code, frame.message)
        this.close(error)
        return
      }
      case 'peers': {
        const before = this.remotePeers
        this.remotePeers = new Set(frame.peerIds)
        // it lost a path: what we did not send it because of that path must come from us now
        for (const id of before)
          if (!this.remotePeers.has(id)) {
            this.resync()
            break
          }
        return
      }
      case 'sync-request': {
        if (!this.host.canShare(frame.docId, peer)) throw new AccessDeniedError(`doc ${frame.docId} is not shared with account ${peer}`)
        const doc = await this.host.open(frame.docId)
        let diff: Uint8Array
        try {
          diff = Y.encodeStateAsUpdate(doc, frame.stateVector)
        } catch (err) {
          throw new MalformedFrameError(`invalid state vector for ${frame.docId}`, { cause: err })
        }
        this.sendChunks('sync-reply', frame.docId, diff)
        if (!this.requested.has(frame.docId)) this.request(frame.docId)
        return
      }
      case 'sync-reply':
      case 'update': {
        if (!this.host.canShare(frame.docId, peer)) throw new AccessDeniedError(`doc ${frame.docId} is not shared with account ${peer}`)
        this.apply(frame, await this.host.open(frame.docId))
      }
    }
  }

  /** Tells the remote device which other devices this one has a session with. */
  sendPeers(peerIds: string[]): void {
    if (this.state === 'open') void this.framed.send({ type: 'peers', peerIds: peerIds.filter(id => id !== this.remotePeerId).slice(0, MAX_PEERS) })
  }

  /**
   * Whether the remote device has a session with `peerId` (a device or a relay): then
   * that one sends it everything it sends us, and forwarding it ourselves would only
   * duplicate it.
   */
  reaches(peerId: string): boolean {
    return this.remotePeers.has(peerId)
  }

  /** Asks again for every doc: after a peer was lost, what it would have sent may come from here. */
  resync(): void {
    if (this.state === 'open') for (const docId of [...this.requested]) this.request(docId)
  }

  private request(docId: string): void {
    const doc = this.host.get(docId)
    if (doc === undefined) return
    this.requested.add(docId)
    const gate = this.host.beforeRequest?.(docId) ?? null
    if (gate === null) this.sendRequest(docId, doc)
    else
      void gate.then(() => {
        if (this.state === 'open') this.sendRequest(docId, doc)
      })
  }

  /** The state vector goes as it is when sent: after a relay's backfill, the peer answers with only what that lacked. */
  private sendRequest(docId: string, doc: Y.Doc): void {
    void this.framed.send({ type: 'sync-request', docId, stateVector: Y.encodeStateVector(doc) })
  }
}
