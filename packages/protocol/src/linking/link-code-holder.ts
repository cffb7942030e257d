/**
 * The new device's side of a code it shows: the only place that knows whether the secret
 * was used. Single use means one session, ever: the first dialer whose proof verifies
 * before the expiry claims the code, and every later session is ERR_LINK_CODE_USED, even if
 * the first one then fails (declined, wrong passphrase, connection lost): the person shows a
 * new code. A proof that does not verify claims nothing, so a stranger who sees the peer id
 * (mDNS announces it) cannot use the code up without its secret.
 *
 * The expiry is judged here on this device's clock, without tolerance: the shower is the
 * judge of its own code (readers allow for skew, LINK_CODE_CLOCK_SKEW_MS).
 */
import { LinkCodeExpiredError, LinkCodeUsedError, LinkProofError } from '../errors.js'
import type { LinkCode } from './link-code.js'
import { confirmationCode, type LinkTranscript, linkProof, verifyLinkProof } from './transcript.js'

export type LinkCodeState = 'open' | 'claimed' | 'expired' | 'withdrawn'

export interface LinkClaim {
  /** The listener's proof, to send back now that the dialer proved the secret. */
  listenerProof: Uint8Array
  /** The six digits this screen shows. */
  confirmation: string
}

export class LinkCodeHolder {
  /** A copy: withdraw() zeroes its secret, not the caller's. */
  readonly code: LinkCode
  readonly #now: () => number
  #state: 'open' | 'claimed' | 'withdrawn' = 'open'
  #claimedBy: string | null = null

  constructor(code: LinkCode, now: () => number) {
    this.code = { ...code, addresses: [...code.addresses], secret: code.secret.slice() }
    this.#now = now
  }

  get state(): LinkCodeState {
    if (this.#state === 'open' && this.#now() >= this.code.expiresAt) return 'expired'
    return this.#state
  }

  /** The dialer (existing device) that claimed the code, or null. */
  get claimedBy(): string | null {
    return this.#claimedBy
  }

  /**
   * Checks a session's dialer proof and, when it holds, claims the code for that session.
   * Throws LinkCodeUsedError (claimed before), LinkCodeExpiredError (expired or withdrawn),
   * LinkProofError (a session for another device, or a wrong proof: the code stays open).
   */
  claim(t: LinkTranscript, dialerProof: Uint8Array): LinkClaim {
    if (t.listenerPeerId !== this.code.peerId) throw new LinkProofError('this session is not with the device that shows the code')
    const state = this.state
    if (state === 'claimed') throw new LinkCodeUsedError('this link code was already used: show a new code on the new device')
    if (state === 'withdrawn') throw new LinkCodeExpiredError('this link code was withdrawn: show a new code on the new device')
    if (state === 'expired') throw new LinkCodeExpiredError('this link code expired: show a new code on the new device')
    verifyLinkProof(this.code.secret, t, 'dialer', dialerProof)
    // Nothing awaits between the checks and here: two sessions cannot both pass.
    this.#state = 'claimed'
    this.#claimedBy = t.dialerPeerId
    return { listenerProof: linkProof(this.code.secret, t, 'listener'), confirmation: confirmationCode(this.code.secret, t) }
  }

  /** The person closed the code: it can never be claimed. Zeroes the secret. */
  withdraw(): void {
    if (this.#state === 'open') this.#state = 'withdrawn'
    this.code.secret.fill(0)
  }
}
