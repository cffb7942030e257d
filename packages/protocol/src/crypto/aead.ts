/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) behind one small interface, like Ed25519's
 * {@link SignatureBackend}: sealed blobs go through it, so an assembly may use its platform's
 * ChaCha20-Poly1305 (Node: OpenSSL's, ~5× noble's speed here) while every other runtime, and a
 * seeded simulator, keeps noble's. Every backend gives the same bytes (a known-answer test holds
 * them to it) and is synchronous: a simulator replays it on its own clock.
 *
 * XChaCha20-Poly1305 is HChaCha20 (key, nonce[0..16)) as the key, then the IETF ChaCha20-Poly1305
 * (RFC 8439) with the nonce 0⁴ ‖ nonce[16..24): {@link xchachaSubkey} gives that key and nonce,
 * from noble's own `hchacha`, to a backend whose platform has only the IETF AEAD.
 */
import { hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { DecryptError } from '../errors.js'

export const AEAD_KEY_BYTES = 32
export const AEAD_NONCE_BYTES = 24
export const AEAD_TAG_BYTES = 16

export interface AeadBackend {
  /** Who computes it: 'noble', 'node' (node:crypto). */
  readonly name: string
  /** ciphertext ‖ tag (16 bytes) of `plaintext` under a 32-byte key and a 24-byte nonce, `aad` bound. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array
  /** The plaintext of ciphertext ‖ tag; throws ERR_DECRYPT (DecryptError) when it does not open (another key, nonce or aad, a changed byte). */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array
}

/** noble's XChaCha20-Poly1305: pure JavaScript, the same in every runtime (~90–100 MB/s here). */
export const nobleAead: AeadBackend = {
  name: 'noble',
  seal: (key, nonce, plaintext, aad) => xchacha20poly1305(key, nonce, aad).encrypt(plaintext),
  open: (key, nonce, sealed, aad) => {
    try {
      return xchacha20poly1305(key, nonce, aad).decrypt(sealed)
    } catch (err) {
      throw new DecryptError('XChaCha20-Poly1305: the ciphertext does not open', { cause: err })
    }
  }
}

/** "expand 32-byte k" as four 32-bit words, in memory order (what noble's `hchacha` reads on any host). */
const SIGMA = new Uint32Array(new Uint8Array([...'expand 32-byte k'].map(c => c.charCodeAt(0))).buffer)

/**
 * The IETF ChaCha20-Poly1305 key and 12-byte nonce an XChaCha20-Poly1305 key and 24-byte nonce
 * come to: HChaCha20(key, nonce[0..16)) and 0⁴ ‖ nonce[16..24). (noble's `hchacha` takes and
 * gives words in memory order on little- and big-endian hosts alike, as its xchacha20 calls it.)
 */
export function xchachaSubkey(key: Uint8Array, nonce: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_BYTES) throw new RangeError('XChaCha20: the key is 32 bytes')
  if (!(nonce instanceof Uint8Array) || nonce.length !== AEAD_NONCE_BYTES) throw new RangeError('XChaCha20: the nonce is 24 bytes')
  const k = new Uint32Array(8)
  new Uint8Array(k.buffer).set(key)
  const n = new Uint32Array(4)
  new Uint8Array(n.buffer).set(nonce.subarray(0, 16))
  const subkey = new Uint32Array(8)
  hchacha(SIGMA, k, n, subkey)
  k.fill(0)
  const ietfNonce = new Uint8Array(12)
  ietfNonce.set(nonce.subarray(16), 4)
  return { key: new Uint8Array(subkey.buffer), nonce: ietfNonce }
}
