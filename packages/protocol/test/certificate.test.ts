import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  InvalidCertificateError,
  MAX_DEVICE_NAME_BYTES,
  MAX_PEER_ID_BYTES,
  TandemError,
  UnsupportedVersionError,
  WrongAccountError,
  accountIdFromPublicKey,
  accountKeyFromSecret,
  certificateAccountId,
  decodeDeviceCertificate,
  encodeDeviceCertificate,
  generateAccountKey,
  signDeviceCertificate,
  verifyDeviceCertificate,
  type DeviceCertificate
} from '../src/index.js'
import { boundedString, certificateArb } from './arbitraries.js'

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const deviceArb = fc.record({
  peerId: boundedString(MAX_PEER_ID_BYTES),
  name: boundedString(MAX_DEVICE_NAME_BYTES),
  createdAt: fc.maxSafeNat()
})

describe('account identity', () => {
  it('account ids are deterministic, short and prefixed', () => {
    const key = generateAccountKey(n => new Uint8Array(n).fill(7))
    expect(accountKeyFromSecret(key.secretKey).publicKey).toEqual(key.publicKey)
    const id = accountIdFromPublicKey(key.publicKey)
    expect(id).toMatch(/^a[a-z2-7]{32}$/)
    expect(accountIdFromPublicKey(key.publicKey.slice())).toBe(id)
    expect(() => accountIdFromPublicKey(new Uint8Array(31))).toThrow(InvalidCertificateError)
  })
})

describe('certificate encoding (property)', () => {
  it('decode(encode(cert)) equals cert', () => {
    fc.assert(
      fc.property(certificateArb, cert => {
        expect(decodeDeviceCertificate(encodeDeviceCertificate(cert))).toEqual(cert)
      }),
      { numRuns: 1000 }
    )
  })

  it('arbitrary or truncated bytes: a certificate or a TandemError', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(certificateArb, fc.nat()).map(([c, n]) => encodeDeviceCertificate(c).subarray(0, n))
    )
    fc.assert(
      fc.property(arb, bytes => {
        try {
          decodeDeviceCertificate(bytes)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e // expect() per run is slow; rethrow lets fast-check report it
        }
      }),
      { numRuns: 1000 }
    )
  })

  it('an unknown certificate version is UnsupportedVersionError; malformed bytes are InvalidCertificateError', () => {
    expect(() => decodeDeviceCertificate(new Uint8Array([2]))).toThrow(UnsupportedVersionError)
    expect(() => decodeDeviceCertificate(new Uint8Array([1, 0, 0]))).toThrow(InvalidCertificateError)
  })
})

describe('certificate verification (property)', () => {
  type Mutation =
    | { field: 'accountPublicKey'; bit: number }
    | { field: 'signature'; bit: number }
    | { field: 'peerId' | 'name'; value: string }
    | { field: 'createdAt'; value: number }

  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ field: fc.constantFrom('accountPublicKey' as const), bit: fc.nat({ max: 255 }) }),
    fc.record({ field: fc.constantFrom('signature' as const), bit: fc.nat({ max: 511 }) }),
    fc.record({ field: fc.constantFrom('peerId' as const), value: boundedString(MAX_PEER_ID_BYTES) }),
    fc.record({ field: fc.constantFrom('name' as const), value: boundedString(MAX_DEVICE_NAME_BYTES) }),
    fc.record({ field: fc.constantFrom('createdAt' as const), value: fc.maxSafeNat() })
  )

  function apply(cert: DeviceCertificate, m: Mutation): DeviceCertificate {
    const flip = (bytes: Uint8Array, bit: number) => {
      const out = bytes.slice()
      out[bit >> 3]! ^= 1 << (bit & 7)
      return out
    }
    switch (m.field) {
      case 'accountPublicKey':
      case 'signature':
        return { ...cert, [m.field]: flip(cert[m.field], m.bit) }
      case 'peerId':
      case 'name':
      case 'createdAt':
        return { ...cert, [m.field]: m.value }
    }
  }

  it('a signed certificate verifies; any single mutated field or flipped bit does not', () => {
    fc.assert(
      fc.property(seedArb, deviceArb, mutationArb, (seed, device, mutation) => {
        const account = accountKeyFromSecret(seed)
        const cert = signDeviceCertificate(account, device)
        const accountId = accountIdFromPublicKey(account.publicKey)
        expect(verifyDeviceCertificate(cert, { peerId: device.peerId, accountId })).toBe(accountId)
        expect(certificateAccountId(cert)).toBe(accountId)

        const mutated = apply(cert, mutation)
        fc.pre(!Buffer.from(encodeDeviceCertificate(mutated)).equals(encodeDeviceCertificate(cert))) // a "mutation" to the same value
        expect(() => verifyDeviceCertificate(mutated, {})).toThrow(InvalidCertificateError)
        // Also after a trip over the wire.
        expect(() => verifyDeviceCertificate(decodeDeviceCertificate(encodeDeviceCertificate(mutated)), {})).toThrow(InvalidCertificateError)
      }),
      { numRuns: 200 }
    )
  })

  it('wrong expected account → WrongAccountError; wrong peer id → InvalidCertificateError', () => {
    fc.assert(
      fc.property(seedArb, seedArb, deviceArb, boundedString(MAX_PEER_ID_BYTES), (seed, otherSeed, device, otherPeer) => {
        fc.pre(!seed.every((b, i) => b === otherSeed[i]) && otherPeer !== device.peerId)
        const cert = signDeviceCertificate(accountKeyFromSecret(seed), device)
        const otherAccountId = accountIdFromPublicKey(accountKeyFromSecret(otherSeed).publicKey)
        expect(() => verifyDeviceCertificate(cert, { accountId: otherAccountId })).toThrow(WrongAccountError)
        expect(() => verifyDeviceCertificate(cert, { peerId: otherPeer })).toThrow(InvalidCertificateError)
      }),
      { numRuns: 100 }
    )
  })

  it('malformed in-memory certificates are InvalidCertificateError, not crashes', () => {
    const cert = signDeviceCertificate(accountKeyFromSecret(new Uint8Array(32).fill(1)), { peerId: 'p', name: 'n', createdAt: 1 })
    for (const bad of [
      { ...cert, accountPublicKey: cert.accountPublicKey.subarray(0, 31) },
      { ...cert, signature: cert.signature.subarray(0, 63) },
      { ...cert, createdAt: -1 },
      { ...cert, createdAt: 1.5 },
      { ...cert, name: 'x'.repeat(MAX_DEVICE_NAME_BYTES + 1) },
      { ...cert, accountPublicKey: new Uint8Array(32) } // small-order point: strict verification refuses it
    ]) {
      expect(() => verifyDeviceCertificate(bad, {})).toThrow(InvalidCertificateError)
    }
  })
})
