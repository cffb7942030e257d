import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { agreementKeyFromSecret, InvalidCredentialsError, isUsableSigningKey, peerIdFromSigningKey, signingKeyFromPeerId, signingKeyFromSeed } from '../src/index.js'

// Made with @libp2p/crypto generateKeyPairFromSeed('Ed25519', seed filled with the byte) and
// @libp2p/peer-id peerIdFromPrivateKey: the chain must name devices exactly as libp2p does.
const libp2pVectors: [number, string, string][] = [
  [0, '3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29', '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'],
  [1, '8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c', '12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5'],
  [7, 'ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c', '12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7'],
  [255, '76a1592044a6e4f511265bca73a604d90b0529d1df602be30a19a9257660d1f5', '12D3KooWHoSyTgntm77sXShoeX9uNkqKNMhHxKtskaHqnA54SrSG']
]

describe('device keys and peer ids', () => {
  it.each(libp2pVectors)('seed %i: the public key and peer id libp2p computes', (byte, publicHex, peerId) => {
    const key = signingKeyFromSeed(new Uint8Array(32).fill(byte))
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(publicHex)
    expect(peerIdFromSigningKey(key.publicKey)).toBe(peerId)
    expect(Buffer.from(signingKeyFromPeerId(peerId)!).toString('hex')).toBe(publicHex)
  })

  it('peer id → key → peer id round-trips for any 32 bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), key => {
        const peerId = peerIdFromSigningKey(key)
        expect(peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/)
        expect(signingKeyFromPeerId(peerId)).toEqual(key)
      }),
      { numRuns: 300 }
    )
  })

  it('what is not the peer id of an Ed25519 key is null, never an exception', () => {
    const good = libp2pVectors[1]![2]
    const bad = [
      '',
      'x',
      good.slice(0, -1),
      `${good}1`,
      `1${good}`, // a leading '1' is a zero byte: another spelling
      good.replace('K', '0'), // not base58
      'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', // an RSA-style sha256 peer id
      '16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY', // secp256k1
      'z'.repeat(10_000),
      7 as unknown as string
    ]
    for (const peerId of bad) expect(signingKeyFromPeerId(peerId)).toBeNull()
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), s => {
        const key = signingKeyFromPeerId(s)
        if (key !== null) expect(peerIdFromSigningKey(key)).toBe(s)
      }),
      { numRuns: 500 }
    )
  })

  it('usable signing keys: real keys yes; small-order, non-canonical and off-curve encodings no', () => {
    expect(isUsableSigningKey(signingKeyFromSeed(new Uint8Array(32).fill(3)).publicKey)).toBe(true)
    const identity = new Uint8Array(32)
    identity[0] = 1 // the neutral point: small order
    expect(isUsableSigningKey(identity)).toBe(false)
    expect(isUsableSigningKey(new Uint8Array(32))).toBe(false) // a point of order 4
    expect(isUsableSigningKey(new Uint8Array(32).fill(0xff))).toBe(false) // y ≥ p: non-canonical
    expect(isUsableSigningKey(new Uint8Array(31))).toBe(false)
    // A usable key is one that can verify: sign with it and check.
    const key = signingKeyFromSeed(new Uint8Array(32).fill(4))
    expect(ed25519.verify(ed25519.sign(new Uint8Array([1]), key.secretKey), new Uint8Array([1]), key.publicKey, { zip215: false })).toBe(true)
  })

  it('key pairs are copied and checked for size', () => {
    const seed = new Uint8Array(32).fill(5)
    const pair = signingKeyFromSeed(seed)
    seed.fill(6)
    expect(pair.secretKey).toEqual(new Uint8Array(32).fill(5))
    expect(() => signingKeyFromSeed(new Uint8Array(31))).toThrow(InvalidCredentialsError)
    expect(agreementKeyFromSecret(new Uint8Array(32).fill(1)).publicKey).toHaveLength(32)
    expect(() => agreementKeyFromSecret(new Uint8Array(64))).toThrow(InvalidCredentialsError)
    expect(() => peerIdFromSigningKey(new Uint8Array(33))).toThrow(InvalidCredentialsError)
  })
})
