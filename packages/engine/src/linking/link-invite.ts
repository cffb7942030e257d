/**
 * The new device's side of linking: the code it shows and the one session that claims it.
 * Streams from dialers arrive through `accept`; each runs a LinkListener over the one
 * LinkCodeHolder, so the first dialer that proves the secret claims the code and every
 * later one is ERR_LINK_CODE_USED (the holder decides, synchronously). The person sees the
 * six digits (`confirmation`), types the passphrase when asked (`passphrase-needed`,
 * `enterPassphrase`), and `done` settles once: the account's chain accepted, or why not.
 */
import {
  derivePassphraseKey,
  formatLinkCodeText,
  InvalidCredentialsError,
  LINK_NONCE_BYTES,
  type LinkCode,
  LinkCodeExpiredError,
  LinkCodeHolder,
  type LinkCodeQrFormat,
  LinkDeclinedError,
  LinkListener,
  MIN_PASSPHRASE_PARAMS,
  type PassphraseParams,
  renderLinkCodeQr,
  type TandemError
} from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import { EngineStateError } from '../errors.js'
import type { TimerHandle } from '../runtime.js'
import { LinkChannel } from './link-channel.js'
import type { LinkHost } from './link-host.js'

/** The existing device asks for the account's passphrase; answer with `enterPassphrase` (it waits out `retryAfterMs` itself). */
export interface PassphraseRequest {
  /** Wrong passphrases so far in this session. */
  wrongAttempts: number
  /** How long the existing device makes this one wait before the next answer (its attempt limiter). */
  retryAfterMs: number
  /** Argon2id parameters of the account's verifier: how long deriving the key will take. */
  params: PassphraseParams
}

export interface LinkInviteEvents {
  /** The six digits to show: the dialer proved the secret and claimed the code. */
  confirmation: (digits: string) => void
  'passphrase-needed': (request: PassphraseRequest) => void
}

/** What the service gives an invite: where its sessions run and how they are tracked. */
export interface InviteContext {
  host: LinkHost
  deadlineMs: number
  /** Registers a running session (the service aborts them when it stops); returns its removal. */
  track(channel: LinkChannel): () => void
}

interface Claimed {
  listener: LinkListener
  channel: LinkChannel
  /** Runtime time from which the next passphrase answer may go (the dialer's announced wait). */
  answerFrom: number
  /** Challenges seen (the first, then each retry): one `passphrase-needed` event each. */
  challenges: number
}

export class LinkInvite {
  /** "tandem1-…": what the screen shows and the person types on the existing device. */
  readonly text: string
  /** Milliseconds since the epoch (runtime clock), a whole second. */
  readonly expiresAt: number
  /** Resolves once this device accepted the account's chain; rejects with a TandemError (expired, withdrawn, declined, wrong passphrase…). */
  readonly done: Promise<void>
  readonly #holder: LinkCodeHolder
  readonly #ctx: InviteContext
  readonly #listeners = { confirmation: new Set<LinkInviteEvents['confirmation']>(), 'passphrase-needed': new Set<LinkInviteEvents['passphrase-needed']>() }
  #settle!: { resolve: () => void; reject: (error: TandemError) => void }
  #settled = false
  /** The approval was taken: a cancel or withdrawal can no longer undo the link. */
  #accepting = false
  #claimed: Claimed | null = null
  #expiry: TimerHandle | null

  constructor(code: LinkCode, ctx: InviteContext) {
    const runtime = ctx.host.runtime
    this.#ctx = ctx
    this.#holder = new LinkCodeHolder(code, () => runtime.now())
    this.text = formatLinkCodeText(code)
    this.expiresAt = code.expiresAt
    this.done = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    this.done.catch(() => {}) // an app that never awaits `done` must not see an unhandled rejection
    this.#expiry = runtime.setTimeout(() => this.#expired(), Math.max(0, code.expiresAt - runtime.now()))
  }

  /** The code as a QR symbol ('terminal': half-block text; 'svg'), while it can still be claimed. */
  qr(format: LinkCodeQrFormat): string {
    if (this.#holder.state !== 'open') throw new EngineStateError(`this link code is ${this.#holder.state}: show a new one`)
    return renderLinkCodeQr(this.#holder.code, format)
  }

  /** The six digits once a dialer claimed the code, else null. */
  get confirmation(): string | null {
    return this.#claimed?.listener.confirmation ?? null
  }

  /** The passphrase question waiting for an answer, else null. */
  get passphraseRequest(): PassphraseRequest | null {
    const c = this.#claimed
    const challenge = c?.listener.state === 'passphrase' ? c.listener.passphraseChallenge : null
    return challenge === null || challenge === undefined ? null : { wrongAttempts: challenge.wrongAttempts, retryAfterMs: challenge.retryAfterMs, params: challenge.params }
  }

  on<E extends keyof LinkInviteEvents>(event: E, listener: LinkInviteEvents[E]): () => void {
    const set = this.#listeners[event] as Set<LinkInviteEvents[E]>
    set.add(listener)
    return () => {
      set.delete(listener)
    }
  }

  /**
   * The person typed the passphrase: derives the key (Argon2id, ~1 s), waits out the
   * existing device's announced wait, and answers. Rejects with InvalidCredentialsError for
   * text that cannot be a passphrase (the question stays open), EngineStateError when none
   * is asked (any more).
   */
  async enterPassphrase(text: string): Promise<void> {
    const c = this.#claimed
    const challenge = c?.listener.state === 'passphrase' ? c.listener.passphraseChallenge : null
    if (c === null || challenge === null) throw new EngineStateError('no passphrase is asked for now')
    const key = await derivePassphraseKey(text, challenge.salt, challenge.params)
    const runtime = this.#ctx.host.runtime
    const wait = c.answerFrom - runtime.now()
    if (wait > 0) await new Promise<void>(resolve => runtime.setTimeout(resolve, wait))
    if (c.listener.state !== 'passphrase') throw new EngineStateError('the passphrase is no longer asked for: the link session ended or was answered')
    c.channel.send(c.listener.answerPassphrase(key))
  }

  /** The person closed the code (or the digits differ): a session in progress is declined, and the code can never be claimed. */
  cancel(): void {
    this.withdraw(new LinkDeclinedError('the person cancelled the link on the new device'))
  }

  /** Ends the invite with `error` (the service: a new code replaced it, the device stopped). */
  withdraw(error: TandemError): void {
    // the approval came and `done` went out: the existing device reports success and the chain
    // lists this device, so what is left (joining the account here) finishes whatever comes
    if (this.#accepting) return
    this.#holder.withdraw()
    const c = this.#claimed
    if (c !== null && !c.channel.over)
      c.channel.abort(error) // `done` settles with the session's end
    else this.#end(error)
  }

  /** A dialer's stream (Noise authenticated `remotePeerId`): a session for this code, claimed or refused by the holder. */
  accept(link: Link, remotePeerId: string): void {
    const { host } = this.#ctx
    const listener = new LinkListener({ holder: this.#holder, remotePeerId, nonce: host.runtime.randomBytes(LINK_NONCE_BYTES), device: host.describeSelf() })
    const channel = new LinkChannel(link, listener, { runtime: host.runtime, deadlineMs: this.#ctx.deadlineMs, onStep: () => this.#step(listener, channel, remotePeerId) })
    const untrack = this.#ctx.track(channel)
    channel.ended.then(
      () => untrack(),
      (error: TandemError) => {
        untrack()
        // only the session that claimed the code decides the invite; the others (a wrong
        // secret, too late) leave it as it was
        if (this.#claimed?.channel === channel) this.#end(error)
      }
    )
    channel.start()
  }

  #step(listener: LinkListener, channel: LinkChannel, remotePeerId: string): void {
    if (this.#claimed === null && listener.confirmation !== null) {
      this.#claimed = { listener, channel, answerFrom: 0, challenges: 0 }
      this.#stopExpiry() // claimed in time: the session's deadline bounds the rest
      this.#emit('confirmation', listener.confirmation)
    }
    const c = this.#claimed
    if (c?.listener !== listener) return
    const challenge = listener.state === 'passphrase' ? listener.passphraseChallenge : null
    if (challenge !== null && challenge.wrongAttempts + 1 > c.challenges) {
      c.challenges = challenge.wrongAttempts + 1
      const { params } = challenge
      // a dialer asking for cheap parameters would make each guess cheap for whoever
      // reads the proof: refuse before the person types anything
      if (params.t < MIN_PASSPHRASE_PARAMS.t || params.m < MIN_PASSPHRASE_PARAMS.m) {
        channel.abort(new InvalidCredentialsError(`Argon2id parameters t=${params.t} m=${params.m} are weaker than this device accepts`))
        return
      }
      c.answerFrom = this.#ctx.host.runtime.now() + challenge.retryAfterMs
      this.#emit('passphrase-needed', { wrongAttempts: challenge.wrongAttempts, retryAfterMs: challenge.retryAfterMs, params })
    }
    const approval = listener.approval
    if (listener.state === 'finished' && approval !== null && !this.#accepting) {
      // `done` went to the existing device already: what is left is this device's own step
      this.#accepting = true
      this.#ctx.host.acceptGrant(approval, remotePeerId).then(
        () => this.#end(null),
        (e: unknown) => this.#end(e as TandemError)
      )
    }
  }

  #expired(): void {
    this.#expiry = null
    if (this.#holder.state === 'claimed') return
    if (this.#holder.state === 'open') this.#holder.withdraw() // the timer ran ahead of the clock: close it anyway
    this.#end(new LinkCodeExpiredError('the link code expired before another device used it: show a new code'))
  }

  #stopExpiry(): void {
    if (this.#expiry === null) return
    this.#ctx.host.runtime.clearTimeout(this.#expiry)
    this.#expiry = null
  }

  #end(error: TandemError | null): void {
    if (this.#settled) return
    this.#settled = true
    this.#stopExpiry()
    this.#holder.withdraw()
    if (error === null) this.#settle.resolve()
    else this.#settle.reject(error)
  }

  #emit<E extends keyof LinkInviteEvents>(event: E, ...args: Parameters<LinkInviteEvents[E]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        ;(listener as (...a: Parameters<LinkInviteEvents[E]>) => void)(...args)
      } catch {
        /* an app's listener bug must not break the session */
      }
    }
  }
}
