/**
 * The new device's side of a link session: it shows the code (its LinkCodeHolder) and
 * answers a dialer. It proves the secret only to a dialer that proved it first, claims the
 * code for that one session, describes itself, waits for the person's confirmation on the
 * existing device, answers the passphrase challenge if one comes, and takes the approval
 * when it carries a valid chain of the account whose head, signed by the dialer, lists this
 * device as it described itself.
 */
import { equalBytes } from '@noble/curves/utils.js'
import { peerIdFromSigningKey } from '../device-chain/keys.js'
import { type ChainDevice, decodeChain } from '../device-chain/link.js'
import { verifyChain } from '../device-chain/rules.js'
import { LinkDeclinedError, LinkProofError } from '../errors.js'
import type { LinkCodeHolder } from './link-code-holder.js'
import type { LinkedDeviceInfo, LinkGrant } from './link-dialer.js'
import type { LinkFrame } from './link-frames.js'
import { LinkSession } from './link-session.js'
import { type PassphraseParams, passphraseProof } from './passphrase.js'
import type { LinkTranscript } from './transcript.js'

export type LinkListenerState = 'hello' | 'proving' | 'confirming' | 'confirmed' | 'passphrase' | 'passphrase-sent'

export interface LinkListenerOptions {
  holder: LinkCodeHolder
  /** The dialer's peer id as Noise authenticated it on the stream. */
  remotePeerId: string
  nonce: Uint8Array
  /** This device's agreement key, name and platform, for the chain link that adds it. */
  device: LinkedDeviceInfo
}

/**
 * What the approval handed over, once checked: a chain that verifies from its genesis, of
 * `accountId`, whose head lists this device. The engine still compares it with the chain a
 * relay holds (a fork) before it acts on it.
 */
export type LinkApproval = LinkGrant

export class LinkListener extends LinkSession<LinkListenerState> {
  readonly #options: LinkListenerOptions
  #confirmation: string | null = null
  #challenge: { params: PassphraseParams; salt: Uint8Array; retryAfterMs: number; attempts: number } | null = null
  #approval: LinkApproval | null = null

  constructor(options: LinkListenerOptions) {
    super('hello', options.nonce)
    this.#options = options
  }

  /** The six digits to show once the dialer proved the secret. */
  get confirmation(): string | null {
    return this.#confirmation
  }

  /** The challenge to answer (salt, parameters) and how long to wait before answering, once asked. */
  get passphraseChallenge(): { params: PassphraseParams; salt: Uint8Array; retryAfterMs: number; wrongAttempts: number } | null {
    const c = this.#challenge
    return c === null ? null : { params: { ...c.params }, salt: c.salt.slice(), retryAfterMs: c.retryAfterMs, wrongAttempts: c.attempts }
  }

  get approval(): LinkApproval | null {
    return this.#approval
  }

  protected makeTranscript(ownNonce: Uint8Array, peerNonce: Uint8Array): LinkTranscript {
    return { dialerPeerId: this.#options.remotePeerId, listenerPeerId: this.#options.holder.code.peerId, dialerNonce: peerNonce, listenerNonce: ownNonce }
  }

  protected afterHello(): LinkFrame[] {
    this.move('proving')
    return []
  }

  protected step(frame: LinkFrame, t: LinkTranscript): LinkFrame[] {
    switch (this.state) {
      case 'proving': {
        this.expecting(frame, 'proof')
        // Claims the code for this session, or throws (used, expired, wrong proof).
        const claim = this.#options.holder.claim(t, (frame as Extract<LinkFrame, { type: 'proof' }>).proof)
        this.#confirmation = claim.confirmation
        this.move('confirming')
        const { agreementKey, name, platform } = this.#options.device
        return [
          { type: 'proof', proof: claim.listenerProof },
          { type: 'device', agreementKey: agreementKey.slice(), name, platform }
        ]
      }
      case 'confirming':
        this.expecting(frame, 'confirmed')
        this.move('confirmed')
        return []
      case 'confirmed':
        this.expecting(frame, 'passphrase-challenge', 'approval')
        if (frame.type === 'passphrase-challenge') {
          this.#challenge = { params: frame.params, salt: frame.salt.slice(), retryAfterMs: 0, attempts: 0 }
          this.move('passphrase')
          return []
        }
        return this.#approve(frame as Extract<LinkFrame, { type: 'approval' }>)
      case 'passphrase-sent':
        this.expecting(frame, 'passphrase-retry', 'approval')
        if (frame.type === 'passphrase-retry') {
          this.#challenge = { ...this.#challenge!, retryAfterMs: frame.retryAfterMs, attempts: this.#challenge!.attempts + 1 }
          this.move('passphrase')
          return []
        }
        return this.#approve(frame as Extract<LinkFrame, { type: 'approval' }>)
      default:
        this.expecting(frame)
        return []
    }
  }

  /**
   * The key derivePassphraseKey made from what the person typed (with this challenge's salt
   * and parameters, and the minimum this device accepts). Send it only after `retryAfterMs`.
   */
  answerPassphrase(key: Uint8Array): LinkFrame[] {
    return this.guarded(() => {
      this.require('passphrase')
      this.move('passphrase-sent')
      return [{ type: 'passphrase-proof', proof: passphraseProof(key, this.transcript!) }]
    })
  }

  /** The person cancelled on the new device (the digits differ, or they gave up on the passphrase). */
  decline(): LinkFrame[] {
    return this.abort(new LinkDeclinedError('the person declined the link on the new device'))
  }

  /**
   * The approval is kept, and `done` sent, only if its chain verifies as the account's (else
   * the chain rules' own error: ERR_INVALID_DEVICE_LIST, ERR_WRONG_ACCOUNT, …), the link that
   * added this device was signed by the dialer Noise authenticated and lists it exactly as it
   * described itself, and the head still lists it (else ERR_LINK_PROOF): a stolen or replayed
   * chain adds nothing. Not the head's signer: when two devices linked at once, the one that
   * lost at the relay signed its link again on top of the other's, and either may be the head.
   */
  #approve(frame: Extract<LinkFrame, { type: 'approval' }>): LinkFrame[] {
    const links = decodeChain(frame.chain)
    const state = verifyChain(links, { accountId: frame.accountId })
    const own = this.#options.holder.code.peerId
    const entryIn = (devices: readonly ChainDevice[]) => devices.find(d => peerIdFromSigningKey(d.signingKey) === own)
    if (entryIn(state.head.devices) === undefined) throw new LinkProofError('the approval’s chain head does not list this device')
    const adding = links.find(l => entryIn(l.devices) !== undefined)!
    if (adding.signer.kind !== 'device' || peerIdFromSigningKey(adding.signer.publicKey) !== this.#options.remotePeerId) {
      throw new LinkProofError('the link that lists this device was not signed by the device that dialed')
    }
    const listed = entryIn(adding.devices)!
    const { agreementKey, name, platform } = this.#options.device
    if (!equalBytes(listed.agreementKey, agreementKey)) throw new LinkProofError('the approval’s chain lists this device with another agreement key')
    if (listed.name !== name || listed.platform !== platform) throw new LinkProofError('the approval’s chain lists this device with another name or platform')
    this.#approval = { accountId: state.accountId, chain: frame.chain.slice(), keyMaterial: frame.keyMaterial.slice(), hints: frame.hints }
    this.finish()
    return [{ type: 'done' }]
  }
}
