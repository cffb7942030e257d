import { NotAuthenticatedError, TandemError } from '@tandem/protocol'
import type { Link } from './link.js'

/**
 * How long a peer may take to say hello once the stream is open, in every protocol. A stream
 * that never did held its place (and its connection's) for the life of the connection; an
 * honest peer sends its hello the moment the stream opens.
 */
export const HELLO_DEADLINE_MS = 10_000

/** The timers a session's hello deadline runs on (the engine's runtime, the relay's timers: virtual in the simulator). */
export interface SessionTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** How one protocol's frames go to and from bytes. */
export interface FrameCodec<F> {
  encode(frame: F): Uint8Array
  /** Throws a typed error for bytes that are not a frame of the protocol. */
  decode(bytes: Uint8Array): F
  /**
   * The frame that tells the peer why we close. Absent where the protocol gives this side
   * none to send (a device never sends the relay an ERROR: it just closes).
   */
  errorFrame?(error: TandemError): F
}

/** One protocol's side of a session: what it does with frames, and what it hears of the end. */
export interface FrameHandler<F> {
  /** Handles a frame; frames are handled strictly in order, the next once this one is done. */
  handle(frame: F): Promise<void> | void
  /**
   * The fast path, offered a frame when nothing is queued ahead of it: handles it
   * synchronously and returns true, or returns false to leave it to {@link handle}.
   */
  handleNow?(frame: F): boolean
  /**
   * A frame that arrived before the session closed but was still queued when it did: the
   * protocol may still read what must not be lost (the chain link that revokes this device
   * comes just before the peer closes the stream). Nothing may be sent from here.
   */
  late?(frame: F): void
  /** The session fails with `error` (a bad frame, a handler that threw): called before it closes. */
  failed?(error: TandemError): void
  /** The session is over (once): closed by us, failed, or the link went away. */
  closed(error?: Error): void
}

/**
 * The skeleton every framed protocol session shares, on one {@link Link}: frames decoded
 * and handled strictly in order (synchronously when nothing is queued and the protocol
 * can), sends serialized so the chunks of one payload stay contiguous, a failure told to
 * the peer in an error frame before the link closes, and one report of the end.
 * The per-frame path takes no extra await: a frame is handled, and written, at once
 * when nothing is ahead of it.
 */
export class FramedSession<F> {
  private closed = false
  private recvChain: Promise<void> = Promise.resolve()
  /** Frames received and not yet handled: while any is, the next one queues behind it. */
  private receiving = 0
  private sendChain: Promise<void> = Promise.resolve()
  /** Frames given to {@link send} and not yet accepted by the transport. */
  private sending = 0
  /** The hello deadline while it runs: cleared by {@link authenticated} or the end. */
  private deadline: { timers: SessionTimers; handle: unknown } | null = null

  constructor(
    readonly link: Link,
    private readonly codec: FrameCodec<F>,
    private readonly handler: FrameHandler<F>
  ) {}

  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Starts reading the link. With `timers`, a peer that is not {@link authenticated} within
   * HELLO_DEADLINE_MS fails the session with ERR_NOT_AUTHENTICATED.
   */
  start(timers?: SessionTimers): void {
    if (timers !== undefined) {
      const handle = timers.setTimeout(() => {
        this.deadline = null
        this.fail(new NotAuthenticatedError(`no hello within ${HELLO_DEADLINE_MS / 1000} s of opening the stream`))
      }, HELLO_DEADLINE_MS)
      this.deadline = { timers, handle }
    }
    this.link.start({
      onFrame: bytes => {
        this.receive(bytes)
      },
      onError: error => {
        this.fail(error)
      },
      onClose: error => {
        this.end(error)
      }
    })
  }

  /**
   * Queues a frame; resolves once the transport accepted it (backpressure), or it was
   * dropped because the session closed. Never rejects: a failed write ends the session.
   */
  send(frame: F): Promise<void> {
    // nothing ahead of it: write it now rather than a microtask later (latency)
    const sent = this.sending++ === 0 ? this.write(frame) : this.sendChain.then(() => this.write(frame))
    this.sendChain = sent
    return sent
  }

  /** The peer's hello was accepted: the hello deadline no longer applies. */
  authenticated(): void {
    if (this.deadline === null) return
    this.deadline.timers.clearTimeout(this.deadline.handle)
    this.deadline = null
  }

  /** Closes the link and reports the end (once). */
  close(error?: TandemError): void {
    if (this.closed) return
    this.closed = true
    this.authenticated()
    this.link.close(error)
    this.handler.closed(error)
  }

  /** {@link fail}, once every frame queued so far is written: what must reach the peer before the end (the chain link that revokes it). */
  failAfterSends(err: unknown): void {
    void this.sendChain.then(() => {
      this.fail(err)
    })
  }

  /** Closes with a typed error, telling the peer why first (best effort). */
  fail(err: unknown): void {
    if (this.closed) return
    const error = err instanceof TandemError ? err : new TandemError('ERR_INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    this.handler.failed?.(error)
    if (this.closed) return
    // the error frame goes ahead of anything still queued: nothing after it matters
    const told = this.codec.errorFrame === undefined ? null : this.link.send(this.codec.encode(this.codec.errorFrame(error))).catch(() => {})
    this.closed = true
    this.authenticated()
    if (told === null) this.link.close(error)
    else
      void told.finally(() => {
        this.link.close(error)
      })
    this.handler.closed(error)
  }

  private receive(bytes: Uint8Array): void {
    if (this.closed) return
    let frame: F
    try {
      frame = this.codec.decode(bytes)
      // nothing queued ahead of it: handle it now if the protocol can, before the
      // transport goes on to its own bookkeeping (window updates…) — latency
      if (this.receiving === 0 && this.handler.handleNow?.(frame) === true) return
    } catch (err) {
      if (this.receiving === 0) {
        this.fail(err)
        return
      }
      // a bad frame behind queued ones fails the session in its turn
      this.receiving++
      this.recvChain = this.recvChain.then(() => {
        this.receiving--
        this.fail(err)
      })
      return
    }
    this.receiving++
    this.recvChain = this.recvChain.then(() => this.handleInTurn(frame))
  }

  private async handleInTurn(frame: F): Promise<void> {
    try {
      if (!this.closed) await this.handler.handle(frame)
      else this.handler.late?.(frame)
    } catch (err) {
      this.fail(err)
    } finally {
      this.receiving--
    }
  }

  private async write(frame: F): Promise<void> {
    try {
      if (!this.closed) await this.link.send(this.codec.encode(frame))
    } catch (err) {
      this.end(err as Error)
    } finally {
      this.sending--
    }
  }

  /** The link went away (or a write failed): report the end, once. */
  private end(error?: Error): void {
    if (this.closed) return
    this.closed = true
    this.authenticated()
    this.handler.closed(error)
  }
}
