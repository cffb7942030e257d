/**
 * End-to-end sealing of what a device gives a relay: log entries and snapshots ("blob") and
 * typing / presence ("ephemeral"). PROTOCOL.md, "Sealed blobs":
 *
 *   sealed    ::= varuint(SEALED) varuint(epoch) author(32) nonce(24) ciphertext signature(64)
 *   ciphertext = XChaCha20-Poly1305(docKey(K_epoch, docId), nonce, plaintext, aad)
 *   aad        = varstring(domain) varstring(docId) varuint(epoch) author
 *   signature  = Ed25519_author(varstring(signature domain) varstring(docId) ‖ every byte before the signature)
 *
 * What a relay can read: the format, the epoch, the author device's public key, and sizes.
 * The doc id is bound (in the aad and the signature) but not written: the relay knows it
 * from the frame, and a blob replayed into another doc neither opens nor verifies there.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { BadSignatureError, DecryptError, MalformedFrameError, UnknownEpochError } from '../errors.js'
import { SIGNATURE_BYTES } from '../limits.js'
import { type AeadBackend, nobleAead } from './aead.js'
import type { SignatureBackend } from './signatures.js'

/** The blob encoding tag of a sealed blob (after BlobEncoding's 0–2, which are the envelope inside). */
export const SEALED_ENCODING = 3
export const AUTHOR_KEY_BYTES = 32
export const NONCE_BYTES = 24
const TAG_BYTES = 16

export type SealedKind = 'blob' | 'ephemeral'
const DOMAINS: Record<SealedKind, { aad: string; signature: string }> = {
  blob: { aad: 'tandem/blob/v1', signature: 'tandem/blob-signature/v1' },
  ephemeral: { aad: 'tandem/ephemeral/v1', signature: 'tandem/ephemeral-signature/v1' }
}

export interface SealedHeader {
  epoch: number
  /** The author device's Ed25519 public key. */
  author: Uint8Array
}

export interface SealInput extends SealedHeader {
  docId: string
  /** The author's 32-byte Ed25519 seed. */
  authorSeed: Uint8Array
  /** docKey(K_epoch, docId). */
  key: Uint8Array
  /** 24 random bytes (from the caller's randomness: a simulator replays them). */
  nonce: Uint8Array
  plaintext: Uint8Array
}

/** Who may have written a blob of this epoch, as the reader's chain says. */
export type AuthorStanding = 'listed' | 'unknown' | 'revoked'

export interface OpenContext {
  /** docKey(K_epoch, docId), or null when this device holds no key of that epoch (yet). */
  keyFor(epoch: number): Uint8Array | null
  /** Whether the author could write in this epoch: a current device, or one revoked at a later generation. */
  standing(author: Uint8Array, epoch: number): AuthorStanding
}

export interface OpenedSealed extends SealedHeader {
  plaintext: Uint8Array
}

function aad(kind: SealedKind, docId: string, epoch: number, author: Uint8Array): Uint8Array {
  return encoding.encode(e => {
    encoding.writeVarString(e, DOMAINS[kind].aad)
    encoding.writeVarString(e, docId)
    encoding.writeVarUint(e, epoch)
    encoding.writeUint8Array(e, author)
  })
}

function signedBytes(kind: SealedKind, docId: string, body: Uint8Array): Uint8Array {
  return encoding.encode(e => {
    encoding.writeVarString(e, DOMAINS[kind].signature)
    encoding.writeVarString(e, docId)
    encoding.writeUint8Array(e, body)
  })
}

/** Seals with `aead`'s XChaCha20-Poly1305 (every backend gives the same bytes) and signs with `signatures`. */
export async function seal(kind: SealedKind, input: SealInput, signatures: SignatureBackend, aead: AeadBackend = nobleAead): Promise<Uint8Array> {
  if (input.author.length !== AUTHOR_KEY_BYTES || input.nonce.length !== NONCE_BYTES) throw new RangeError('seal: author is 32 bytes and nonce 24')
  const ciphertext = aead.seal(input.key, input.nonce, input.plaintext, aad(kind, input.docId, input.epoch, input.author))
  const body = encoding.encode(e => {
    encoding.writeVarUint(e, SEALED_ENCODING)
    encoding.writeVarUint(e, input.epoch)
    encoding.writeUint8Array(e, input.author)
    encoding.writeUint8Array(e, input.nonce)
    encoding.writeUint8Array(e, ciphertext)
  })
  const signature = await signatures.sign(signedBytes(kind, input.docId, body), input.authorSeed)
  const out = new Uint8Array(body.length + SIGNATURE_BYTES)
  out.set(body)
  out.set(signature, body.length)
  return out
}

/** Whether bytes are a sealed blob (its first varuint is the sealed tag). */
export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === SEALED_ENCODING
}

/** The readable part of a sealed blob: what a relay could see. ERR_MALFORMED_FRAME when it is not one. */
export function readSealedHeader(bytes: Uint8Array): SealedHeader & { nonce: Uint8Array; ciphertext: Uint8Array; signature: Uint8Array; body: Uint8Array } {
  try {
    const d = decoding.createDecoder(bytes)
    if (decoding.readVarUint(d) !== SEALED_ENCODING) throw new Error('not sealed')
    const epoch = decoding.readVarUint(d)
    if (!Number.isSafeInteger(epoch)) throw new Error('epoch out of range')
    const author = decoding.readUint8Array(d, AUTHOR_KEY_BYTES)
    const nonce = decoding.readUint8Array(d, NONCE_BYTES)
    const rest = bytes.length - d.pos
    if (rest < TAG_BYTES + SIGNATURE_BYTES) throw new Error('too short')
    const ciphertext = bytes.subarray(d.pos, bytes.length - SIGNATURE_BYTES)
    return { epoch, author, nonce, ciphertext, signature: bytes.subarray(bytes.length - SIGNATURE_BYTES), body: bytes.subarray(0, bytes.length - SIGNATURE_BYTES) }
  } catch (err) {
    throw new MalformedFrameError('a sealed blob is truncated or not sealed', { cause: err })
  }
}

/**
 * The plaintext of a sealed blob of `docId`, after every check, in this order:
 * a readable header (ERR_MALFORMED_FRAME); an author the chain lists for that epoch
 * (ERR_BAD_SIGNATURE); the author's signature over this doc and every byte (ERR_BAD_SIGNATURE);
 * a key of that epoch (ERR_UNKNOWN_EPOCH: the blob waits for it); the AEAD (ERR_DECRYPT).
 */
export async function open(
  kind: SealedKind,
  docId: string,
  bytes: Uint8Array,
  context: OpenContext,
  signatures: SignatureBackend,
  aead: AeadBackend = nobleAead
): Promise<OpenedSealed> {
  const h = readSealedHeader(bytes)
  const standing = context.standing(h.author, h.epoch)
  if (standing === 'revoked') throw new BadSignatureError(`a ${kind} of ${docId} is signed by a device revoked before epoch ${h.epoch}`)
  // (a relay sends a device's chain before anything that device wrote, on the same stream)
  if (standing === 'unknown') throw new BadSignatureError(`a ${kind} of ${docId} is signed by a device that is not on the account's list`)
  // the signature before the key: a forged blob is refused at once, never kept waiting for a key
  if (!(await signatures.verify(h.signature, signedBytes(kind, docId, h.body), h.author))) throw new BadSignatureError(`a ${kind} of ${docId} does not verify as its author's`)
  const key = context.keyFor(h.epoch)
  if (key === null) throw new UnknownEpochError(`this device holds no key of epoch ${h.epoch} (a ${kind} of ${docId})`)
  try {
    return { epoch: h.epoch, author: h.author, plaintext: aead.open(key, h.nonce, h.ciphertext, aad(kind, docId, h.epoch, h.author)) }
  } catch (err) {
    throw new DecryptError(`a ${kind} of ${docId} does not open with the key of epoch ${h.epoch}`, { cause: err })
  }
}

/** The epoch of a sealed blob from its first bytes (a first chunk will do); null when they are not a sealed blob's. */
export function sealedEpoch(firstBytes: Uint8Array): number | null {
  try {
    const d = decoding.createDecoder(firstBytes)
    if (decoding.readVarUint(d) !== SEALED_ENCODING) return null
    const epoch = decoding.readVarUint(d)
    return Number.isSafeInteger(epoch) ? epoch : null
  } catch {
    return null
  }
}
