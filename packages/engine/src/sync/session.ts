import * as Y from 'yjs'
import {
  AccessDeniedError,
  type ChainHead,
  type ChainLink,
  DeviceNotListedError,
  DeviceRevokedError,
  headOfLinks,
  MAX_CHAIN_LINKS,
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
  sameHead,
  splitLinks,
  type SyncFrame,
  type TandemError,
  WrongAccountError
} from '@tandem/protocol'
import { FramedSession, type FrameCodec, type Link, type SessionTimers } from '@tandem/transport'
import { BurstBatcher } from '../util/burst-batcher.js'
import { Reassembler } from './reassembler.js'

/** Largest diff or update a peer may send us, reassembled from chunks. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024

/** The account's device chain as a session sees it: what to say in the hello, what to send, who is a device. */
export interface SessionChain {
  readonly accountId: string
  head(): ChainHead
  /** What a peer holding `head` lacks (the whole chain when its head is not on ours). */
  linksAfter(head: ChainHead | null): ChainLink[]
  /** Links a device sent: fork choice over everything held (a change reaches the hooks). */
  receive(links: ChainLink[]): Promise<void>
  status(peerId: string): 'listed' | 'revoked' | 'unlisted'
}

/** What a session needs from the engine (its timers run the hello deadline): who we are, which docs a peer may share, the docs. */
export interface SessionHost extends SessionTimers {
  readonly chain: SessionChain
  /** Docs to sync with this peer as soon as the session opens. */
  sharedDocIds(peerAccountId: string): string[]
  canShare(docId: string, peerAccountId: string): boolean
  /** Runs `fn` after the current burst of work, to send one frame for many updates. */
  defer(fn: () => void): void
  open(docId: string): Promise<Y.Doc>
  get(docId: string): Y.Doc | undefined
  /** Applies a peer's update to an open doc (and persists it). */
  apply(docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown): void
  /** Resolves when this peer may be asked for the doc (a relay is still sending its history: RelayFirst); null for now. */
  beforeRequest?(docId: string): Promise<void> | null
  /** Typing and presence a peer sent for a doc (sealed: the EphemeralChannel opens it). */
  ephemeral?(docId: string, from: string, sealed: Uint8Array): void
}

export interface SessionEvents {
  /** The peer is a listed device of the account (after the chains were exchanged); the session starts syncing. */
  onOpen(session: SyncSession): void
  onClose(session: SyncSession, error?: Error): void
  /** The state vector a sync-reply is cut against: the peer's, or more when part of the doc reaches the peer another way. */
  replyBase?(session: SyncSession, docId: string, doc: Y.Doc, stateVector: Uint8Array): Uint8Array
}

type State = 'handshake' | 'chain' | 'open' | 'closed'

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
  /** Whether a `peers` frame came yet (until then, who the peer reaches is a guess). */
  private peersKnown = false
  private readonly framed: FramedSession<SyncFrame>
  /** The head our hello named: both sides compare the two hellos' heads, so both decide alike whether to send links. */
  private helloHead: ChainHead | null = null
  /** What the peer is known to hold: the links we sent it, or its hello's head. */
  private peerHead: ChainHead | null = null
  /** Links received in runs until the one marked last. */
  private incoming: ChainLink[] = []

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
      // links that came before the peer closed (the one revoking us, say) still count
      late: frame => {
        if (frame.type === 'links' && this.peerAccount !== null) void this.receiveLinks(frame).catch(() => {})
      },
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
    this.helloHead = this.host.chain.head()
    void this.framed.send({ type: 'hello', version: SYNC_PROTOCOL_VERSION, accountId: this.host.chain.accountId, head: this.helloHead })
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

  /** Ends the session with a device our chain no longer lists: the links that say so go first, then the error. */
  revoke(err: TandemError): void {
    this.chainChanged()
    this.framed.failAfterSends(err)
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

  /** Our chain grew: send the peer what it lacks. */
  chainChanged(): void {
    if (this.state !== 'open') return
    this.sendLinks(this.host.chain.linksAfter(this.peerHead))
  }

  private sendLinks(links: ChainLink[]): void {
    if (links.length === 0) return
    const runs = splitLinks(links)
    runs.forEach((run, i) => {
      void this.framed.send({ type: 'links', links: run, last: i === runs.length - 1 })
    })
    this.peerHead = headOfLinks(links)
  }

  private async handle(frame: SyncFrame): Promise<void> {
    if (this.state === 'handshake') {
      if (frame.type === 'error') throw errorFromWire(frame.code, frame.message)
      if (frame.type !== 'hello') throw new NotAuthenticatedError(`expected hello, got ${frame.type}`)
      this.framed.authenticated()
      checkVersion(frame.version)
      if (frame.accountId !== this.host.chain.accountId)
        throw new WrongAccountError(`device ${this.remotePeerId} belongs to account ${frame.accountId.slice(0, 64)}, not ${this.host.chain.accountId}`)
      this.peerAccount = frame.accountId
      this.peerHead = frame.head
      if (sameHead(frame.head, this.helloHead)) {
        await this.admit()
        return
      }
      // the heads differ: each side sends its whole chain and chooses over both
      this.state = 'chain'
      this.sendLinks(this.host.chain.linksAfter(null))
      return
    }
    if (this.state === 'chain') {
      if (frame.type === 'error') throw errorFromWire(frame.code, frame.message)
      if (frame.type !== 'links') throw new NotAuthenticatedError(`expected the peer's chain, got ${frame.type}`)
      if (await this.receiveLinks(frame)) await this.admit()
      return
    }
    const peer = this.peerAccount!
    switch (frame.type) {
      case 'hello':
        throw new MalformedFrameError('duplicate hello')
      case 'links':
        await this.receiveLinks(frame)
        return
      case 'error': {
        const error = errorFromWire(frame.code, frame.message)
        this.close(error)
        return
      }
      case 'peers': {
        const before = this.remotePeers
        this.remotePeers = new Set(frame.peerIds)
        this.peersKnown = true
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
          diff = Y.encodeStateAsUpdate(doc, this.events.replyBase?.(this, frame.docId, doc, frame.stateVector) ?? frame.stateVector)
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
        return
      }
      case 'ephemeral': {
        if (!this.host.canShare(frame.docId, peer)) throw new AccessDeniedError(`doc ${frame.docId} is not shared with account ${peer}`)
        // a copy: the frame's bytes are a view into the transport's buffer
        this.host.ephemeral?.(frame.docId, this.remotePeerId, frame.payload.slice())
      }
    }
  }

  /** Collects a run; true once the run marked last was handed to the chain. */
  private async receiveLinks(frame: Extract<SyncFrame, { type: 'links' }>): Promise<boolean> {
    if (this.incoming.length + frame.links.length > MAX_CHAIN_LINKS) throw new MalformedFrameError(`a chain of more than ${MAX_CHAIN_LINKS} links`)
    this.incoming.push(...frame.links)
    if (!frame.last) return false
    const links = this.incoming
    this.incoming = []
    await this.host.chain.receive(links)
    return true
  }

  /** The peer may sync only as a device the chain lists now. */
  private async admit(): Promise<void> {
    const status = this.host.chain.status(this.remotePeerId)
    if (status === 'revoked') throw new DeviceRevokedError(`device ${this.remotePeerId} was revoked from this account`)
    if (status !== 'listed') throw new DeviceNotListedError(`device ${this.remotePeerId} is not a device of account ${this.host.chain.accountId}`)
    this.state = 'open'
    this.events.onOpen(this)
    if (this.state !== 'open') return
    // our chain may have grown since our hello
    this.chainChanged()
    for (const docId of this.host.sharedDocIds(this.peerAccount!)) this.request(docId)
  }

  /** Sends sealed typing or presence of a doc the peer may share (dropped when the session is not open: it is ephemeral). */
  sendEphemeral(docId: string, sealed: Uint8Array): boolean {
    if (this.state !== 'open' || !this.host.canShare(docId, this.peerAccount!)) return false
    void this.framed.send({ type: 'ephemeral', docId, payload: sealed })
    return true
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
    // before its first `peers` frame, a peer on a relay's circuit is taken to be live at that
    // relay (it holds a reservation there): its backfill must not come back to it through us
    return this.remotePeers.has(peerId) || (!this.peersKnown && this.link.relayedVia === peerId)
  }

  /** Whether the remote device said it is live at this relay (every doc it keeps there subscribed), in its last `peers` frame. */
  liveAt(relayId: string): boolean {
    return this.peersKnown && this.remotePeers.has(relayId)
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
