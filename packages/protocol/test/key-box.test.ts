import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  accountAgreementKey,
  agreementKeyFromSecret,
  DecryptError,
  docKey,
  InvalidCredentialsError,
  KEY_BOX_BYTES,
  KEY_ID_BYTES,
  keyBoxContext,
  keyIdOf,
  openKey,
  sealKey,
  unwrapKey,
  WRAPPED_KEY_BYTES,
  wrapKey
} from '../src/index.js'
import { hex } from './chain-fixtures.js'
import { concat, hchacha20, hkdf, referenceBoxContext, referenceDocKey, referenceKeyBox, referenceKeyId, x25519, x25519Public, xchachaSeal } from './sealed-reference.js'

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const contextArb = fc.uint8Array({ maxLength: 64 })

/** Randomness that hands out `chunks` in order (each call takes the next one, cut to the size asked). */
const replay = (...chunks: Uint8Array[]) => {
  let i = 0
  return (n: number): Uint8Array => {
    const chunk = chunks[i++]
    if (chunk === undefined || chunk.length < n) throw new Error(`replay: no ${n} bytes left`)
    return chunk.slice(0, n)
  }
}

const fresh = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n))

/** `f` throws ERR_DECRYPT (a DecryptError), nothing else and not nothing. */
const rejectsDecrypt = (f: () => unknown) => {
  let thrown: unknown = null
  try {
    f()
  } catch (e) {
    thrown = e
  }
  expect(thrown).toBeInstanceOf(DecryptError)
  expect((thrown as DecryptError).code).toBe('ERR_DECRYPT')
}

const alice = agreementKeyFromSecret(new Uint8Array(32).fill(21))
const bob = agreementKeyFromSecret(new Uint8Array(32).fill(22))
const KEY = new Uint8Array(32).fill(0x5a)
const CONTEXT = keyBoxContext(3, new Uint8Array(KEY_ID_BYTES).fill(9))

describe('key boxes (a 32-byte key sealed to an X25519 key)', () => {
  it('open with the recipient secret and the same context, for any key, recipient and context (property)', () => {
    fc.assert(
      fc.property(bytes32, bytes32, contextArb, (key, secret, context) => {
        const recipient = agreementKeyFromSecret(secret)
        const box = sealKey(key, recipient.publicKey, context, fresh)
        expect(box).toHaveLength(KEY_BOX_BYTES)
        expect(hex(openKey(box, recipient.secretKey, recipient.publicKey, context))).toBe(hex(key))
      }),
      { numRuns: 200 }
    )
  })

  it('do not open with another secret, another context or another recipient named (property)', () => {
    fc.assert(
      fc.property(bytes32, contextArb, contextArb, (key, context, other) => {
        fc.pre(hex(context) !== hex(other))
        const box = sealKey(key, alice.publicKey, context, fresh)
        rejectsDecrypt(() => openKey(box, bob.secretKey, alice.publicKey, context))
        rejectsDecrypt(() => openKey(box, bob.secretKey, bob.publicKey, context))
        rejectsDecrypt(() => openKey(box, alice.secretKey, alice.publicKey, other))
        // the recipient is bound too (the HKDF salt): the right secret under another name does not open it
        rejectsDecrypt(() => openKey(box, alice.secretKey, bob.publicKey, context))
      }),
      { numRuns: 100 }
    )
  })

  it('any one flipped bit, anywhere in the box, gives ERR_DECRYPT (every bit of a box)', () => {
    const box = sealKey(KEY, alice.publicKey, CONTEXT, fresh)
    for (let bit = 0; bit < box.length * 8; bit++) {
      const flipped = box.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      rejectsDecrypt(() => openKey(flipped, alice.secretKey, alice.publicKey, CONTEXT))
    }
    expect(hex(openKey(box, alice.secretKey, alice.publicKey, CONTEXT))).toBe(hex(KEY))
  })

  it('truncated, extended or garbage boxes give ERR_DECRYPT, never another error (property)', () => {
    const box = sealKey(KEY, alice.publicKey, CONTEXT, fresh)
    for (let n = 0; n < box.length; n++) rejectsDecrypt(() => openKey(box.subarray(0, n), alice.secretKey, alice.publicKey, CONTEXT))
    rejectsDecrypt(() => openKey(concat(box, new Uint8Array(1)), alice.secretKey, alice.publicKey, CONTEXT))
    rejectsDecrypt(() => openKey(new Uint8Array(KEY_BOX_BYTES), alice.secretKey, alice.publicKey, CONTEXT)) // a zero (small-order) ephemeral key
    rejectsDecrypt(() => openKey(null as unknown as Uint8Array, alice.secretKey, alice.publicKey, CONTEXT))
    fc.assert(
      fc.property(fc.uint8Array({ minLength: KEY_BOX_BYTES, maxLength: KEY_BOX_BYTES }), garbage => {
        rejectsDecrypt(() => openKey(garbage, alice.secretKey, alice.publicKey, CONTEXT))
      }),
      { numRuns: 200 }
    )
  })

  it('every box is new: the ephemeral key and nonce come from the randomness given', () => {
    const a = sealKey(KEY, alice.publicKey, CONTEXT, fresh)
    const b = sealKey(KEY, alice.publicKey, CONTEXT, fresh)
    expect(hex(a)).not.toBe(hex(b))
    const secret = new Uint8Array(32).fill(1)
    const nonce = new Uint8Array(24).fill(2)
    expect(hex(sealKey(KEY, alice.publicKey, CONTEXT, replay(secret, nonce)))).toBe(hex(sealKey(KEY, alice.publicKey, CONTEXT, replay(secret, nonce))))
  })

  it('sealing refuses a key or a recipient that is not 32 bytes (ERR_INVALID_CREDENTIALS)', () => {
    expect(() => sealKey(new Uint8Array(31), alice.publicKey, CONTEXT, fresh)).toThrow(InvalidCredentialsError)
    expect(() => sealKey(new Uint8Array(33), alice.publicKey, CONTEXT, fresh)).toThrow(InvalidCredentialsError)
    expect(() => sealKey(KEY, new Uint8Array(31), CONTEXT, fresh)).toThrow(InvalidCredentialsError)
  })

  it('are PROTOCOL.md\'s bytes: ephemeral ‖ nonce ‖ XChaCha20-Poly1305(HKDF(X25519, ephemeral ‖ recipient, "tandem/key-box/v1" ‖ context), aad = context)', () => {
    fc.assert(
      fc.property(bytes32, bytes32, bytes32, fc.uint8Array({ minLength: 24, maxLength: 24 }), contextArb, (key, recipientSecret, ephemeralSecret, nonce, context) => {
        const recipient = agreementKeyFromSecret(recipientSecret)
        expect(hex(x25519Public(recipientSecret))).toBe(hex(recipient.publicKey))
        const box = sealKey(key, recipient.publicKey, context, replay(ephemeralSecret, nonce))
        expect(hex(box)).toBe(hex(referenceKeyBox(key, recipient.publicKey, context, ephemeralSecret, nonce)))
      }),
      { numRuns: 50 }
    )
  })
})

describe('wrapped keys (K_{g-1} under K_g)', () => {
  it('unwrap with the wrapping key and context only (property)', () => {
    fc.assert(
      fc.property(bytes32, bytes32, bytes32, contextArb, contextArb, (key, wrapping, other, context, otherContext) => {
        const wrapped = wrapKey(key, wrapping, context, fresh)
        expect(wrapped).toHaveLength(WRAPPED_KEY_BYTES)
        expect(hex(unwrapKey(wrapped, wrapping, context))).toBe(hex(key))
        if (hex(other) !== hex(wrapping)) rejectsDecrypt(() => unwrapKey(wrapped, other, context))
        if (hex(otherContext) !== hex(context)) rejectsDecrypt(() => unwrapKey(wrapped, wrapping, otherContext))
      }),
      { numRuns: 200 }
    )
  })

  it('any one flipped bit, and any other length, gives ERR_DECRYPT', () => {
    const wrapping = new Uint8Array(32).fill(3)
    const wrapped = wrapKey(KEY, wrapping, CONTEXT, fresh)
    for (let bit = 0; bit < wrapped.length * 8; bit++) {
      const flipped = wrapped.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      rejectsDecrypt(() => unwrapKey(flipped, wrapping, CONTEXT))
    }
    for (let n = 0; n < wrapped.length; n++) rejectsDecrypt(() => unwrapKey(wrapped.subarray(0, n), wrapping, CONTEXT))
    rejectsDecrypt(() => unwrapKey(concat(wrapped, new Uint8Array(1)), wrapping, CONTEXT))
  })

  it("are PROTOCOL.md's bytes: nonce ‖ XChaCha20-Poly1305(K_g, nonce, K_{g-1}, aad = context)", () => {
    const wrapping = new Uint8Array(32).fill(4)
    const nonce = new Uint8Array(24).fill(5)
    expect(hex(wrapKey(KEY, wrapping, CONTEXT, replay(nonce)))).toBe(hex(concat(nonce, xchachaSeal(wrapping, nonce, KEY, CONTEXT))))
  })
})

describe('content keys derived from K_g', () => {
  it('a doc key per doc and per generation; a 16-byte key id; all as PROTOCOL.md derives them (property)', () => {
    fc.assert(
      fc.property(bytes32, bytes32, fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (kg, other, docId, otherDoc) => {
        expect(hex(docKey(kg, docId))).toBe(hex(referenceDocKey(kg, docId)))
        expect(hex(keyIdOf(kg))).toBe(hex(referenceKeyId(kg)))
        expect(keyIdOf(kg)).toHaveLength(KEY_ID_BYTES)
        if (docId !== otherDoc) expect(hex(docKey(kg, docId))).not.toBe(hex(docKey(kg, otherDoc)))
        if (hex(kg) !== hex(other)) expect(hex(docKey(kg, docId))).not.toBe(hex(docKey(other, docId)))
      }),
      { numRuns: 200 }
    )
  })

  it('the account\'s X25519 pair of a generation is a working key pair of its own (info "tandem/account-x25519/v1")', () => {
    const kg = new Uint8Array(32).fill(6)
    const pair = accountAgreementKey(kg)
    const secret = hkdf(kg, new Uint8Array(0), new TextEncoder().encode('tandem/account-x25519/v1'), 32)
    expect(hex(pair.secretKey)).toBe(hex(secret))
    expect(hex(pair.publicKey)).toBe(hex(x25519Public(secret)))
    expect(hex(x25519(pair.secretKey, alice.publicKey))).toBe(hex(x25519(alice.secretKey, pair.publicKey)))
    expect(new Set([hex(pair.secretKey), hex(docKey(kg, '')), hex(keyIdOf(kg))]).size).toBe(3)
  })

  it('the box context is varstring("tandem/key-generation") varuint(generation) keyId', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (g, keyId) => {
        expect(hex(keyBoxContext(g, keyId))).toBe(hex(referenceBoxContext(g, keyId)))
      })
    )
  })

  it('the reference HChaCha20 these checks use gives the draft-irtf-cfrg-xchacha §2.2.1 test vector', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i)
    const nonce = Buffer.from('000000090000004a0000000031415927', 'hex')
    expect(hex(hchacha20(key, nonce))).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc')
  })
})
