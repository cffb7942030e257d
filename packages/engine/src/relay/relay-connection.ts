import {
  MalformedFrameError,
  STORE_PROTOCOL_VERSION,
  chunkPayload,
  decodeStoreFrame,
  encodeStoreFrame,
  errorFromWire,
  type ChainHead,
  type ChainLink,
  type DeviceActivity,
  type SignedMembership,
  MAX_CHAIN_LINKS,
  type StoreFrame,
  type TandemError
} from '@tandem/protocol'
import type { LogSize } from '@tandem/storage'
import { FramedSession, type FrameCodec, type Link } from '@tandem/transport'
import { Reassembler } from '../sync/reassembler.js'
import { MAX_PAYLOAD_BYTES } from '../sync/session.js'

/** A device sends the relay no ERROR frame (the relay's frames are tags 20–32): on a failure it just closes. */
export const STORE_FRAMES: FrameCodec<StoreFrame> = { encode: encodeStoreFrame, decode: decodeStoreFrame }

/** What a relay connection needs for its hello, and where it hands what the relay sends (the relay client wires it). */
export interface RelayConnectionHandler {
  /** The account and the head of its chain this device holds, for the hello. */
  hello(): { accountId: string; head: ChainHead }
  /** The relay welcomed us, naming the head of the chain it holds. */
  opened(conn: RelayConnection, relayHead: ChainHead | null): Promise<void>
  /** Links of the relay's chain (all the runs of one send, together). */
  links(links: ChainLink[]): Promise<void>
  /** When the relay last served each device of the account. */
  activity(devices: DeviceActivity[]): void
  /** A membership record naming this account (a chat between accounts: `member-of`). */
  memberOf(record: SignedMembership): void
  closed(conn: RelayConnection, error?: Error): void
  failed(error: TandemError): void
  backlog(docId: string, head: number, entries: number, bytes: number): void
  caughtUp(docId: string): void
  /** A blob (or snapshot) from the relay's log, or `null` for an echo of our own blob. */
  received(docId: string, seq: number, blob: Uint8Array | null, snapshot?: boolean): Promise<void>
  live(docId: string, liveId: number, blob: Uint8Array): Promise<void>
  committed(docId: string, seq: number, liveId: number): Promise<void>
  acked(docId: string, uploadId: number, seq: number, tail: LogSize): Promise<void>
  docError(conn: RelayConnection, docId: string, uploadId: number, error: TandemError): void
  ephemeral(docId: string, from: string, payload: Uint8Array): void
}

/**
 * One /tandem/store stream to a relay: the handshake, then frames in both
 * directions. Blob chunks are reassembled per doc and handed to the handler;
 * uploads are sent through one chain so each one's chunks stay in order
 * (the framing skeleton is {@link FramedSession}).
 */
export class RelayConnection {
  private open = false
  private readonly reassembler = new Reassembler(MAX_PAYLOAD_BYTES)
  /** The blob seq being reassembled per doc: a new seq discards a partial one (dropped by a snapshot). */
  private readonly receiving = new Map<string, string>()
  private readonly framed: FramedSession<StoreFrame>
  private incoming: ChainLink[] = []

  constructor(
    readonly link: Link,
    private readonly client: RelayConnectionHandler
  ) {
    this.framed = new FramedSession(link, STORE_FRAMES, {
      handle: frame => this.handle(frame),
      // links that came before the relay closed (the one revoking us, say) still count
      late: frame => {
        if (frame.type === 'links' && this.open) void this.handle(frame).catch(() => {})
      },
      failed: error => {
        this.client.failed(error)
      },
      closed: error => {
        this.client.closed(this, error)
      }
    })
  }

  get isOpen(): boolean {
    return this.open && !this.framed.isClosed
  }

  start(): void {
    this.framed.start()
    const { accountId, head } = this.client.hello()
    void this.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId, head })
  }

  send(frame: StoreFrame): Promise<void> {
    return this.framed.send(frame)
  }

  /** Sends one blob as append (or snapshot) chunks, in order. */
  upload(docId: string, uploadId: number, blob: Uint8Array, covers?: number): void {
    const chunks = chunkPayload(blob)
    chunks.forEach((chunk, i) => {
      const final = i === chunks.length - 1
      void this.send(covers === undefined ? { type: 'append', docId, uploadId, final, chunk } : { type: 'snapshot', docId, uploadId, covers, final, chunk })
    })
  }

  close(error?: TandemError): void {
    this.framed.close(error)
  }

  private async handle(frame: StoreFrame): Promise<void> {
    if (!this.open) {
      if (frame.type === 'error') throw errorFromWire(frame.code, frame.message)
      if (frame.type !== 'welcome') throw new MalformedFrameError(`expected welcome, got ${frame.type}`)
      this.open = true
      await this.client.opened(this, frame.head)
      return
    }
    switch (frame.type) {
      case 'links': {
        if (this.incoming.length + frame.links.length > MAX_CHAIN_LINKS) throw new MalformedFrameError(`a chain of more than ${MAX_CHAIN_LINKS} links`)
        this.incoming.push(...frame.links)
        if (!frame.last) return
        const links = this.incoming
        this.incoming = []
        await this.client.links(links)
        return
      }
      case 'device-activity':
        this.client.activity(frame.devices)
        return
      case 'member-of':
        this.client.memberOf(frame.record)
        return
      case 'blob':
      case 'snapshot-data': {
        const seq = frame.type === 'blob' ? frame.seq : frame.covers
        const key = `${frame.type}:${frame.docId}:${seq}`
        const previous = this.receiving.get(frame.docId)
        if (previous !== undefined && previous !== key) this.reassembler.discard(previous)
        const blob = this.reassembler.add(key, frame.chunk, frame.final)
        if (blob === null) {
          this.receiving.set(frame.docId, key)
          return
        }
        this.receiving.delete(frame.docId)
        await this.client.received(frame.docId, seq, blob, frame.type === 'snapshot-data')
        return
      }
      case 'notices':
        // entries we have without their bytes: our own uploads, and blobs we got live
        for (const n of frame.entries) {
          if (n.liveId === 0) await this.client.received(frame.docId, n.seq, null)
          else await this.client.committed(frame.docId, n.seq, n.liveId)
        }
        return
      case 'live':
        await this.client.live(frame.docId, frame.liveId, frame.blob)
        return
      case 'ack':
        await this.client.acked(frame.docId, frame.uploadId, frame.seq, { entries: frame.sinceSnapshot, bytes: frame.tailBytes, snapshotBytes: frame.snapshotBytes })
        return
      case 'subscribed':
        this.client.backlog(frame.docId, frame.head, frame.entries, frame.bytes)
        return
      case 'caught-up':
        this.client.caughtUp(frame.docId)
        return
      case 'doc-error':
        this.client.docError(this, frame.docId, frame.uploadId, errorFromWire(frame.code, frame.message))
        return
      case 'ephemeral-data':
        this.client.ephemeral(frame.docId, frame.from, frame.payload)
        return
      case 'error':
        this.close(errorFromWire(frame.code, frame.message))
        return
      default:
        throw new MalformedFrameError(`a relay may not send ${frame.type}`)
    }
  }
}
