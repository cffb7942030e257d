/**
 * What binds a linking session to the code's secret (PROTOCOL.md, "Linking"):
 *
 *   transcript   = varstring("/tandem/link/1.0.0") varstring(dialerPeerId) varstring(listenerPeerId)
 *                  bytes[32](dialerNonce) bytes[32](listenerNonce)
 *   proof(role)  = HMAC-SHA256(key = secret, varstring("tandem/link/proof/" role) ‖ transcript)   role: dialer | listener
 *   confirmation = HKDF-SHA256(ikm = secret, salt = sha256(transcript), info = "tandem/link/confirmation", 6 bytes)
 *                  as a 48-bit big-endian number, mod 10^6, six digits
 *
 * The peer ids are the ones Noise authenticated on the stream (the dialer is the existing
 * device, the listener the new one, always in that order), and each side draws its own
 * nonce for this session only. So a proof is good for one pair of devices and one session:
 * replayed to another peer, in another session or in the other role, it fails. Proofs are
 * compared in constant time (@noble/curves' equalBytes).
 *
 * The six digits carry 20 bits; they are not what keeps an attacker out (the secret and
 * Noise do that): they show the person that both screens belong to one session, e.g. that
 * the new device is not talking to someone who photographed its code.
 */
import { equalBytes } from '@noble/curves/utils.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import * as encoding from 'lib0/encoding'
import { MAX_PEER_ID_BYTES } from '../limits.js'
import { LinkProofError, MalformedFrameError } from '../errors.js'
import * as wire from '../wire.js'
import { LINK_SECRET_BYTES } from './link-code.js'

export const LINK_PROTOCOL = '/tandem/link/1.0.0'
export const LINK_NONCE_BYTES = 32
export const LINK_PROOF_BYTES = 32
export const CONFIRMATION_DIGITS = 6
const PROOF_LABEL = 'tandem/link/proof/'
const CONFIRMATION_INFO = 'tandem/link/confirmation'

export type LinkRole = 'dialer' | 'listener'

/** One session's identities and fresh values, as both sides see them. */
export interface LinkTranscript {
  /** The existing device: the peer that opened the stream (Noise-authenticated). */
  dialerPeerId: string
  /** The new device, the one whose code was read (Noise-authenticated). */
  listenerPeerId: string
  dialerNonce: Uint8Array
  listenerNonce: Uint8Array
}

const errs: wire.WireErrors = {
  malformed: (m, o) => new MalformedFrameError(`link transcript ${m}`, o),
  tooLarge: (m, o) => new MalformedFrameError(`link transcript ${m}`, o)
}

export function transcriptBytes(t: LinkTranscript): Uint8Array {
  return encoding.encode(encoder =>
    wire.guard(
      () => {
        wire.writeString(encoder, 'protocol', LINK_PROTOCOL, 64, errs)
        wire.writeString(encoder, 'dialerPeerId', t.dialerPeerId, MAX_PEER_ID_BYTES, errs)
        wire.writeString(encoder, 'listenerPeerId', t.listenerPeerId, MAX_PEER_ID_BYTES, errs)
        wire.writeFixedBytes(encoder, 'dialerNonce', t.dialerNonce, LINK_NONCE_BYTES, errs)
        wire.writeFixedBytes(encoder, 'listenerNonce', t.listenerNonce, LINK_NONCE_BYTES, errs)
      },
      'link transcript',
      errs
    )
  )
}

function checkSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.length !== LINK_SECRET_BYTES) throw new LinkProofError(`link secret must be ${LINK_SECRET_BYTES} bytes`)
}

/** What `role` sends to prove it holds the code's secret in this session. */
export function linkProof(secret: Uint8Array, t: LinkTranscript, role: LinkRole): Uint8Array {
  checkSecret(secret)
  if (role !== 'dialer' && role !== 'listener') throw new RangeError(`role must be 'dialer' or 'listener', not ${String(role)}`)
  const label = encoding.encode(encoder => encoding.writeVarString(encoder, PROOF_LABEL + role))
  return hmac.create(sha256, secret).update(label).update(transcriptBytes(t)).digest()
}

/** Throws LinkProofError unless `proof` is `role`'s proof for this secret and session (compared in constant time). */
export function verifyLinkProof(secret: Uint8Array, t: LinkTranscript, role: LinkRole, proof: Uint8Array): void {
  const expected = linkProof(secret, t, role)
  const ok = proof instanceof Uint8Array && proof.length === LINK_PROOF_BYTES && equalBytes(expected, proof)
  if (!ok) throw new LinkProofError(`the ${role}'s proof does not match: it does not hold this code's secret, or the proof was made for another session`)
}

/** The six digits both screens show, "000000"–"999999". */
export function confirmationCode(secret: Uint8Array, t: LinkTranscript): string {
  checkSecret(secret)
  const bytes = hkdf(sha256, secret, sha256(transcriptBytes(t)), new TextEncoder().encode(CONFIRMATION_INFO), 6)
  let n = 0
  for (const b of bytes) n = n * 256 + b
  // 2^48 is 281 474 976 × 10^6 + 710 656: the low codes are likelier by 1 part in 2.8 × 10^8.
  return String(n % 10 ** CONFIRMATION_DIGITS).padStart(CONFIRMATION_DIGITS, '0')
}
