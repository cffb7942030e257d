import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type AeadBackend, BadSignatureError, DecryptError, docKey, ErrorCode, nobleAead, nobleSignatures, openSealed, seal, signingKeyFromSeed } from '@tandem/protocol'
import { nodeAead } from '../src/node/aead.js'
import { nodeSignatureBackend, nodeSignatures } from '../src/node/signatures.js'

// The Node assembly's crypto backends (issue 14's speed): OpenSSL's ChaCha20-Poly1305 keyed with
// noble's HChaCha20, and OpenSSL's Ed25519 called synchronously. They must give exactly noble's
// bytes (sealed blobs stay the same on the wire and on every relay's disk) and refuse what noble
// refuses, with the same typed errors.

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))
const range = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff)
const BACKENDS: Array<[string, AeadBackend]> = [
  ['noble', nobleAead],
  ['node', nodeAead]
]

function decryptErrorOf(f: () => unknown): unknown {
  try {
    f()
    return null
  } catch (err) {
    return err
  }
}

const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const nonceArb = fc.uint8Array({ minLength: 24, maxLength: 24 })
const dataArb = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 1000, maxLength: 5000 }))

describe("the Node assembly's XChaCha20-Poly1305", () => {
  it("is OpenSSL's (it passed its known-answer check against noble at load)", () => {
    expect(nodeAead.name).toBe('node')
  })

  it("both backends give the draft's A.3.1 vector (draft-irtf-cfrg-xchacha-03)", () => {
    const plaintext = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
    const expected =
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
      'c0875924c1c7987947deafd8780acf49'
    for (const [, aead] of BACKENDS) {
      const sealed = aead.seal(range(0x80, 32), range(0x40, 24), plaintext, bytes('50515253c0c1c2c3c4c5c6c7'))
      expect(hex(sealed)).toBe(expected)
      expect(hex(aead.open(range(0x80, 32), range(0x40, 24), sealed, bytes('50515253c0c1c2c3c4c5c6c7')))).toBe(hex(plaintext))
    }
  })

  it('gives the same bytes as noble, and each opens what the other sealed (property; empty, small and multi-block plaintexts, and 1 MiB)', () => {
    fc.assert(
      fc.property(keyArb, nonceArb, dataArb, fc.uint8Array({ maxLength: 100 }), (key, nonce, plaintext, aad) => {
        const a = nobleAead.seal(key, nonce, plaintext, aad)
        const b = nodeAead.seal(key, nonce, plaintext, aad)
        expect(hex(b)).toBe(hex(a))
        expect(hex(nodeAead.open(key, nonce, a, aad))).toBe(hex(plaintext))
        expect(hex(nobleAead.open(key, nonce, b, aad))).toBe(hex(plaintext))
      }),
      { numRuns: 300 }
    )
    const big = range(7, 1024 * 1024)
    expect(hex(nodeAead.seal(range(1, 32), range(2, 24), big, new Uint8Array(0)))).toBe(hex(nobleAead.seal(range(1, 32), range(2, 24), big, new Uint8Array(0))))
  })

  it('both refuse with ERR_DECRYPT any one bit flipped, another key, nonce or aad, and a cut tag (property)', () => {
    fc.assert(
      fc.property(keyArb, nonceArb, fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 60 }), fc.nat(), (key, nonce, plaintext, aad, at) => {
        const sealed = nobleAead.seal(key, nonce, plaintext, aad)
        const flipped = sealed.slice()
        flipped[at % flipped.length]! ^= 1 << (at % 8)
        const other = (b: Uint8Array): Uint8Array => b.map((x, i) => (i === b.length - 1 ? x ^ 1 : x))
        for (const [name, aead] of BACKENDS) {
          for (const attempt of [
            () => aead.open(key, nonce, flipped, aad),
            () => aead.open(other(key), nonce, sealed, aad),
            () => aead.open(key, other(nonce), sealed, aad),
            () => aead.open(key, nonce, sealed, new Uint8Array([...aad, 1])),
            () => aead.open(key, nonce, sealed.subarray(0, sealed.length - 1), aad),
            () => aead.open(key, nonce, sealed.subarray(0, 10), aad)
          ]) {
            const err = decryptErrorOf(attempt)
            expect(err, name).toBeInstanceOf(DecryptError)
            expect((err as DecryptError).code).toBe(ErrorCode.Decrypt)
          }
        }
      }),
      { numRuns: 100 }
    )
  })
})

describe("the Node assembly's Ed25519", () => {
  const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const onLoop = nodeSignatureBackend({ native: false, offThreadBytes: Number.POSITIVE_INFINITY })

  it("signs as noble does and verifies noble's signatures, on the loop and (long messages) on the thread pool (property)", async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 64 * 1024 + 1, maxLength: 70_000 })), async (seed, message) => {
        const expected = await nobleSignatures.sign(message, seed)
        const publicKey = signingKeyFromSeed(seed).publicKey
        for (const backend of [nodeSignatures, onLoop]) {
          expect(hex(await backend.sign(message, seed))).toBe(hex(expected))
          expect(await backend.verify(expected, message, publicKey)).toBe(true)
        }
        expect(await nobleSignatures.verify(await nodeSignatures.sign(message, seed), message, publicKey)).toBe(true)
      }),
      { numRuns: 40 }
    )
  })

  it('refuses a flipped bit, another message or key, a non-canonical S (S + L) and malformed input, without throwing', async () => {
    const L = 2n ** 252n + 27742317777372353535851937790883648493n
    const seed = range(9, 32)
    const publicKey = signingKeyFromSeed(seed).publicKey
    for (const message of [range(0, 100), range(0, 100_000)]) {
      const signature = await nodeSignatures.sign(message, seed)
      let s = 0n
      for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!)
      s += L
      const nonCanonical = signature.slice()
      for (let i = 32; i < 64; i++) {
        nonCanonical[i] = Number(s & 0xffn)
        s >>= 8n
      }
      const flipped = signature.slice()
      flipped[5]! ^= 4
      for (const backend of [nodeSignatures, onLoop]) {
        expect(await backend.verify(signature, message, publicKey)).toBe(true)
        expect(await backend.verify(flipped, message, publicKey)).toBe(false)
        expect(
          await backend.verify(
            signature,
            message.map((x, i) => (i === 0 ? x ^ 1 : x)),
            publicKey
          )
        ).toBe(false)
        expect(await backend.verify(signature, message, signingKeyFromSeed(range(10, 32)).publicKey)).toBe(false)
        expect(await backend.verify(nonCanonical, message, publicKey)).toBe(false)
        expect(await backend.verify(signature.subarray(0, 63), message, publicKey)).toBe(false)
        expect(await backend.verify(signature, message, publicKey.subarray(0, 31))).toBe(false)
        expect(await backend.verify(signature, message, new Uint8Array(32).fill(0xff))).toBe(false)
      }
    }
  })
})

describe('sealed blobs with the Node backends', () => {
  it("are noble's bytes, open with either backend pair, and an AEAD failure is ERR_DECRYPT with either", async () => {
    const author = signingKeyFromSeed(range(3, 32))
    const docId = 'chat:0123456789abcdef01234567'
    const key = docKey(range(50, 32), docId)
    const context = (k: Uint8Array) => ({ keyFor: () => k, standing: () => 'listed' as const })
    for (const size of [0, 200, 100_000]) {
      const input = { docId, epoch: 3, author: author.publicKey, authorSeed: author.secretKey, key, nonce: range(90, 24), plaintext: range(1, size) }
      const byNoble = await seal('blob', input, nobleSignatures, nobleAead)
      const byNode = await seal('blob', input, nodeSignatures, nodeAead)
      expect(hex(byNode)).toBe(hex(byNoble))
      for (const [signatures, aead] of [
        [nobleSignatures, nobleAead],
        [nodeSignatures, nodeAead]
      ] as const) {
        expect(hex((await openSealed('blob', docId, byNode, context(key), signatures, aead)).plaintext)).toBe(hex(input.plaintext))
        // signed by its author, sealed under another key: the signature holds, the AEAD does not
        const otherKey = await seal('blob', { ...input, key: docKey(range(51, 32), docId) }, signatures, aead)
        await expect(openSealed('blob', docId, otherKey, context(key), signatures, aead)).rejects.toBeInstanceOf(DecryptError)
        // a changed byte of the ciphertext: the signature fails first
        const changed = byNode.slice()
        changed[70]! ^= 1
        await expect(openSealed('blob', docId, changed, context(key), signatures, aead)).rejects.toBeInstanceOf(BadSignatureError)
      }
    }
  })
})
