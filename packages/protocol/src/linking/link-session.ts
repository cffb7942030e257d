/**
 * What both ends of a /tandem/link/1.0.0 session share: a pure step machine. Frames come
 * in through `receive`, the person's decisions through methods, and each call returns the
 * frames to send; nothing here reads a clock, a socket or a timer, so the engine (a libp2p
 * stream, its deadline) and the simulator drive it alike. Once `state` is 'failed' or
 * 'finished' the session is over: send what the last call returned, then close the stream.
 * The rules it enforces are PROTOCOL.md's "Linking: session rules".
 */
import { errorFromWire, MalformedFrameError, TandemError } from '../errors.js'
import { checkLinkVersion, type LinkFrame, type LinkFrameType, LINK_PROTOCOL_VERSION, linkErrorFrame } from './link-frames.js'
import { LINK_NONCE_BYTES, type LinkTranscript } from './transcript.js'

export abstract class LinkSession<State extends string> {
  #state: State | 'failed' | 'finished'
  #error: TandemError | null = null
  #transcript: LinkTranscript | null = null
  readonly #nonce: Uint8Array

  protected constructor(initial: State, nonce: Uint8Array) {
    if (!(nonce instanceof Uint8Array) || nonce.length !== LINK_NONCE_BYTES) throw new RangeError(`a link nonce is ${LINK_NONCE_BYTES} fresh random bytes`)
    this.#state = initial
    this.#nonce = nonce.slice()
  }

  get state(): State | 'failed' | 'finished' {
    return this.#state
  }

  /** Why the session failed: ours (sent to the peer) or the peer's (rebuilt from its error frame). */
  get error(): TandemError | null {
    return this.#error
  }

  /** Both sides' identities and nonces, once the peer's hello arrived. */
  get transcript(): LinkTranscript | null {
    return this.#transcript
  }

  get over(): boolean {
    return this.#state === 'failed' || this.#state === 'finished'
  }

  /** The first frame, sent as soon as the stream is open (both sides, without waiting). */
  hello(): LinkFrame[] {
    return [{ type: 'hello', version: LINK_PROTOCOL_VERSION, nonce: this.#nonce.slice() }]
  }

  /**
   * One frame from the peer; returns the frames to send. A frame the state does not expect,
   * or one that fails a check, ends the session with an error frame; an error frame from the
   * peer ends it without a reply.
   */
  receive(frame: LinkFrame): LinkFrame[] {
    if (this.over) return []
    if (frame.type === 'error') {
      this.#end('failed', errorFromWire(frame.code, frame.message))
      return []
    }
    return this.guarded(() => {
      if (frame.type === 'hello') {
        if (this.#transcript !== null) throw new MalformedFrameError('a second hello')
        checkLinkVersion(frame.version)
        this.#transcript = this.makeTranscript(this.#nonce, frame.nonce.slice())
        return this.afterHello()
      }
      if (this.#transcript === null) throw new MalformedFrameError(`${frame.type} frame before the peer's hello`)
      return this.step(frame, this.#transcript)
    })
  }

  /** The person ended the session (declined, cancelled): tell the peer why. */
  abort(error: TandemError): LinkFrame[] {
    if (this.over) return []
    this.#end('failed', error)
    return [linkErrorFrame(error)]
  }

  protected abstract makeTranscript(ownNonce: Uint8Array, peerNonce: Uint8Array): LinkTranscript
  protected abstract afterHello(): LinkFrame[]
  protected abstract step(frame: LinkFrame, t: LinkTranscript): LinkFrame[]

  protected move(state: State): void {
    this.#state = state
  }

  protected finish(): void {
    this.#end('finished', null)
  }

  protected expecting(frame: LinkFrame, ...types: LinkFrameType[]): void {
    if (!types.includes(frame.type)) throw new MalformedFrameError(`unexpected ${frame.type} frame while ${this.#state}`)
  }

  protected require(...states: State[]): void {
    if (!states.includes(this.#state as State)) throw new MalformedFrameError(`not now: the session is ${this.#state}`)
  }

  /** Runs a step; a TandemError it throws ends the session with that error, sent to the peer. */
  protected guarded(f: () => LinkFrame[]): LinkFrame[] {
    try {
      return f()
    } catch (e) {
      if (!(e instanceof TandemError)) throw e
      return this.abort(e)
    }
  }

  #end(state: 'failed' | 'finished', error: TandemError | null): void {
    this.#state = state
    this.#error = error
  }
}
