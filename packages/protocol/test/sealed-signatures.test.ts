import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { nativeSignatures, nobleSignatures, type SignatureBackend } from '../src/index.js'
import { hex } from './chain-fixtures.js'

/** The group order L: a canonical S is below it. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n

const readS = (signature: Uint8Array): bigint => {
  let s = 0n
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!)
  return s
}

/** The same signature with S + L in place of S: the same point equation, a non-canonical encoding (RFC 8032 §5.1.7 refuses it). */
function withSPlusL(signature: Uint8Array): Uint8Array {
  let s = readS(signature) + L
  const out = signature.slice()
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn)
    s >>= 8n
  }
  return out
}

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const messageArb = fc.uint8Array({ maxLength: 200 })

let web: SignatureBackend
beforeAll(async () => {
  web = await nativeSignatures()
})

describe('Ed25519 backends', () => {
  it('in Node, nativeSignatures() is WebCrypto (it passed the known-answer check), and asking again gives the same backend', async () => {
    expect(web.native).toBe(true)
    expect(await nativeSignatures()).toBe(web)
    expect(nobleSignatures.native).toBe(false)
  })

  it('WebCrypto and noble agree: the same signature bytes, and each verifies what the other signed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, messageArb, async (seed, message) => {
        const publicKey = ed25519.getPublicKey(seed)
        const byWeb = await web.sign(message, seed)
        const byNoble = await nobleSignatures.sign(message, seed)
        expect(hex(byWeb)).toBe(hex(byNoble))
        expect(await nobleSignatures.verify(byWeb, message, publicKey)).toBe(true)
        expect(await web.verify(byNoble, message, publicKey)).toBe(true)
      }),
      { numRuns: 100 }
    )
  })

  it('both refuse a signature with any one bit flipped, another message or another key (property)', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, messageArb, fc.nat({ max: 511 }), async (seed, message, bit) => {
        const publicKey = ed25519.getPublicKey(seed)
        const signature = await nobleSignatures.sign(message, seed)
        const flipped = signature.slice()
        flipped[bit >> 3]! ^= 1 << (bit & 7)
        const otherKey = ed25519.getPublicKey(seed.map(b => b ^ 1))
        const otherMessage = Uint8Array.of(...message, 0)
        for (const backend of [web, nobleSignatures]) {
          expect(await backend.verify(flipped, message, publicKey)).toBe(false)
          expect(await backend.verify(signature, otherMessage, publicKey)).toBe(false)
          expect(await backend.verify(signature, message, otherKey)).toBe(false)
        }
      }),
      { numRuns: 60 }
    )
  })

  it('both refuse a non-canonical S (S + L), which satisfies the same equation (property)', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, messageArb, async (seed, message) => {
        const publicKey = ed25519.getPublicKey(seed)
        const signature = await web.sign(message, seed)
        const malleated = withSPlusL(signature)
        expect(readS(malleated) % L).toBe(readS(signature))
        expect(readS(malleated)).toBeGreaterThanOrEqual(L)
        expect(await web.verify(signature, message, publicKey)).toBe(true)
        expect(await web.verify(malleated, message, publicKey)).toBe(false)
        expect(await nobleSignatures.verify(malleated, message, publicKey)).toBe(false)
      }),
      { numRuns: 50 }
    )
  })

  it('malformed input is false from both, never an exception: wrong sizes, not bytes, keys that are not points or of small order', async () => {
    const seed = new Uint8Array(32).fill(3)
    const message = new Uint8Array([1, 2, 3])
    const publicKey = ed25519.getPublicKey(seed)
    const signature = await nobleSignatures.sign(message, seed)
    const smallOrder = new Uint8Array(32)
    smallOrder[0] = 1 // the neutral point
    const notAPoint = new Uint8Array(32).fill(0xff)
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
      [signature.subarray(0, 63), message, publicKey],
      [Uint8Array.of(...signature, 0), message, publicKey],
      [new Uint8Array(0), message, publicKey],
      [signature, message, publicKey.subarray(0, 31)],
      [signature, message, new Uint8Array(33)],
      [signature, message, notAPoint],
      [signature, message, smallOrder],
      [new Uint8Array(64), message, smallOrder],
      [null as unknown as Uint8Array, message, publicKey],
      [signature, message, 'key' as unknown as Uint8Array]
    ]
    for (const backend of [web, nobleSignatures]) for (const [s, m, k] of cases) expect(await backend.verify(s, m, k)).toBe(false)
  })
})

describe('choosing the native backend', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.resetModules()
  })

  /** A WebCrypto with this `subtle` (noble draws blinding randomness from getRandomValues). */
  const stubSubtle = (subtle: object) => {
    const real = globalThis.crypto
    vi.stubGlobal('crypto', { subtle, getRandomValues: real.getRandomValues.bind(real) })
  }

  /** A fresh copy of the module: nativeSignatures() remembers its first answer. */
  const freshModule = async () => {
    vi.resetModules()
    return import('../src/crypto/signatures.js')
  }

  it('falls back to noble where there is no WebCrypto', async () => {
    vi.stubGlobal('crypto', undefined)
    const m = await freshModule()
    expect(await m.nativeSignatures()).toBe(m.nobleSignatures)
  })

  it("falls back to noble when WebCrypto's Ed25519 disagrees with noble's known answer, or throws", async () => {
    const real = globalThis.crypto.subtle
    // the control: the same stubbing with WebCrypto's own functions keeps WebCrypto
    stubSubtle({ importKey: real.importKey.bind(real), sign: real.sign.bind(real), verify: real.verify.bind(real) })
    expect((await (await freshModule()).nativeSignatures()).native).toBe(true)

    const wrongSign = { importKey: real.importKey.bind(real), verify: real.verify.bind(real), sign: async () => new ArrayBuffer(64) }
    stubSubtle(wrongSign)
    let m = await freshModule()
    expect((await m.nativeSignatures()).native).toBe(false)

    const acceptsAll = { importKey: real.importKey.bind(real), sign: real.sign.bind(real), verify: async () => true }
    stubSubtle(acceptsAll)
    m = await freshModule()
    expect((await m.nativeSignatures()).native).toBe(false)

    const noEd25519 = {
      importKey: async () => {
        throw new Error('Unrecognized name')
      }
    }
    stubSubtle(noEd25519)
    m = await freshModule()
    expect(await m.nativeSignatures()).toBe(m.nobleSignatures)
  })

  it('refuses a non-canonical S itself, before WebCrypto sees it (here a WebCrypto that would reduce S mod L)', async () => {
    const real = globalThis.crypto.subtle
    const reduce = (signature: Uint8Array): Uint8Array => {
      let s = readS(signature) % L
      const out = signature.slice()
      for (let i = 32; i < 64; i++) {
        out[i] = Number(s & 0xffn)
        s >>= 8n
      }
      return out
    }
    const lax = {
      importKey: real.importKey.bind(real),
      sign: real.sign.bind(real),
      verify: (algorithm: string, key: CryptoKey, signature: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>) =>
        real.verify(algorithm, key, reduce(signature) as Uint8Array<ArrayBuffer>, data)
    }
    stubSubtle(lax)
    const m = await freshModule()
    const backend = await m.nativeSignatures()
    expect(backend.native).toBe(true) // it passes the known-answer check
    const seed = new Uint8Array(32).fill(9)
    const message = new Uint8Array([4, 5, 6])
    const signature = await backend.sign(message, seed)
    expect(
      await lax.verify(
        'Ed25519',
        await real.importKey('raw', ed25519.getPublicKey(seed), { name: 'Ed25519' }, false, ['verify']),
        withSPlusL(signature) as Uint8Array<ArrayBuffer>,
        message
      )
    ).toBe(true)
    expect(await backend.verify(withSPlusL(signature), message, ed25519.getPublicKey(seed))).toBe(false)
  })
})
