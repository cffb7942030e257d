/**
 * A device's two keys, as the chain names them. The signing key is the device's libp2p
 * Ed25519 peer key, so its peer id is a name for its public key (computed here without
 * libp2p); the agreement key is X25519, what content keys will be sealed to (issue 14).
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { base58btc } from 'multiformats/bases/base58'
import { MAX_PEER_ID_BYTES } from '../limits.js'
import { InvalidCredentialsError } from '../errors.js'

export const SIGNING_KEY_BYTES = 32
export const AGREEMENT_KEY_BYTES = 32

/** An Ed25519 key pair: a device's peer key, or the account's recovery key. */
export interface SigningKeyPair {
  publicKey: Uint8Array
  /** The 32-byte Ed25519 seed (libp2p's 64-byte raw Ed25519 private key is this seed followed by the public key). */
  secretKey: Uint8Array
}

/** An X25519 key pair. */
export interface AgreementKeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export function signingKeyFromSeed(seed: Uint8Array): SigningKeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== SIGNING_KEY_BYTES) throw new InvalidCredentialsError(`signing key seed must be ${SIGNING_KEY_BYTES} bytes`)
  // Copied so later changes to the caller's buffer cannot desynchronise the pair.
  const secretKey = seed.slice()
  return { publicKey: ed25519.getPublicKey(secretKey), secretKey }
}

export function agreementKeyFromSecret(secret: Uint8Array): AgreementKeyPair {
  if (!(secret instanceof Uint8Array) || secret.length !== AGREEMENT_KEY_BYTES) throw new InvalidCredentialsError(`agreement key secret must be ${AGREEMENT_KEY_BYTES} bytes`)
  const secretKey = secret.slice()
  return { publicKey: x25519.getPublicKey(secretKey), secretKey }
}

/**
 * True for the encoding of an Ed25519 point that can ever verify a signature under strict
 * RFC 8032 (what the chain uses): canonical, on the curve, not of small order. A key that
 * fails this could never sign a link, so the chain refuses to list it.
 */
export function isUsableSigningKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== SIGNING_KEY_BYTES) return false
  const hex = bytesToHex(publicKey)
  if (usableKeys.has(hex)) return true
  let usable = false
  try {
    usable = !ed25519.Point.fromBytes(publicKey).isSmallOrder()
  } catch {
    usable = false
  }
  if (usable) {
    if (usableKeys.size >= USABLE_KEYS_KEPT) usableKeys.delete(usableKeys.values().next().value!)
    usableKeys.add(hex)
  }
  return usable
}

/**
 * Keys found usable: a function of the key's bytes alone. Fork choice checks every listed
 * device's key whenever a link arrives, and decoding a point costs ~0.5 ms (noble's
 * square root) against ~1 µs for the hex. Successes only, oldest dropped first.
 */
const usableKeys = new Set<string>()
const USABLE_KEYS_KEPT = 4096

// An Ed25519 peer id is base58btc of the identity multihash (code 0x00, length 36) of the
// protobuf PublicKey { Type = Ed25519 (1), Data = the 32 key bytes }.
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20)

/** The libp2p peer id ("12D3KooW…", 52 characters) of an Ed25519 public key. */
export function peerIdFromSigningKey(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== SIGNING_KEY_BYTES) throw new InvalidCredentialsError(`signing key must be ${SIGNING_KEY_BYTES} bytes`)
  const bytes = new Uint8Array(PEER_ID_PREFIX.length + SIGNING_KEY_BYTES)
  bytes.set(PEER_ID_PREFIX)
  bytes.set(publicKey, PEER_ID_PREFIX.length)
  return base58btc.baseEncode(bytes)
}

/** The Ed25519 public key a peer id names, or null when it is not the canonical peer id of an Ed25519 key. */
export function signingKeyFromPeerId(peerId: string): Uint8Array | null {
  if (typeof peerId !== 'string' || peerId.length > MAX_PEER_ID_BYTES) return null
  let bytes: Uint8Array
  try {
    bytes = base58btc.baseDecode(peerId)
  } catch {
    return null
  }
  if (bytes.length !== PEER_ID_PREFIX.length + SIGNING_KEY_BYTES || !PEER_ID_PREFIX.every((b, i) => bytes[i] === b)) return null
  const key = bytes.slice(PEER_ID_PREFIX.length)
  // Leading '1's decode to zero bytes: re-encoding keeps one spelling per key.
  return peerIdFromSigningKey(key) === peerId ? key : null
}
