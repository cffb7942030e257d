import { createCipheriv, createDecipheriv } from 'node:crypto'
import { AEAD_TAG_BYTES, type AeadBackend, DecryptError, nobleAead, xchachaSubkey } from '@tandem/protocol'

/**
 * XChaCha20-Poly1305 with Node's own ChaCha20-Poly1305 (OpenSSL): the key and the IETF nonce
 * from noble's HChaCha20 (`xchachaSubkey`), then `chacha20-poly1305` with the aad. The same
 * bytes as noble's, 4–20× faster here (a 600 kB blob opens in ~0.25 ms against ~4.5 ms), and
 * synchronous like noble's, so a simulator on Node runs it on its own clock.
 */
const opensslAead: AeadBackend = {
  name: 'node',
  seal(key, nonce, plaintext, aad) {
    const ietf = xchachaSubkey(key, nonce)
    const cipher = createCipheriv('chacha20-poly1305', ietf.key, ietf.nonce, { authTagLength: AEAD_TAG_BYTES })
    cipher.setAAD(aad, { plaintextLength: plaintext.byteLength })
    const head = cipher.update(plaintext)
    const tail = cipher.final()
    const out = new Uint8Array(head.byteLength + tail.byteLength + AEAD_TAG_BYTES)
    out.set(head)
    out.set(tail, head.byteLength)
    out.set(cipher.getAuthTag(), head.byteLength + tail.byteLength)
    return out
  },
  open(key, nonce, sealed, aad) {
    if (sealed.byteLength < AEAD_TAG_BYTES) throw new DecryptError('XChaCha20-Poly1305: shorter than its tag')
    const ietf = xchachaSubkey(key, nonce)
    const length = sealed.byteLength - AEAD_TAG_BYTES
    try {
      const decipher = createDecipheriv('chacha20-poly1305', ietf.key, ietf.nonce, { authTagLength: AEAD_TAG_BYTES })
      decipher.setAuthTag(sealed.subarray(length))
      decipher.setAAD(aad, { plaintextLength: length })
      const head = decipher.update(sealed.subarray(0, length))
      const tail = decipher.final() // (throws when the tag does not match)
      if (tail.byteLength === 0) return new Uint8Array(head.buffer, head.byteOffset, head.byteLength)
      const out = new Uint8Array(length)
      out.set(head)
      out.set(tail, head.byteLength)
      return out
    } catch (err) {
      throw new DecryptError('XChaCha20-Poly1305: the ciphertext does not open', { cause: err })
    }
  }
}

/** Whether OpenSSL's gives noble's bytes, and refuses a changed byte (an OpenSSL built without ChaCha20-Poly1305 throws). */
function agreesWithNoble(aead: AeadBackend): boolean {
  try {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i)
    const nonce = Uint8Array.from({ length: 24 }, (_, i) => 0x40 + i)
    const aad = new Uint8Array([1, 2, 3])
    const plaintext = Uint8Array.from({ length: 100 }, (_, i) => (i * 7) & 0xff)
    const sealed = aead.seal(key, nonce, plaintext, aad)
    const expected = nobleAead.seal(key, nonce, plaintext, aad)
    if (sealed.length !== expected.length || sealed.some((b, i) => b !== expected[i])) return false
    if (!aead.open(key, nonce, sealed, aad).every((b, i) => b === plaintext[i])) return false
    sealed[0]! ^= 1
    try {
      aead.open(key, nonce, sealed, aad)
      return false
    } catch (err) {
      return err instanceof DecryptError
    }
  } catch {
    return false
  }
}

/** The Node assembly's XChaCha20-Poly1305: OpenSSL's where it gives noble's bytes (checked once, here), noble's otherwise. */
export const nodeAead: AeadBackend = agreesWithNoble(opensslAead) ? opensslAead : nobleAead
