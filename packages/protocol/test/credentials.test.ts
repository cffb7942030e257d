import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CREDENTIALS_PREFIX,
  InvalidCredentialsError,
  TandemError,
  accountKeyFromSecret,
  decodeAccountCredentials,
  encodeAccountCredentials,
  signDeviceCertificate
} from '../src/index.js'

const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

describe('account credentials', () => {
  it('round-trips any secret, tolerating case and surrounding whitespace (property)', () => {
    fc.assert(
      fc.property(secretArb, fc.boolean(), (secretKey, upper) => {
        const text = encodeAccountCredentials({ secretKey })
        expect(text.startsWith(CREDENTIALS_PREFIX)).toBe(true)
        expect(text).toMatch(/^tandem-account:[a-z2-7]+$/)
        const pasted = `  ${upper ? text.toUpperCase() : text}\n`
        expect(decodeAccountCredentials(pasted).secretKey).toEqual(secretKey)
      }),
      { numRuns: 1000 }
    )
  })

  it('any single mistyped character is InvalidCredentialsError (property)', () => {
    fc.assert(
      fc.property(secretArb, fc.nat(), fc.integer({ min: 1, max: 31 }), (secretKey, at, shift) => {
        const text = encodeAccountCredentials({ secretKey })
        const i = CREDENTIALS_PREFIX.length + (at % (text.length - CREDENTIALS_PREFIX.length))
        const typo = BASE32[(BASE32.indexOf(text[i]!) + shift) % 32]!
        expect(() => decodeAccountCredentials(text.slice(0, i) + typo + text.slice(i + 1))).toThrow(InvalidCredentialsError)
      }),
      { numRuns: 1000 }
    )
  })

  it('arbitrary text: credentials or a TandemError (property)', () => {
    const arb = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }).map(s => CREDENTIALS_PREFIX + s),
      fc.stringMatching(/^tandem-account:[a-z2-7]{0,80}$/)
    )
    fc.assert(
      fc.property(arb, text => {
        try {
          decodeAccountCredentials(text)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e // expect() per run is slow; rethrow lets fast-check report it
        }
      }),
      { numRuns: 1000 }
    )
  })

  it('rejects wrong prefix, truncation and garbage', () => {
    const text = encodeAccountCredentials({ secretKey: new Uint8Array(32).fill(9) })
    for (const bad of ['', 'tandem-account:', text.replace('account', 'acount'), text.slice(0, -4), `${text}aaaa`, `${text}!`]) {
      expect(() => decodeAccountCredentials(bad)).toThrow(InvalidCredentialsError)
    }
    expect(() => encodeAccountCredentials({ secretKey: new Uint8Array(31) })).toThrow(InvalidCredentialsError)
  })

  it('a signing pair whose halves do not match is refused', () => {
    const a = accountKeyFromSecret(new Uint8Array(32).fill(1))
    const b = accountKeyFromSecret(new Uint8Array(32).fill(2))
    expect(() => signDeviceCertificate({ publicKey: a.publicKey, secretKey: b.secretKey }, { peerId: 'p', name: '', createdAt: 0 })).toThrow(InvalidCredentialsError)
  })
})
