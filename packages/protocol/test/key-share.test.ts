import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeKeyMessage,
  encodeKeyMessage,
  isKeyMessage,
  isSealed,
  KEY_BOX_BYTES,
  KEY_REQUEST,
  KEY_SHARE,
  type KeyMessage,
  MalformedFrameError,
  MAX_SHARED_GENERATIONS,
  nobleSignatures,
  SEALED_ENCODING,
  TandemError
} from '../src/index.js'
import { dev, hex } from './chain-fixtures.js'
import { expectSameValue } from './helpers.js'
import { concat, ed25519Sign, varstring, varuint } from './sealed-reference.js'

const ACCOUNT = 'ae7qpes7mushhh5va3bei6yozsiyiejd5'
const sender = dev(1)

const generationsArb = fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { minLength: 1, maxLength: MAX_SHARED_GENERATIONS })
const entryArb = fc.record({
  generation: fc.integer({ min: 1, max: 2 ** 40 }),
  keyId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  box: fc.uint8Array({ minLength: KEY_BOX_BYTES, maxLength: KEY_BOX_BYTES })
})
const messageArb: fc.Arbitrary<KeyMessage> = fc.oneof(
  generationsArb.map(generations => ({ type: 'key-request' as const, requester: sender.key.publicKey, generations })),
  fc
    .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(entryArb, { minLength: 1, maxLength: 4 }))
    .map(([recipient, entries]) => ({ type: 'key-share' as const, author: sender.key.publicKey, recipient, entries }))
)

const encode = (m: KeyMessage, account = ACCOUNT) => encodeKeyMessage(m, account, sender.key.secretKey, nobleSignatures)

async function refusal(promise: Promise<unknown>): Promise<TandemError> {
  try {
    await promise
  } catch (e) {
    if (!(e instanceof TandemError)) throw new Error(`not a TandemError: ${String(e)}`, { cause: e })
    return e
  }
  throw new Error('accepted')
}

const request: KeyMessage = { type: 'key-request', requester: sender.key.publicKey, generations: [2, 3] }

describe('key requests and shares', () => {
  it('decode(encode(message)) is the message, for requests and shares within the bounds (property)', async () => {
    await fc.assert(
      fc.asyncProperty(messageArb, async m => {
        const bytes = await encode(m)
        expect(isKeyMessage(bytes)).toBe(true)
        expect(isSealed(bytes)).toBe(false)
        expectSameValue(await decodeKeyMessage(bytes, ACCOUNT, nobleSignatures), m)
      }),
      { numRuns: 60 }
    )
  })

  it("are PROTOCOL.md's bytes: tag, keys, count, items, then Ed25519(varstring(domain) varstring(accountId) ‖ body)", async () => {
    const body = concat(varuint(KEY_REQUEST), sender.key.publicKey, varuint(2), varuint(2), varuint(3))
    const signature = ed25519Sign(sender.key.secretKey, concat(varstring('tandem/key-request/v1'), varstring(ACCOUNT), body))
    expect(hex(await encode(request))).toBe(hex(concat(body, signature)))
    const entry = { generation: 7, keyId: new Uint8Array(16).fill(1), box: new Uint8Array(KEY_BOX_BYTES).fill(2) }
    const recipient = dev(2).key.publicKey
    const shareBody = concat(varuint(KEY_SHARE), sender.key.publicKey, recipient, varuint(1), varuint(7), entry.keyId, entry.box)
    const shareSignature = ed25519Sign(sender.key.secretKey, concat(varstring('tandem/key-share/v1'), varstring(ACCOUNT), shareBody))
    expect(hex(await encode({ type: 'key-share', author: sender.key.publicKey, recipient, entries: [entry] }))).toBe(hex(concat(shareBody, shareSignature)))
  })

  it('are bound to their account: a message replayed to another account does not verify (ERR_MALFORMED_FRAME)', async () => {
    const bytes = await encode(request)
    expect(await refusal(decodeKeyMessage(bytes, 'another-account', nobleSignatures))).toBeInstanceOf(MalformedFrameError)
  })

  it('any one flipped bit, and every truncation, is ERR_MALFORMED_FRAME (every bit of a request)', async () => {
    const bytes = await encode(request)
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = bytes.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      expect((await refusal(decodeKeyMessage(flipped, ACCOUNT, nobleSignatures))).code, `bit ${bit}`).toBe('ERR_MALFORMED_FRAME')
    }
    for (let n = 0; n < bytes.length; n++) expect(await refusal(decodeKeyMessage(bytes.subarray(0, n), ACCOUNT, nobleSignatures))).toBeInstanceOf(MalformedFrameError)
  })

  it('name 1 to MAX_SHARED_GENERATIONS generations: the encoder refuses 0 or more, the decoder too', async () => {
    await expect(encode({ ...request, generations: [] } as KeyMessage)).rejects.toThrow(RangeError)
    await expect(encode({ ...request, generations: Array.from({ length: MAX_SHARED_GENERATIONS + 1 }, (_, i) => i + 1) } as KeyMessage)).rejects.toThrow(RangeError)
    for (const n of [0, MAX_SHARED_GENERATIONS + 1]) {
      const body = concat(varuint(KEY_REQUEST), sender.key.publicKey, varuint(n), ...Array.from({ length: n }, () => varuint(1)))
      const bytes = concat(body, ed25519Sign(sender.key.secretKey, concat(varstring('tandem/key-request/v1'), varstring(ACCOUNT), body)))
      expect(await refusal(decodeKeyMessage(bytes, ACCOUNT, nobleSignatures))).toBeInstanceOf(MalformedFrameError)
    }
  })

  it('any bytes at all: ERR_MALFORMED_FRAME or a message, never another error (property)', async () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.uint8Array({ maxLength: 400 }).map(b => Uint8Array.of(KEY_REQUEST, ...b)),
      fc.uint8Array({ maxLength: 400 }).map(b => Uint8Array.of(KEY_SHARE, ...b))
    )
    await fc.assert(
      fc.asyncProperty(arb, async bytes => {
        await decodeKeyMessage(bytes, ACCOUNT, nobleSignatures).catch((e: unknown) => {
          if (!(e instanceof MalformedFrameError)) throw e
        })
      }),
      { numRuns: 500 }
    )
  })

  it('never look like sealed ephemeral data, and sealed data never looks like them', () => {
    expect(isKeyMessage(Uint8Array.of(SEALED_ENCODING, 1))).toBe(false)
    expect(isKeyMessage(new Uint8Array(0))).toBe(false)
    expect(isSealed(Uint8Array.of(KEY_REQUEST))).toBe(false)
    expect(isSealed(Uint8Array.of(KEY_SHARE))).toBe(false)
  })
})
