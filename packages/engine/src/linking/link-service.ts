/**
 * The engine's /tandem/link/1.0.0 service (PROTOCOL.md, "Linking"). A new device shows a
 * code (`showCode`) and answers the dialer that proves its secret; an existing device reads
 * a code (`linkDevice`), dials the new device, lets the person compare the six digits,
 * checks the passphrase with its attempt limiter, and hands over the account's chain once
 * the host signed and published the link that adds the device. The protocol's step
 * machines decide every step; this moves their frames over libp2p streams, asks the person
 * and the host, and bounds every wait on the runtime's timers.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import {
  AttemptLimiter,
  createLinkCode,
  DEFAULT_LINK_CODE_TTL_MS,
  encodeLinkFrame,
  LINK_NONCE_BYTES,
  LINK_PROTOCOL,
  LinkCodeExpiredError,
  LinkDeclinedError,
  LinkDialer,
  linkDialAddresses,
  linkErrorFrame,
  MAX_LINK_ADDRESS_BYTES,
  MAX_LINK_ADDRESSES,
  readLinkCodeText,
  TandemError
} from '@tandem/protocol'
import { StreamLink } from '@tandem/transport'
import { EngineStateError, InvalidArgumentError } from '../errors.js'
import { LinkChannel } from './link-channel.js'
import { LinkInterruptedError, LinkUnreachableError } from '../errors.js'
import type { LinkHost } from './link-host.js'
import { LinkInvite } from './link-invite.js'

/**
 * How long one session may take from the stream's opening: the person compares six digits
 * and may type a passphrase (up to three times, ~1 s of Argon2id each). A session that
 * takes longer is cut (ERR_LINK_CODE_EXPIRED): it held a stream and a person's attention.
 */
export const LINK_SESSION_TIMEOUT_MS = 5 * 60_000
/** How long the existing device tries to reach the new one before ERR_LINK_UNREACHABLE. */
export const LINK_DIAL_TIMEOUT_MS = 15_000
/** Link sessions a device serves at once; one claims the code, the rest are strangers or late dialers. */
export const MAX_INBOUND_LINK_SESSIONS = 4

export interface LinkServiceOptions {
  sessionTimeoutMs?: number
  dialTimeoutMs?: number
}

/** What the person on the existing device sees before deciding: the digits to compare and the device to add. */
export interface LinkConfirmation {
  confirmation: string
  name: string
  platform: string
  peerId: string
  /** Aborted when the session ends before the person decided (the other side cancelled, the deadline): close the prompt. */
  signal: AbortSignal
}

export interface LinkDeviceOptions {
  /** True when the person saw the same six digits on both screens and wants the device linked. */
  confirm: (info: LinkConfirmation) => Promise<boolean>
  /** Cancels the link (ERR_LINK_DECLINED on both sides) until the chain link is signed. */
  signal?: AbortSignal
}

export class LinkService {
  readonly #host: LinkHost
  readonly #sessionTimeoutMs: number
  readonly #dialTimeoutMs: number
  readonly #channels = new Set<LinkChannel>()
  #started = false
  #invite: LinkInvite | null = null
  #limiter: Promise<AttemptLimiter> | null = null
  /** Limiter states are saved in order, one after another. */
  #saving: Promise<void> = Promise.resolve()

  constructor(host: LinkHost, options: LinkServiceOptions = {}) {
    this.#host = host
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? LINK_SESSION_TIMEOUT_MS
    this.#dialTimeoutMs = options.dialTimeoutMs ?? LINK_DIAL_TIMEOUT_MS
  }

  /** Serves /tandem/link/1.0.0, relayed connections included: a new device behind NAT is reached through a relay's circuit. */
  async start(): Promise<void> {
    if (this.#started) return
    await this.#host.handle(
      LINK_PROTOCOL,
      (stream, connection) => {
        this.#inbound(stream, connection)
      },
      { runOnLimitedConnection: true }
    )
    this.#started = true
  }

  /** Stops serving; a shown code is withdrawn and every session in progress ends (ERR_LINK_INTERRUPTED to the other side). */
  async stop(): Promise<void> {
    if (!this.#started) return
    this.#started = false
    const error = new LinkInterruptedError('the device stopped linking')
    this.#invite?.withdraw(error)
    for (const channel of [...this.#channels]) channel.abort(error)
    await this.#host.unhandle(LINK_PROTOCOL)
    await this.#saving
  }

  /**
   * New device: a fresh code (single use, `ttlMs` default 5 min) to show as text or QR.
   * A code shown before is withdrawn. A device that has an account already refuses.
   */
  showCode(options: { ttlMs?: number } = {}): LinkInvite {
    this.#requireStarted()
    const host = this.#host
    if (host.hasAccount()) throw new EngineStateError('this device is a device of an account already: link other devices from it instead')
    const self = host.describeSelf()
    try {
      encodeLinkFrame({ type: 'device', ...self }) // what the listener will send: checked now, not mid-session
    } catch (e) {
      throw new InvalidArgumentError(`this device cannot describe itself for a link: ${(e as Error).message}`)
    }
    const ttlMs = options.ttlMs ?? DEFAULT_LINK_CODE_TTL_MS
    let code: ReturnType<typeof createLinkCode>
    try {
      code = createLinkCode({
        peerId: host.peerId,
        addresses: codeAddresses(host.reachableAddresses()),
        randomBytes: n => host.runtime.randomBytes(n),
        now: () => host.runtime.now(),
        ttlMs
      })
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message)
    }
    this.#invite?.withdraw(new LinkCodeExpiredError('a new link code replaced this one'))
    this.#invite = new LinkInvite(code, { host, deadlineMs: this.#sessionTimeoutMs, track: c => this.#track(c) })
    return this.#invite
  }

  /**
   * Existing device: links the device that shows `text`. Resolves once the new device
   * accepted the chain; rejects with a TandemError: ERR_INVALID_LINK_CODE (a typo, with
   * its place), ERR_LINK_CODE_EXPIRED, ERR_LINK_UNREACHABLE, ERR_LINK_PROOF,
   * ERR_LINK_CODE_USED, ERR_LINK_DECLINED, ERR_WRONG_PASSPHRASE, ERR_LINK_RATE_LIMITED,
   * or the host's own refusal to sign.
   */
  async linkDevice(text: string, options: LinkDeviceOptions): Promise<{ peerId: string; name: string }> {
    this.#requireStarted()
    const host = this.#host
    const { runtime } = host
    if (!host.hasAccount()) throw new EngineStateError('only a device of an account can link another: create or join an account first')
    if (typeof options?.confirm !== 'function') throw new InvalidArgumentError('linkDevice needs a confirm callback: the person compares the six digits')
    const code = readLinkCodeText(text, { now: runtime.now() })
    if (code.peerId === host.peerId) throw new InvalidArgumentError('this is the code this device shows')
    const signal = options.signal
    if (signal?.aborted) throw new LinkDeclinedError('the link was cancelled on this device')
    const limiter = await this.#loadLimiter()
    const { stream, remotePeerId } = await this.#dial(linkDialAddresses(code), code.peerId, signal)

    let dialer: LinkDialer
    try {
      // Noise authenticated another device than the code names: say nothing to it (ERR_LINK_PROOF)
      dialer = new LinkDialer({ code, localPeerId: host.peerId, remotePeerId, nonce: runtime.randomBytes(LINK_NONCE_BYTES), passphrase: host.passphraseVerifier(), limiter })
    } catch (e) {
      stream.abort(e as Error)
      throw e
    }
    const over = new AbortController()
    let asked = false
    let approving = false
    let saved = JSON.stringify(limiter.state)
    const step = (): void => {
      const now = JSON.stringify(limiter.state)
      if (now !== saved) {
        saved = now
        this.#saveLimiter(limiter)
      }
      if (dialer.state === 'confirming' && !asked) {
        asked = true
        void ask()
      }
      if (dialer.approvable && !approving) {
        approving = true
        void approve()
      }
    }
    const channel = new LinkChannel(new StreamLink(stream, remotePeerId, 'outbound'), dialer, { runtime, deadlineMs: this.#sessionTimeoutMs, onStep: step })
    const ask = async (): Promise<void> => {
      const device = dialer.device!
      let yes = false
      try {
        yes = (await options.confirm({ confirmation: dialer.confirmation!, name: device.name, platform: device.platform, peerId: remotePeerId, signal: over.signal })) === true
      } catch {
        yes = false // a prompt that failed is no confirmation
      }
      if (dialer.over) return
      channel.send(yes ? dialer.confirm() : dialer.decline())
      step() // confirmed without a passphrase is approvable at once; a limiter still waiting ended the session
    }
    const approve = async (): Promise<void> => {
      const { agreementKey, name, platform } = dialer.device!
      try {
        const grant = await host.approveDevice({ peerId: remotePeerId, agreementKey, name, platform })
        // (ended meanwhile: the link may be published without the new device ever holding it; it can be revoked)
        if (!dialer.over) channel.send(dialer.approve(grant))
      } catch (e) {
        channel.abort(e instanceof TandemError ? e : new TandemError('ERR_INTERNAL', `signing the link failed: ${String((e as Error)?.message ?? e)}`, { cause: e }))
      }
    }
    const cancel = (): void => {
      if (!approving) channel.abort(new LinkDeclinedError('the link was cancelled on the existing device'))
    }
    signal?.addEventListener('abort', cancel, { once: true })
    const untrack = this.#track(channel)
    try {
      channel.start()
      await channel.ended
      return { peerId: remotePeerId, name: dialer.device!.name }
    } finally {
      signal?.removeEventListener('abort', cancel)
      over.abort()
      untrack()
      await this.#saving
    }
  }

  #inbound(stream: Stream, connection: Connection): void {
    const remotePeerId = connection.remotePeer.toString()
    const link = new StreamLink(stream, remotePeerId, 'inbound')
    const invite = this.#invite
    if (!this.#started || this.#channels.size >= MAX_INBOUND_LINK_SESSIONS) {
      stream.abort(new Error('no link session can start now'))
      return
    }
    if (invite === null) {
      // no code was shown: tell the dialer why rather than leave it waiting for a hello
      void link.send(encodeLinkFrame(linkErrorFrame(new LinkCodeExpiredError('this device shows no link code')))).finally(() => link.close())
      return
    }
    invite.accept(link, remotePeerId)
  }

  async #dial(addresses: string[], peerId: string, signal: AbortSignal | undefined): Promise<{ stream: Stream; remotePeerId: string }> {
    const { runtime } = this.#host
    const controller = new AbortController()
    const timer = runtime.setTimeout(() => controller.abort(new LinkUnreachableError(`no answer from ${peerId} within ${this.#dialTimeoutMs / 1000} s`)), this.#dialTimeoutMs)
    const cancel = (): void => controller.abort(new LinkDeclinedError('the link was cancelled on this device'))
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      return await this.#host.dial(addresses, peerId, LINK_PROTOCOL, controller.signal)
    } catch (e) {
      if (controller.signal.reason instanceof TandemError) throw controller.signal.reason
      if (e instanceof TandemError) throw e
      throw new LinkUnreachableError(`could not reach the new device ${peerId}: ${String((e as Error)?.message ?? e)}`, { cause: e })
    } finally {
      runtime.clearTimeout(timer)
      signal?.removeEventListener('abort', cancel)
    }
  }

  #track(channel: LinkChannel): () => void {
    this.#channels.add(channel)
    return () => {
      this.#channels.delete(channel)
    }
  }

  #loadLimiter(): Promise<AttemptLimiter> {
    const { runtime } = this.#host
    this.#limiter ??= this.#host.loadLimiterState().then(state => new AttemptLimiter(() => runtime.now(), state === null ? {} : { state }))
    // a failed load is tried again next time rather than remembered
    this.#limiter.catch(() => {
      this.#limiter = null
    })
    return this.#limiter
  }

  #saveLimiter(limiter: AttemptLimiter): void {
    const state = limiter.state
    this.#saving = this.#saving.then(() => this.#host.saveLimiterState(state)).catch(() => {})
  }

  #requireStarted(): void {
    if (!this.#started) throw new EngineStateError('the link service is not started')
  }
}

/**
 * At most MAX_LINK_ADDRESSES of the host's addresses, each a multiaddr of at most
 * MAX_LINK_ADDRESS_BYTES: relay circuits first (they reach the device from anywhere), then
 * direct ones (the LAN, fastest when both devices share it).
 */
export function codeAddresses(addresses: readonly string[]): string[] {
  const usable: string[] = []
  for (const a of new Set(addresses)) {
    try {
      if (multiaddr(a).bytes.length <= MAX_LINK_ADDRESS_BYTES) usable.push(a)
    } catch {
      /* not a multiaddr: the host's bug, not worth failing the code for */
    }
  }
  const circuits = usable.filter(a => a.includes('/p2p-circuit'))
  const direct = usable.filter(a => !a.includes('/p2p-circuit'))
  return [...circuits.slice(0, 2), ...direct, ...circuits.slice(2)].slice(0, MAX_LINK_ADDRESSES)
}
