import { FrameTooLargeError, MAX_FRAME_BYTES, type TandemError } from '@tandem/protocol'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import type { Stream, StreamCloseEvent } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Link, LinkHandlers } from './link.js'

/** How long a graceful close may wait for the peer before the stream is reset. */
const CLOSE_TIMEOUT_MS = 5_000

/**
 * Received bytes go to the frame decoder at most this much at a time. The decoder refuses
 * to buffer more than a frame and a margin, and a reader that was busy for a while (a
 * device applying a big snapshot) gets megabytes of whole, small frames in one event:
 * handed over in one piece, they looked like one oversized frame and the stream was closed.
 */
const FEED_BYTES = 64 * 1024

/**
 * A send waits for the stream to drain only once this much is queued in its write buffer
 * (beyond what the muxer's window took). Waiting at the first `false` left the pipe empty
 * while the sender made its next frames (a relay reading its log from disk): a fresh
 * device's 100k-message history took 1.1 s instead of 0.75 s. Buffering without bound
 * (what @libp2p/utils' stale onDrain() amounted to) is what this bounds.
 */
export const SEND_HIGH_WATER_BYTES = 1024 * 1024

/**
 * The decoder asks for the next frame's length after every frame, and an incomplete (or
 * empty) prefix is a RangeError to it: uint8-varint built a new one each time, a stack trace
 * captured per frame received (~15 µs; 8 of the 51 ms a sender spent on its relay's acks in
 * the latency bench). One error made once says the same.
 */
const INCOMPLETE_PREFIX = new RangeError('the length prefix has not all arrived')

/** The varint length at the start of `buf`; throws INCOMPLETE_PREFIX until its last byte is in. */
function frameLength(buf: Uint8ArrayList | Uint8Array): number {
  const n = Math.min(buf.byteLength, 10)
  for (let i = 0; i < n; i++) {
    const byte = buf instanceof Uint8Array ? buf[i]! : buf.get(i)
    if ((byte & 0x80) === 0) return varint.decode(buf)
  }
  throw INCOMPLETE_PREFIX
}

/**
 * A libp2p stream as a sync {@link Link}: varint length-prefixed frames, each
 * at most MAX_FRAME_BYTES (our bound, not lpStream's 4 MiB default), with
 * the stream's own backpressure (past SEND_HIGH_WATER_BYTES queued → wait for drain).
 */
export class StreamLink implements Link {
  /** The wait for the stream's next 'drain', shared by every send that found it full. */
  private drained: Promise<void> | null = null

  constructor(
    private readonly stream: Stream,
    readonly remotePeerId: string,
    readonly direction: 'inbound' | 'outbound',
    readonly relayedVia?: string
  ) {}

  start(handlers: LinkHandlers): void {
    const decoder = new LengthPrefixedDecoder({ maxDataLength: MAX_FRAME_BYTES, maxBufferSize: MAX_FRAME_BYTES + 1024 * 1024, lengthDecoder: frameLength })
    let broken = false
    this.stream.addEventListener('message', evt => {
      if (broken) return
      try {
        const data = evt.data
        for (let at = 0; at < data.byteLength; at += FEED_BYTES) {
          const end = Math.min(at + FEED_BYTES, data.byteLength)
          const piece = data instanceof Uint8Array ? data.subarray(at, end) : data.sublist(at, end)
          for (const frame of decoder.decode(piece)) handlers.onFrame(frame.subarray())
        }
      } catch (err) {
        broken = true
        handlers.onError(new FrameTooLargeError(`frame from ${this.remotePeerId} exceeds ${MAX_FRAME_BYTES} bytes`, { cause: err }))
      }
    })
    this.stream.addEventListener('close', evt => {
      handlers.onClose(evt.error)
    })
    // the peer is done sending: nothing more will arrive, so close our side too
    this.stream.addEventListener('remoteCloseWrite', () => {
      this.close()
    })
  }

  async send(frame: Uint8Array): Promise<void> {
    if (this.stream.send(new Uint8ArrayList(varint.encode(frame.byteLength), frame))) return
    // (each turn waits for a real 'drain': a stream that needs none is sending what it holds)
    while (this.stream.writeBufferLength > SEND_HIGH_WATER_BYTES && this.stream.writableNeedsDrain) await this.nextDrain()
  }

  /**
   * Resolves at the stream's next 'drain' (rejects if it closes first). Not `stream.onDrain()`:
   * @libp2p/utils 7.4 keeps the first drain's resolved promise and hands it back every time
   * after, so from the second backpressure on a send resolved at once and a burst piled up
   * in the stream's unbounded write buffer.
   */
  private nextDrain(): Promise<void> {
    if (!this.stream.writableNeedsDrain) return Promise.resolve()
    this.drained ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        this.stream.removeEventListener('drain', onDrain)
        this.stream.removeEventListener('close', onClose)
        this.drained = null
        if (error === undefined) resolve()
        else reject(error)
      }
      const onDrain = (): void => {
        settle()
      }
      const onClose = (evt: StreamCloseEvent): void => {
        settle(evt.error ?? new Error('stream closed while waiting to send'))
      }
      this.stream.addEventListener('drain', onDrain)
      this.stream.addEventListener('close', onClose)
    })
    return this.drained
  }

  congested(): boolean {
    return this.stream.writableNeedsDrain
  }

  close(error?: TandemError): void {
    if (this.stream.status !== 'open') return
    this.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch(() => {
      this.stream.abort(error ?? new Error('close timed out'))
    })
  }
}
