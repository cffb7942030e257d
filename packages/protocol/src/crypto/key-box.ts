/**
 * A 32-byte key sealed to one X25519 public key (an "X25519 + AEAD" box, all noble):
 *
 *   ephemeral = a fresh X25519 key pair (its secret from the caller's randomness)
 *   shared    = X25519(ephemeral.secret, recipient)
 *   boxKey    = HKDF-SHA256(ikm = shared, salt = ephemeral.public ‖ recipient, info = KEY_BOX_INFO ‖ context, 32)
 *   box       = ephemeral.public (32) ‖ nonce (24) ‖ XChaCha20-Poly1305(boxKey, nonce, key, aad = context) (48)
 *
 * `context` names what the key is for (the account, the generation, the recipient's role), so
 * a box cannot be moved to another place in the chain and open there. Synchronous on purpose:
 * a seeded simulator runs it on its own clock (HPKE packages reach WebCrypto's thread pool).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes as concat } from '@noble/hashes/utils.js'
import { DecryptError, InvalidCredentialsError } from '../errors.js'

export const SEALED_KEY_BYTES = 32
export const KEY_BOX_BYTES = 32 + 24 + SEALED_KEY_BYTES + 16
const KEY_BOX_INFO = new TextEncoder().encode('tandem/key-box/v1')

function boxKey(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array, context: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concat(ephemeral, recipient), concat(KEY_BOX_INFO, context), 32)
}

/** Seals `key` (32 bytes) to `recipient` (an X25519 public key); `random(n)` draws the ephemeral secret and the nonce. */
export function sealKey(key: Uint8Array, recipient: Uint8Array, context: Uint8Array, random: (n: number) => Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== SEALED_KEY_BYTES) throw new InvalidCredentialsError(`a sealed key is ${SEALED_KEY_BYTES} bytes`)
  if (!(recipient instanceof Uint8Array) || recipient.length !== 32) throw new InvalidCredentialsError('a key box recipient is a 32-byte X25519 public key')
  const secret = random(32)
  const ephemeral = x25519.getPublicKey(secret)
  const shared = x25519.getSharedSecret(secret, recipient)
  const nonce = random(24)
  const sealed = xchacha20poly1305(boxKey(shared, ephemeral, recipient, context), nonce, context).encrypt(key)
  return concat(ephemeral, nonce, sealed)
}

/** The key inside a box sealed to `recipient`, whose secret is `secret`; DecryptError when it is not for this key or context, or was altered. */
export function openKey(box: Uint8Array, secret: Uint8Array, recipient: Uint8Array, context: Uint8Array): Uint8Array {
  if (!(box instanceof Uint8Array) || box.length !== KEY_BOX_BYTES) throw new DecryptError(`a key box is ${KEY_BOX_BYTES} bytes, not ${box?.length}`)
  const ephemeral = box.subarray(0, 32)
  const nonce = box.subarray(32, 56)
  try {
    const shared = x25519.getSharedSecret(secret, ephemeral)
    return xchacha20poly1305(boxKey(shared, ephemeral, recipient, context), nonce, context).decrypt(box.subarray(56))
  } catch (err) {
    throw new DecryptError('a key box does not open with this key', { cause: err })
  }
}

/** `key` sealed under another symmetric key (K_{g−1} under K_g): nonce (24) ‖ XChaCha20-Poly1305(wrapping, nonce, key, aad = context) (48). */
export function wrapKey(key: Uint8Array, wrapping: Uint8Array, context: Uint8Array, random: (n: number) => Uint8Array): Uint8Array {
  const nonce = random(24)
  return concat(nonce, xchacha20poly1305(wrapping, nonce, context).encrypt(key))
}

export const WRAPPED_KEY_BYTES = 24 + SEALED_KEY_BYTES + 16

export function unwrapKey(wrapped: Uint8Array, wrapping: Uint8Array, context: Uint8Array): Uint8Array {
  if (!(wrapped instanceof Uint8Array) || wrapped.length !== WRAPPED_KEY_BYTES) throw new DecryptError(`a wrapped key is ${WRAPPED_KEY_BYTES} bytes`)
  try {
    return xchacha20poly1305(wrapping, wrapped.subarray(0, 24), context).decrypt(wrapped.subarray(24))
  } catch (err) {
    throw new DecryptError('a wrapped key does not open with this key', { cause: err })
  }
}
