/**
 * One /tandem/link/1.0.0 session on one stream: a protocol step machine (LinkDialer or
 * LinkListener) driven by frames from a FramedSession, the transport's framing and
 * send/receive chains. The machine decides, this sends what it answers, closes the stream
 * once it is over, and bounds the whole session: the peer's hello within
 * HELLO_DEADLINE_MS (FramedSession's deadline), everything within `deadlineMs`.
 */
import { decodeLinkFrame, encodeLinkFrame, type LinkFrame, linkErrorFrame, LinkCodeExpiredError, type LinkSession, type TandemError } from '@tandem/protocol'
import { FramedSession, type FrameCodec, type Link } from '@tandem/transport'
import type { Runtime, TimerHandle } from '../runtime.js'
import { LinkInterruptedError } from '../errors.js'

const LINK_FRAMES: FrameCodec<LinkFrame> = { encode: encodeLinkFrame, decode: decodeLinkFrame, errorFrame: linkErrorFrame }

export interface LinkChannelOptions {
  runtime: Runtime
  /** From start() until the session is cut with ERR_LINK_CODE_EXPIRED on both sides. */
  deadlineMs: number
  /** After each frame the machine took (its answer already on its way): the owner reads the machine's new state. */
  onStep(): void
}

export class LinkChannel {
  readonly #framed: FramedSession<LinkFrame>
  readonly #session: LinkSession<string>
  readonly #options: LinkChannelOptions
  #deadline: TimerHandle | null = null
  #settle!: { resolve: () => void; reject: (error: TandemError) => void }
  /** Resolves once the session finished; rejects with why it did not (ours, the peer's, or the transport's). */
  readonly ended: Promise<void>

  constructor(link: Link, session: LinkSession<string>, options: LinkChannelOptions) {
    this.#session = session
    this.#options = options
    this.ended = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    this.ended.catch(() => {}) // the owner reads it; an unread failure is not an unhandled rejection
    this.#framed = new FramedSession(link, LINK_FRAMES, {
      handle: frame => {
        this.#receive(frame)
      },
      handleNow: frame => {
        this.#receive(frame)
        return true
      },
      // a frame that did not decode, the hello deadline, an oversized frame: FramedSession
      // tells the peer; the machine learns why, so it refuses whatever comes after
      failed: error => {
        this.#session.abort(error)
      },
      closed: error => {
        this.#closed(error)
      }
    })
  }

  get over(): boolean {
    return this.#session.over
  }

  start(): void {
    const { runtime, deadlineMs } = this.#options
    this.#deadline = runtime.setTimeout(() => {
      this.#deadline = null
      this.abort(new LinkCodeExpiredError(`the link session took longer than ${Math.round(deadlineMs / 1000)} s: show a new code on the new device`))
    }, deadlineMs)
    this.#framed.start(runtime)
    this.send(this.#session.hello())
  }

  /** Sends what the machine answered a call; once it is over, closes the stream after those frames. */
  send(frames: LinkFrame[]): void {
    const sent = frames.map(f => this.#framed.send(f))
    if (!this.#session.over) return
    const error = this.#session.error ?? undefined
    void Promise.all(sent).then(() => {
      this.#framed.close(error)
    })
  }

  /** Ends the session with `error`, told to the peer (the person cancelled, the deadline, this device stops). */
  abort(error: TandemError): void {
    this.send(this.#session.abort(error))
  }

  #receive(frame: LinkFrame): void {
    this.send(this.#session.receive(frame))
    if (this.#session.transcript !== null) this.#framed.authenticated() // the hello came: its deadline is over
    this.#options.onStep()
  }

  #closed(error?: Error): void {
    if (this.#deadline !== null) {
      this.#options.runtime.clearTimeout(this.#deadline)
      this.#deadline = null
    }
    const session = this.#session
    if (session.state === 'finished') {
      this.#settle.resolve()
      return
    }
    // the stream went away mid-session: the machine must refuse anything after this
    if (!session.over) session.abort(new LinkInterruptedError(`the other device closed the link session${error === undefined ? '' : `: ${error.message}`}`, { cause: error }))
    this.#settle.reject(session.error!)
  }
}
