import {
  MalformedFrameError,
  STORE_PROTOCOL_VERSION,
  chunkPayload,
  decodeStoreFrame,
  encodeStoreFrame,
  errorFromWire,
  type DeviceCertificate,
  type SignedDeviceList,
  type StoreFrame,
  type TandemError
} from '@tandem/protocol'
import type { LogSize } from '@tandem/storage'
import { FramedSession, type FrameCodec, type Link } from '@tandem/transport'
import { Reassembler } from '../sync/reassembler.js'
import { MAX_PAYLOAD_BYTES } from '../sync/session.js'

/** A device sends the relay no ERROR frame (the relay's frames are tags 20–30): on a failure it just closes. */
const STORE_FRAMES: FrameCodec<StoreFrame> = { encode: encodeStoreFrame, decode: decodeStoreFrame }

/** What a relay connection needs for its hello, and where it hands what the relay sends (the relay client wires it). */
export interface RelayConnectionHandler {
  certificate(): DeviceCertificate
  /** The newest signed device list this device has, for the hello. */
  deviceList(): SignedDeviceList
  /** The relay welcomed us, with its device list. */
  opened(conn: RelayConnection, relayList: SignedDeviceList | null): Promise<void>
  closed(conn: RelayConnection, error?: Error): void
  failed(error: TandemError): void
  backlog(docId: string, head: number, entries: number, bytes: number): void
  caughtUp(docId: string): void
  /** A blob (or snapshot) from the relay's log, or `null` for an echo of our own blob. */
  received(docId: string, seq: number, blob: Uint8Array | null): Promise<void>
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

  constructor(
    readonly link: Link,
    private readonly client: RelayConnectionHandler
  ) {
    this.framed = new FramedSession(link, STORE_FRAMES, {
      handle: frame => this.handle(frame),
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
    void this.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: this.client.certificate(), deviceList: this.client.deviceList() })
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
      await this.client.opened(this, frame.deviceList)
      return
    }
    switch (frame.type) {
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
        await this.client.received(frame.docId, seq, blob)
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
