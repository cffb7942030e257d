/**
 * Account identity: an Ed25519 key pair whose public key names the account.
 * Randomness is injected so a seeded simulator can create accounts deterministically.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { base32 } from 'multiformats/bases/base32'
import { InvalidCertificateError, InvalidCredentialsError } from './errors.js'

export const ACCOUNT_SECRET_KEY_BYTES = 32
export const ACCOUNT_PUBLIC_KEY_BYTES = 32
export const ACCOUNT_ID_PREFIX = 'a'
/** 160 bits of sha256: collision-safe for account ids, and short enough to read aloud (33 chars). */
const ACCOUNT_ID_HASH_BYTES = 20

export interface AccountKeyPair {
  publicKey: Uint8Array
  /** The 32-byte Ed25519 seed. */
  secretKey: Uint8Array
}

export function generateAccountKey(randomBytes: (n: number) => Uint8Array): AccountKeyPair {
  return accountKeyFromSecret(randomBytes(ACCOUNT_SECRET_KEY_BYTES))
}

export function accountKeyFromSecret(secretKey: Uint8Array): AccountKeyPair {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== ACCOUNT_SECRET_KEY_BYTES) {
    throw new InvalidCredentialsError(`account secret key must be ${ACCOUNT_SECRET_KEY_BYTES} bytes`)
  }
  // Copy so later mutation of the caller's buffer cannot desynchronise the pair.
  const secret = secretKey.slice()
  return { publicKey: ed25519.getPublicKey(secret), secretKey: secret }
}

/** 'a' + lowercase unpadded RFC 4648 base32 of the first 20 bytes of sha256(publicKey). */
export function accountIdFromPublicKey(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ACCOUNT_PUBLIC_KEY_BYTES) {
    throw new InvalidCertificateError(`account public key must be ${ACCOUNT_PUBLIC_KEY_BYTES} bytes`)
  }
  return ACCOUNT_ID_PREFIX + base32.baseEncode(sha256(publicKey).subarray(0, ACCOUNT_ID_HASH_BYTES))
}
