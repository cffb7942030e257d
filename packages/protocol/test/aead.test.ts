import { createCipheriv } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecryptError, ErrorCode, nobleAead, xchachaSubkey } from '../src/index.js'
import { hex } from './chain-fixtures.js'

const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'))
const range = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => from + i)

// draft-irtf-cfrg-xchacha-03, A.3.1 (AEAD_XChaCha20_Poly1305)
const VECTOR = {
  plaintext: new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  aad: bytes('50515253c0c1c2c3c4c5c6c7'),
  key: range(0x80, 32),
  nonce: range(0x40, 24),
  ciphertext: bytes(
    `bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e`
  ),
  tag: bytes('c0875924c1c7987947deafd8780acf49')
}

const expectDecryptError = (f: () => unknown): void => {
  let thrown: unknown = null
  try {
    f()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(DecryptError)
  expect((thrown as DecryptError).code).toBe(ErrorCode.Decrypt)
}

const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const nonceArb = fc.uint8Array({ minLength: 24, maxLength: 24 })
const dataArb = fc.uint8Array({ maxLength: 300 })

describe('XChaCha20-Poly1305 (AeadBackend)', () => {
  it("xchachaSubkey is HChaCha20 (the draft's §2.2.1 vector) and the IETF nonce 0⁴ ‖ nonce[16..24)", () => {
    const nonce = new Uint8Array(24)
    nonce.set(bytes('000000090000004a0000000031415927'))
    nonce.set(range(0xa0, 8), 16)
    const ietf = xchachaSubkey(range(0, 32), nonce)
    expect(hex(ietf.key)).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc')
    expect(hex(ietf.nonce)).toBe(`00000000${hex(range(0xa0, 8))}`)
    expect(() => xchachaSubkey(range(0, 31), nonce)).toThrow(RangeError)
    expect(() => xchachaSubkey(range(0, 32), range(0, 12))).toThrow(RangeError)
  })

  it("noble's gives the draft's A.3.1 vector and opens it", () => {
    const sealed = nobleAead.seal(VECTOR.key, VECTOR.nonce, VECTOR.plaintext, VECTOR.aad)
    expect(hex(sealed)).toBe(hex(VECTOR.ciphertext) + hex(VECTOR.tag))
    expect(hex(nobleAead.open(VECTOR.key, VECTOR.nonce, sealed, VECTOR.aad))).toBe(hex(VECTOR.plaintext))
  })

  it("is HChaCha20 then the IETF ChaCha20-Poly1305: a platform's AEAD keyed with xchachaSubkey gives noble's bytes (here OpenSSL's) (property)", () => {
    fc.assert(
      fc.property(keyArb, nonceArb, dataArb, dataArb, (key, nonce, plaintext, aad) => {
        const ietf = xchachaSubkey(key, nonce)
        const cipher = createCipheriv('chacha20-poly1305', ietf.key, ietf.nonce, { authTagLength: 16 })
        cipher.setAAD(aad, { plaintextLength: plaintext.length })
        const openssl = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
        expect(hex(openssl)).toBe(hex(nobleAead.seal(key, nonce, plaintext, aad)))
      }),
      { numRuns: 200 }
    )
  })

  it('refuses with ERR_DECRYPT any one bit flipped, another key, nonce or aad, and a truncated tag (property)', () => {
    fc.assert(
      fc.property(keyArb, nonceArb, dataArb, dataArb, fc.nat(), (key, nonce, plaintext, aad, at) => {
        const sealed = nobleAead.seal(key, nonce, plaintext, aad)
        const flipped = sealed.slice()
        flipped[at % flipped.length]! ^= 1 << (at % 8)
        expectDecryptError(() => nobleAead.open(key, nonce, flipped, aad))
        const other = (b: Uint8Array): Uint8Array => b.map((x, i) => (i === 0 ? x ^ 0x80 : x))
        expectDecryptError(() => nobleAead.open(other(key), nonce, sealed, aad))
        expectDecryptError(() => nobleAead.open(key, other(nonce), sealed, aad))
        expectDecryptError(() => nobleAead.open(key, nonce, sealed, new Uint8Array([...aad, 0])))
        expectDecryptError(() => nobleAead.open(key, nonce, sealed.subarray(0, sealed.length - 1), aad))
        expectDecryptError(() => nobleAead.open(key, nonce, sealed.subarray(0, 15), aad))
      }),
      { numRuns: 100 }
    )
  })
})
