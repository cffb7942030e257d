import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AttemptLimiter,
  createPassphraseVerifier,
  decodePassphraseVerifier,
  derivePassphraseKey,
  encodePassphraseVerifier,
  InvalidCredentialsError,
  LinkRateLimitedError,
  type LinkTranscript,
  MAX_PASSPHRASE_PARAMS,
  PASSPHRASE_ATTEMPT_LIMITS,
  PASSPHRASE_PARAMS,
  type PassphraseVerifier,
  passphraseProof,
  peerIdFromSigningKey,
  TandemError,
  UnsupportedVersionError,
  verifyPassphrase,
  verifyPassphraseProof,
  WrongPassphraseError
} from '../src/index.js'
import { equalBytes, mutate, mutationArb } from './helpers.js'

/** Small parameters so the tests run in milliseconds; the real ones get one test of their own. */
const TEST = { t: 1, m: 64, p: 1 }
const small = { params: TEST, minimum: TEST }
const SALT = new TextEncoder().encode('saltsaltsaltsalt')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fixedRandom = (fill: number) => (n: number) => new Uint8Array(n).fill(fill)

const session: LinkTranscript = {
  dialerPeerId: peerIdFromSigningKey(new Uint8Array(32).fill(0x22)),
  listenerPeerId: peerIdFromSigningKey(new Uint8Array(32).fill(0x11)),
  dialerNonce: new Uint8Array(32).fill(1),
  listenerNonce: new Uint8Array(32).fill(2)
}

describe('passphrase verifier', () => {
  it('is Argon2id of the NFKC passphrase (vectors from the reference implementation, Debian’s argon2 CLI)', async () => {
    expect(hex(await derivePassphraseKey('correct horse battery staple', SALT, TEST, { minimum: TEST }))).toBe('4d4842a15e981fcb61b59a50a91a7426f410e5962088b0342d80292831baaad3')
    // "é" typed decomposed (e + combining acute) is the composed é the CLI was given
    expect(hex(await derivePassphraseKey('e\u0301', SALT, TEST, { minimum: TEST }))).toBe('37fd8a5a3fb7018d4c964df7203463fd8c3723ba5ceb420bff2c86f2eed8f4d4')
  })

  it('the right passphrase verifies, a wrong one does not, and the salt comes from the injected randomness', async () => {
    const verifier = await createPassphraseVerifier('hunter2 but longer', fixedRandom(7), small)
    expect(verifier.salt).toEqual(new Uint8Array(16).fill(7))
    expect(verifier.params).toEqual(TEST)
    expect(await verifyPassphrase(verifier, 'hunter2 but longer')).toBe(true)
    for (const wrong of ['hunter2 but longe', 'Hunter2 but longer', 'hunter2 but longer ', 'x']) expect(await verifyPassphrase(verifier, wrong)).toBe(false)
    const other = await createPassphraseVerifier('hunter2 but longer', fixedRandom(8), small)
    expect(equalBytes(other.key, verifier.key)).toBe(false) // another salt, another key
  })

  it('an empty, over-long or malformed passphrase is refused before any work', async () => {
    for (const bad of ['', 'x'.repeat(1025), '\uD800', 42 as unknown as string]) {
      await expect(createPassphraseVerifier(bad, fixedRandom(1), small)).rejects.toThrow(InvalidCredentialsError)
    }
  })

  it('a new device refuses parameters below the minimum (a dialer asking for cheap ones) and above the maximum', async () => {
    await expect(derivePassphraseKey('pass', SALT, TEST)).rejects.toThrow(/weaker than the minimum t=2 m=19456/)
    await expect(derivePassphraseKey('pass', SALT, { ...MAX_PASSPHRASE_PARAMS, m: MAX_PASSPHRASE_PARAMS.m + 1 })).rejects.toThrow(InvalidCredentialsError)
    await expect(derivePassphraseKey('pass', SALT, { t: 9, m: 65536, p: 1 })).rejects.toThrow(InvalidCredentialsError)
    await expect(derivePassphraseKey('pass', new Uint8Array(15), TEST, { minimum: TEST })).rejects.toThrow(/salt must be 16 bytes/)
  })

  it('encodes with its parameters and salt, and decodes only what Argon2id can run within the bounds (property)', async () => {
    const verifier = await createPassphraseVerifier('pass', fixedRandom(3), small)
    const bytes = encodePassphraseVerifier(verifier)
    expect(bytes).toHaveLength(1 + 3 + 16 + 32)
    expect(decodePassphraseVerifier(bytes)).toEqual(verifier)
    expect(() => decodePassphraseVerifier(Uint8Array.of(2, ...bytes.subarray(1)))).toThrow(UnsupportedVersionError)
    fc.assert(
      fc.property(fc.array(mutationArb([8, 256 * 1024, 4, 2 ** 40]), { minLength: 1, maxLength: 3 }), ms => {
        const mutated = ms.reduce(mutate, bytes)
        let decoded: PassphraseVerifier
        try {
          decoded = decodePassphraseVerifier(mutated)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        const { t, m, p } = decoded.params
        if (t < 1 || t > 8 || p < 1 || p > 4 || m < 8 * p || m > 256 * 1024) throw new Error(`decoded unrunnable parameters ${t} ${m} ${p}`)
        if (!equalBytes(encodePassphraseVerifier(decoded), mutated)) throw new Error('accepted bytes are not canonical')
      }),
      { numRuns: 2000 }
    )
  })

  it('at the real parameters (64 MiB, t = 2) the key is the reference implementation’s', async () => {
    expect(PASSPHRASE_PARAMS).toEqual({ t: 2, m: 65536, p: 1 })
    const start = performance.now()
    const key = await derivePassphraseKey('correct horse battery staple', SALT, PASSPHRASE_PARAMS)
    const ms = performance.now() - start
    expect(hex(key)).toBe('1730d0c8e341f9c0fb78da9d0094735a3eeb8ae26d2552463327fe594c148f4b')
    // ~1 s here; a limit far above it only catches parameters changed by mistake (e.g. m in bytes)
    expect(ms).toBeLessThan(10_000)
  }, 30_000)
})

describe('passphrase proof in a link session', () => {
  it('the new device’s proof verifies against the verifier; a wrong passphrase is ERR_WRONG_PASSPHRASE', async () => {
    const verifier = await createPassphraseVerifier('open sesame', fixedRandom(5), small)
    const right = await derivePassphraseKey('open sesame', verifier.salt, verifier.params, small)
    expect(() => verifyPassphraseProof(verifier, session, passphraseProof(right, session))).not.toThrow()
    const wrong = await derivePassphraseKey('open sesam', verifier.salt, verifier.params, small)
    expect(() => verifyPassphraseProof(verifier, session, passphraseProof(wrong, session))).toThrow(WrongPassphraseError)
    expect(() => verifyPassphraseProof(verifier, session, new Uint8Array(3))).toThrow(WrongPassphraseError)
  })

  it('a proof is bound to its session: replayed with other nonces or peers it fails', async () => {
    const verifier = await createPassphraseVerifier('open sesame', fixedRandom(5), small)
    const proof = passphraseProof(verifier.key, session)
    for (const other of [
      { ...session, dialerNonce: new Uint8Array(32).fill(9) },
      { ...session, listenerNonce: new Uint8Array(32).fill(9) },
      { ...session, dialerPeerId: session.listenerPeerId, listenerPeerId: session.dialerPeerId }
    ]) {
      expect(() => verifyPassphraseProof(verifier, other, proof)).toThrow(WrongPassphraseError)
    }
  })
})

describe('attempt limiter', () => {
  it('lets PASSPHRASE_FREE_ATTEMPTS failures through, then doubles the wait from 30 s up to an hour', () => {
    let now = 1_000_000
    const limiter = new AttemptLimiter(() => now)
    const waits: number[] = []
    for (let i = 0; i < 13; i++) {
      limiter.check()
      waits.push(limiter.failed())
      now += waits.at(-1)!
    }
    const min = 60_000
    expect(waits).toEqual([0, 0, 0, 0, 30_000, min, 2 * min, 4 * min, 8 * min, 16 * min, 32 * min, 60 * min, 60 * min])
    expect(PASSPHRASE_ATTEMPT_LIMITS).toEqual({ freeAttempts: 5, baseDelayMs: 30_000, maxDelayMs: 3_600_000, forgetAfterMs: 86_400_000 })
  })

  it('an attempt during the wait is ERR_LINK_RATE_LIMITED carrying the time left', () => {
    let now = 0
    const limiter = new AttemptLimiter(() => now)
    for (let i = 0; i < 5; i++) limiter.failed()
    now += 10_000
    let error: unknown
    try {
      limiter.check()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(LinkRateLimitedError)
    expect((error as LinkRateLimitedError).retryAfterMs).toBe(20_000)
    expect((error as Error).message).toMatch(/try again in 20 s/)
    now += 20_000
    expect(() => limiter.check()).not.toThrow()
  })

  it('the right passphrase, or a day without failures, starts the count again', () => {
    let now = 0
    const limiter = new AttemptLimiter(() => now)
    for (let i = 0; i < 7; i++) limiter.failed()
    limiter.succeeded()
    expect(limiter.retryAfterMs()).toBe(0)
    expect(limiter.failed()).toBe(0)
    for (let i = 0; i < 7; i++) limiter.failed()
    now += 24 * 60 * 60_000
    expect(limiter.state).toEqual({ failures: 0, lastFailureAt: 0 })
    expect(limiter.failed()).toBe(0)
  })

  it('survives a restart through its saved state, and a clock set back never lengthens the wait', () => {
    let now = 5_000_000
    const limiter = new AttemptLimiter(() => now)
    for (let i = 0; i < 6; i++) limiter.failed()
    const restored = new AttemptLimiter(() => now, { state: limiter.state })
    expect(restored.retryAfterMs()).toBe(60_000)
    now -= 10 * 60 * 60_000
    expect(restored.retryAfterMs()).toBe(60_000)
    // garbage state is ignored rather than trusted
    expect(new AttemptLimiter(() => now, { state: { failures: -1, lastFailureAt: Number.NaN } }).state).toEqual({ failures: 0, lastFailureAt: 0 })
    expect(() => new AttemptLimiter(() => now, { limits: { freeAttempts: -1 } })).toThrow(RangeError)
  })
})
