/**
 * The existing device's side of a link session: it read the code, dialed the new device and
 * decides. Order (PROTOCOL.md, "Linking: session rules"): hello both ways → its proof → the
 * new device's proof and description → the person compares the six digits and confirms →
 * the passphrase check when the account has one → approve (the engine signs and publishes
 * the chain link first, then hands over the whole chain) → the new device's done.
 */
import { LinkDeclinedError, WrongPassphraseError } from '../errors.js'
import type { AttemptLimiter } from './attempt-limiter.js'
import { checkLinkPeer, type LinkCode } from './link-code.js'
import { type ChatHint, encodeLinkFrame, type LinkFrame } from './link-frames.js'
import { LinkSession } from './link-session.js'
import { type PassphraseVerifier, verifyPassphraseProof } from './passphrase.js'
import { confirmationCode, type LinkTranscript, linkProof, verifyLinkProof } from './transcript.js'

/**
 * Wrong passphrases one session answers with a retry; the next ends it with
 * ERR_WRONG_PASSPHRASE. The limiter bounds guesses over time across sessions; this bounds a
 * session, so a person who forgot the passphrase learns it, and each new try needs a new
 * code shown on the new device.
 */
export const MAX_PASSPHRASE_ATTEMPTS_PER_SESSION = 3

export type LinkDialerState = 'hello' | 'proving' | 'describing' | 'confirming' | 'passphrase' | 'approving' | 'approved'

/** What the new device says it is, for the chain link that adds it. */
export interface LinkedDeviceInfo {
  agreementKey: Uint8Array
  name: string
  platform: string
}

export interface LinkDialerOptions {
  code: LinkCode
  /** This device's peer id, and the new device's as Noise authenticated it on the stream. */
  localPeerId: string
  remotePeerId: string
  /** LINK_NONCE_BYTES from the runtime's randomness, for this session only. */
  nonce: Uint8Array
  /** The account's passphrase verifier; null when it has none. */
  passphrase: PassphraseVerifier | null
  /** This device's limiter (one for all sessions, saved across restarts). */
  limiter: AttemptLimiter
  /** Default MAX_PASSPHRASE_ATTEMPTS_PER_SESSION. */
  maxPassphraseAttempts?: number
}

/** What the approval hands over: the account's device chain (encodeChain; its head lists the new device, signed by this one), the key material and the chats to open first. */
export interface LinkGrant {
  accountId: string
  chain: Uint8Array
  keyMaterial: Uint8Array
  hints: ChatHint[]
}

export class LinkDialer extends LinkSession<LinkDialerState> {
  readonly #options: LinkDialerOptions
  #device: LinkedDeviceInfo | null = null
  #confirmation: string | null = null
  #wrongPassphrases = 0

  /** Throws LinkProofError when Noise authenticated another device than the code names: dial nothing more. */
  constructor(options: LinkDialerOptions) {
    checkLinkPeer(options.code, options.remotePeerId)
    super('hello', options.nonce)
    this.#options = options
  }

  /** The six digits to show once the new device proved the secret. */
  get confirmation(): string | null {
    return this.#confirmation
  }

  /** The new device's description, once received: what `approve` must list. */
  get device(): LinkedDeviceInfo | null {
    return this.#device
  }

  protected makeTranscript(ownNonce: Uint8Array, peerNonce: Uint8Array): LinkTranscript {
    return { dialerPeerId: this.#options.localPeerId, listenerPeerId: this.#options.remotePeerId, dialerNonce: ownNonce, listenerNonce: peerNonce }
  }

  protected afterHello(): LinkFrame[] {
    this.move('proving')
    return [{ type: 'proof', proof: linkProof(this.#options.code.secret, this.transcript!, 'dialer') }]
  }

  protected step(frame: LinkFrame, t: LinkTranscript): LinkFrame[] {
    switch (this.state) {
      case 'proving':
        this.expecting(frame, 'proof')
        verifyLinkProof(this.#options.code.secret, t, 'listener', (frame as Extract<LinkFrame, { type: 'proof' }>).proof)
        this.#confirmation = confirmationCode(this.#options.code.secret, t)
        this.move('describing')
        return []
      case 'describing': {
        this.expecting(frame, 'device')
        const { agreementKey, name, platform } = frame as Extract<LinkFrame, { type: 'device' }>
        this.#device = { agreementKey: agreementKey.slice(), name, platform }
        this.move('confirming')
        return []
      }
      case 'passphrase': {
        this.expecting(frame, 'passphrase-proof')
        const limiter = this.#options.limiter
        limiter.check() // too early after a wrong one: LinkRateLimitedError ends the session
        try {
          verifyPassphraseProof(this.#options.passphrase!, t, (frame as Extract<LinkFrame, { type: 'passphrase-proof' }>).proof)
        } catch (e) {
          if (!(e instanceof WrongPassphraseError)) throw e
          const retryAfterMs = limiter.failed()
          if (++this.#wrongPassphrases >= (this.#options.maxPassphraseAttempts ?? MAX_PASSPHRASE_ATTEMPTS_PER_SESSION)) {
            throw new WrongPassphraseError(`wrong passphrase ${this.#wrongPassphrases} times: show a new code on the new device to try again`)
          }
          return [{ type: 'passphrase-retry', retryAfterMs }]
        }
        limiter.succeeded()
        this.move('approving')
        return []
      }
      case 'approved':
        this.expecting(frame, 'done')
        this.finish()
        return []
      default:
        this.expecting(frame)
        return []
    }
  }

  /** The person saw the same six digits on both screens. Asks for the passphrase next when the account has one. */
  confirm(): LinkFrame[] {
    return this.guarded(() => {
      this.require('confirming')
      const verifier = this.#options.passphrase
      if (verifier === null) {
        this.move('approving')
        return [{ type: 'confirmed' }]
      }
      this.#options.limiter.check() // waiting out a backoff: no challenge until it is over
      this.move('passphrase')
      return [{ type: 'confirmed' }, { type: 'passphrase-challenge', params: { ...verifier.params }, salt: verifier.salt.slice() }]
    })
  }

  /** The digits differ, or the person does not want this device: nothing is linked. */
  decline(): LinkFrame[] {
    return this.abort(new LinkDeclinedError('the person declined the link on the existing device'))
  }

  /** True once the new device proved the secret, was confirmed and passed the passphrase: the chain link may be signed now. */
  get approvable(): boolean {
    return this.state === 'approving'
  }

  /**
   * Hands over the account's chain, whose head (signed and, by the engine, published) lists
   * the new device, and the key material. A grant over the frame's bounds ends the session
   * with that error, sent to the peer, rather than failing later in the transport.
   */
  approve(grant: LinkGrant): LinkFrame[] {
    return this.guarded(() => {
      this.require('approving')
      const frame: LinkFrame = { type: 'approval', accountId: grant.accountId, chain: grant.chain, keyMaterial: grant.keyMaterial, hints: grant.hints }
      encodeLinkFrame(frame) // throws FrameTooLargeError / MalformedFrameError now
      this.move('approved')
      return [frame]
    })
  }
}
