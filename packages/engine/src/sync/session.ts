import * as Y from 'yjs'
import {
  AccessDeniedError, MalformedFrameError, NotAuthenticatedError, SYNC_PROTOCOL_VERSION, TandemError,
  checkVersion, chunkPayload, decodeSyncFrame, errorFrame, encodeSyncFrame, errorFromWire, verifyDeviceCertificate,
  type DeviceCertificate, type SyncFrame
} from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import { Reassembler } from './reassembler.js'

/** Largest diff or update a peer may send us, reassembled from chunks. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024

/** What a session needs from the engine: who we are, which docs a peer may share, the docs. */
export interface SessionHost {
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
}

export interface SessionEvents {
  /** The peer proved a valid certificate; the session starts syncing. */
  onOpen(session: SyncSession): void
  onClose(session: SyncSession, error?: Error): void
}

type State = 'handshake' | 'open' | 'closed'

/**
 * One sync session per peer link, multiplexing every doc both sides share with
 * the y-protocols exchange: each side sends a state vector per doc (sync-request),
 * the other answers with the diff (sync-reply), then live updates flow. Frames
 * are handled strictly in order; sends are serialized so chunks of one payload
 * stay contiguous. Any bad frame closes this session with a typed error.
 */
export class SyncSession {
  private state: State = 'handshake'
  private peerAccount: string | null = null
  private readonly requested = new Set<string>()
  private readonly reassembler = new Reassembler(MAX_PAYLOAD_BYTES)
  /** Live updates waiting for the end of the current burst, per doc. */
  private readonly outgoing = new Map<string, Uint8Array[]>()
  private recvChain: Promise<void> = Promise.resolve()
  private sendChain: Promise<void> = Promise.resolve()

  constructor (readonly link: Link, private readonly host: SessionHost, private readonly events: SessionEvents) {}

  get remotePeerId (): string { return this.link.remotePeerId }
  get peerAccountId (): string | null { return this.peerAccount }
  get isOpen (): boolean { return this.state === 'open' }

  start (): void {
    this.link.start({
      onFrame: frame => {
        this.recvChain = this.recvChain
          .then(async () => { if (this.state !== 'closed') await this.handle(frame) })
          .catch(err => { this.fail(err) })
      },
      onError: error => { this.fail(error) },
      onClose: error => { this.closed(error) }
    })
    this.enqueue([{ type: 'hello', version: SYNC_PROTOCOL_VERSION, certificate: this.host.certificate }])
  }

  /** A doc was opened locally (new chat, say): start syncing it if the peer may share it. */
  docOpened (docId: string): void {
    if (this.state === 'open' && !this.requested.has(docId) && this.host.canShare(docId, this.peerAccount!)) this.request(docId)
  }

  /**
   * Forwards a live update of a doc this session syncs. Updates made in one burst (a
   * batch of sends, a relay backfill) go out merged as one frame: framing, Noise and a
   * socket write per update is what limits throughput.
   */
  sendUpdate (docId: string, update: Uint8Array): void {
    if (this.state !== 'open' || !this.requested.has(docId)) return
    const queued = this.outgoing.get(docId)
    if (queued !== undefined) { queued.push(update); return }
    this.outgoing.set(docId, [update])
    if (this.outgoing.size === 1) this.host.defer(() => { this.flushUpdates() })
  }

  private flushUpdates (): void {
    const batches = [...this.outgoing]
    this.outgoing.clear()
    if (this.state !== 'open') return
    for (const [docId, updates] of batches) {
      const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
      this.enqueue(chunkPayload(update).map((chunk, i, all) => ({ type: 'update', docId, final: i === all.length - 1, chunk })))
    }
  }

  close (error?: TandemError): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.link.close(error)
    this.events.onClose(this, error)
  }

  /** Closes with a typed error, telling the peer why first (best effort). */
  fail (err: unknown): void {
    if (this.state === 'closed') return
    const error = err instanceof TandemError ? err : new TandemError('ERR_INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    const told = this.send(errorFrame(error))
    this.state = 'closed'
    void told.finally(() => { this.link.close(error) })
    this.events.onClose(this, error)
  }

  private closed (error?: Error): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.events.onClose(this, error)
  }

  private async handle (bytes: Uint8Array): Promise<void> {
    const frame = decodeSyncFrame(bytes)
    if (this.state === 'handshake') {
      if (frame.type === 'error') throw errorFromWire(frame.code, frame.message)
      if (frame.type !== 'hello') throw new NotAuthenticatedError(`expected hello, got ${frame.type}`)
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
      case 'sync-request': {
        if (!this.host.canShare(frame.docId, peer)) throw new AccessDeniedError(`doc ${frame.docId} is not shared with account ${peer}`)
        const doc = await this.host.open(frame.docId)
        let diff: Uint8Array
        try {
          diff = Y.encodeStateAsUpdate(doc, frame.stateVector)
        } catch (err) {
          throw new MalformedFrameError(`invalid state vector for ${frame.docId}`, { cause: err })
        }
        this.enqueue(chunkPayload(diff).map((chunk, i, all) => ({ type: 'sync-reply', docId: frame.docId, final: i === all.length - 1, chunk })))
        if (!this.requested.has(frame.docId)) this.request(frame.docId)
        return
      }
      case 'sync-reply':
      case 'update': {
        if (!this.host.canShare(frame.docId, peer)) throw new AccessDeniedError(`doc ${frame.docId} is not shared with account ${peer}`)
        const payload = this.reassembler.add(`${frame.type}:${frame.docId}`, frame.chunk, frame.final)
        if (payload === null) return
        const doc = await this.host.open(frame.docId)
        try {
          Y.applyUpdate(doc, payload, this)
        } catch (err) {
          throw new MalformedFrameError(`invalid update for ${frame.docId}`, { cause: err })
        }
      }
    }
  }

  private request (docId: string): void {
    const doc = this.host.get(docId)
    if (doc === undefined) return
    this.requested.add(docId)
    this.enqueue([{ type: 'sync-request', docId, stateVector: Y.encodeStateVector(doc) }])
  }

  private enqueue (frames: SyncFrame[]): void {
    for (const frame of frames) {
      this.sendChain = this.sendChain.then(() => this.send(frame))
    }
  }

  private async send (frame: SyncFrame): Promise<void> {
    try {
      await this.link.send(encodeSyncFrame(frame))
    } catch (err) {
      this.closed(err as Error)
    }
  }
}
