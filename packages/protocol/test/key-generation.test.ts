import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  acceptLink,
  type ChainState,
  decodeChainLink,
  decodeKeyGeneration,
  type Draft,
  encodeChainLink,
  encodeKeyGeneration,
  encodeRecoveryAgreement,
  InvalidDeviceListError,
  KEY_BOX_BYTES,
  KEY_GENERATION_EXTENSION,
  type KeyGeneration,
  keyGenerationOf,
  MAX_CHAIN_DEVICES,
  MAX_EXTENSION_BYTES,
  proposeLink,
  RECOVERY_AGREEMENT_EXTENSION,
  rebaseIntents,
  recoveryAgreementOf,
  type TandemError,
  verifyChain,
  WRAPPED_KEY_BYTES
} from '../src/index.js'
import { fullDevices } from './chain-arbitraries.js'
import { dev, genesisOf, hex, nextBody, signAny } from './chain-fixtures.js'
import { equalBytes, expectSameValue, mutate, mutationArb } from './helpers.js'
import { concat, varuint } from './sealed-reference.js'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const boxArb = fc.record({ recipient: bytes(32), box: bytes(KEY_BOX_BYTES) })

/** Any well-formed key generation: a start (with K_{g-1} wrapped after the first) or boxes for added devices; up to MAX_CHAIN_DEVICES + 1 boxes. */
const keyGenerationArb: fc.Arbitrary<KeyGeneration> = fc
  .record({
    generation: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    keyId: bytes(16),
    starts: fc.boolean(),
    boxes: fc.oneof(
      { weight: 8, arbitrary: fc.array(boxArb, { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.array(boxArb, { minLength: MAX_CHAIN_DEVICES + 1, maxLength: MAX_CHAIN_DEVICES + 1 }) }
    ),
    previous: bytes(WRAPPED_KEY_BYTES),
    accountKey: bytes(32)
  })
  .map(g => ({ ...g, previous: g.starts && g.generation > 1 ? g.previous : null, accountKey: g.starts ? g.accountKey : null }))

const rejects = (f: () => unknown, pattern?: RegExp) => {
  let thrown: unknown = null
  try {
    f()
  } catch (e) {
    thrown = e
  }
  expect(thrown).toBeInstanceOf(InvalidDeviceListError)
  expect((thrown as TandemError).code).toBe('ERR_INVALID_DEVICE_LIST')
  if (pattern) expect((thrown as Error).message).toMatch(pattern)
}

const sample: KeyGeneration = {
  generation: 2,
  keyId: new Uint8Array(16).fill(1),
  starts: true,
  boxes: [{ recipient: new Uint8Array(32).fill(2), box: new Uint8Array(KEY_BOX_BYTES).fill(3) }],
  previous: new Uint8Array(WRAPPED_KEY_BYTES).fill(4),
  accountKey: new Uint8Array(32).fill(5)
}

describe('key generation extension (type 1) encoding', () => {
  it('decode(encode(g)) equals g, every bound included (property)', () => {
    fc.assert(
      fc.property(keyGenerationArb, g => {
        const x = encodeKeyGeneration(g)
        expect(x.type).toBe(KEY_GENERATION_EXTENSION)
        expect(x.data.length).toBeLessThanOrEqual(MAX_EXTENSION_BYTES)
        expectSameValue(decodeKeyGeneration(x.data), g)
      }),
      { numRuns: 300 }
    )
  })

  it("is PROTOCOL.md's layout: format, generation, keyId, starts, boxes, previous, account key", () => {
    const expected = concat(
      varuint(1),
      varuint(2),
      sample.keyId,
      new Uint8Array([1]),
      varuint(1),
      sample.boxes[0]!.recipient,
      sample.boxes[0]!.box,
      new Uint8Array([1]),
      sample.previous!,
      new Uint8Array([1]),
      sample.accountKey!
    )
    expect(hex(encodeKeyGeneration(sample).data)).toBe(hex(expected))
    const addOnly = { ...sample, starts: false, previous: null, accountKey: null, boxes: [] }
    expect(hex(encodeKeyGeneration(addOnly).data)).toBe(
      hex(concat(varuint(1), varuint(2), sample.keyId, new Uint8Array([0]), varuint(0), new Uint8Array([0]), new Uint8Array([0])))
    )
  })

  it('the largest one (MAX_CHAIN_DEVICES + 1 boxes, a wrapped key, generation 2^53 − 1) fits in a link that lists MAX_CHAIN_DEVICES devices', () => {
    const g = { ...sample, generation: Number.MAX_SAFE_INTEGER, boxes: Array.from({ length: MAX_CHAIN_DEVICES + 1 }, () => sample.boxes[0]!) }
    const x = encodeKeyGeneration(g)
    expect(x.data.length).toBe(1 + 8 + 16 + 1 + 1 + (MAX_CHAIN_DEVICES + 1) * (32 + KEY_BOX_BYTES) + 1 + WRAPPED_KEY_BYTES + 1 + 32)
    const { state } = genesisOf()
    const link = { ...nextBody(state, dev(1).signer, { devices: fullDevices(3) }), extensions: [x, encodeRecoveryAgreement(new Uint8Array(32))], signature: new Uint8Array(64) }
    expectSameValue(keyGenerationOf(decodeChainLink(encodeChainLink(link))), g)
  })

  it('the encoder refuses what no decoder would read: generation 0, keys of the wrong size, more than MAX_CHAIN_DEVICES + 1 boxes', () => {
    rejects(() => encodeKeyGeneration({ ...sample, generation: 0 }), /at least 1/)
    rejects(() => encodeKeyGeneration({ ...sample, generation: -1 }))
    rejects(() => encodeKeyGeneration({ ...sample, generation: 1.5 }))
    rejects(() => encodeKeyGeneration({ ...sample, keyId: new Uint8Array(15) }))
    rejects(() => encodeKeyGeneration({ ...sample, boxes: [{ recipient: new Uint8Array(31), box: sample.boxes[0]!.box }] }))
    rejects(() => encodeKeyGeneration({ ...sample, boxes: [{ recipient: sample.boxes[0]!.recipient, box: new Uint8Array(KEY_BOX_BYTES - 1) }] }))
    rejects(() => encodeKeyGeneration({ ...sample, previous: new Uint8Array(WRAPPED_KEY_BYTES + 1) }))
    rejects(() => encodeKeyGeneration({ ...sample, boxes: Array.from({ length: MAX_CHAIN_DEVICES + 2 }, () => sample.boxes[0]!) }), /over the bound of 65/)
  })

  it('every truncation, and every byte appended, is ERR_INVALID_DEVICE_LIST', () => {
    const data = encodeKeyGeneration(sample).data
    for (let n = 0; n < data.length; n++) rejects(() => decodeKeyGeneration(data.subarray(0, n)))
    rejects(() => decodeKeyGeneration(concat(data, new Uint8Array([0]))), /trailing/)
  })

  it('arbitrary, mutated or truncated bytes: a key generation that re-encodes to the same bytes, or ERR_INVALID_DEVICE_LIST — never anything else', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(keyGenerationArb, fc.array(mutationArb([MAX_CHAIN_DEVICES + 1, KEY_BOX_BYTES, 2 ** 30]), { minLength: 1, maxLength: 3 }))
        .map(([g, ms]) => ms.reduce(mutate, encodeKeyGeneration(g).data))
    )
    fc.assert(
      fc.property(arb, data => {
        let g: KeyGeneration
        try {
          g = decodeKeyGeneration(data)
        } catch (e) {
          if (!(e instanceof InvalidDeviceListError)) throw e
          return
        }
        if (!equalBytes(encodeKeyGeneration(g).data, data)) throw new Error('accepted bytes are not canonical')
      }),
      { numRuns: 3000 }
    )
  })

  it('an unknown format, generation 0, a box count past the bytes or the bound, a bool not 0/1, or a wrapped key where none belongs is ERR_INVALID_DEVICE_LIST', () => {
    const tail = concat(sample.keyId, new Uint8Array([0]), varuint(0), new Uint8Array([0]))
    rejects(() => decodeKeyGeneration(concat(varuint(2), varuint(2), tail)), /format 2 is not supported/)
    rejects(() => decodeKeyGeneration(concat(varuint(1), varuint(0), tail)), /at least 1/)
    rejects(() => decodeKeyGeneration(concat(varuint(1), varuint(2), sample.keyId, new Uint8Array([0]), varuint(66))), /over the bound of 65/)
    rejects(() => decodeKeyGeneration(concat(varuint(1), varuint(2), sample.keyId, new Uint8Array([0]), varuint(2 ** 40))), /over the bound/)
    rejects(() => decodeKeyGeneration(concat(varuint(1), varuint(2), sample.keyId, new Uint8Array([0]), varuint(20), new Uint8Array(10))), /20 entries claimed/)
    rejects(() => decodeKeyGeneration(concat(varuint(1), varuint(2), sample.keyId, new Uint8Array([2]), varuint(0), new Uint8Array([0]))), /bool/)
    rejects(() => decodeKeyGeneration(new Uint8Array([0x81, 0x00, 2])), /non-canonical/)
    const withPrevious = (generation: number, starts: boolean) =>
      concat(varuint(1), varuint(generation), sample.keyId, new Uint8Array([starts ? 1 : 0]), varuint(0), new Uint8Array([1]), sample.previous!, new Uint8Array([0]))
    expect(decodeKeyGeneration(withPrevious(2, true)).previous).toHaveLength(WRAPPED_KEY_BYTES)
    rejects(() => decodeKeyGeneration(withPrevious(2, false)), /wraps the one before/)
    rejects(() => decodeKeyGeneration(withPrevious(1, true)), /wraps the one before/)
  })

  it('the encoder refuses a wrapped key where the decoder refuses one (a link that does not start a generation, or generation 1)', () => {
    rejects(() => encodeKeyGeneration({ ...sample, starts: false }))
    rejects(() => encodeKeyGeneration({ ...sample, generation: 1 }))
  })

  it('only a link that starts a generation names the account key: the encoder and the decoder refuse it elsewhere', () => {
    rejects(() => encodeKeyGeneration({ ...sample, starts: false, previous: null }), /account key/)
    const addWithKey = concat(varuint(1), varuint(2), sample.keyId, new Uint8Array([0]), varuint(0), new Uint8Array([0]), new Uint8Array([1]), sample.accountKey!)
    rejects(() => decodeKeyGeneration(addWithKey), /account key/)
  })
})

describe('recovery agreement extension (type 2) and reading extensions off links', () => {
  it('is the 32-byte X25519 public key alone; any other length is ERR_INVALID_DEVICE_LIST', () => {
    const key = new Uint8Array(32).fill(7)
    const x = encodeRecoveryAgreement(key)
    expect(x.type).toBe(RECOVERY_AGREEMENT_EXTENSION)
    expect(hex(x.data)).toBe(hex(key))
    const { state } = genesisOf()
    const withData = (data: Uint8Array) => ({ ...nextBody(state, dev(1).signer, { extensions: [{ type: 2, data }] }), signature: new Uint8Array(64) })
    expect(hex(recoveryAgreementOf(withData(key))!)).toBe(hex(key))
    rejects(() => recoveryAgreementOf(withData(new Uint8Array(31))))
    rejects(() => recoveryAgreementOf(withData(new Uint8Array(33))))
    rejects(() => encodeRecoveryAgreement(new Uint8Array(16)))
  })

  it('a link without them carries none (null); a malformed one is an error for the device that reads it', () => {
    const { link } = genesisOf()
    expect(keyGenerationOf(link)).toBeNull()
    expect(recoveryAgreementOf(link)).toBeNull()
    const bad = { ...link, extensions: [{ type: 1, data: new Uint8Array([1, 0]) }] }
    rejects(() => keyGenerationOf(bad))
  })

  it('the chain rules never read extensions: links with malformed key material still verify and are accepted', () => {
    const { link: genesis, state } = genesisOf()
    const garbage = [
      { type: KEY_GENERATION_EXTENSION, data: new Uint8Array([9, 9, 9]) },
      { type: RECOVERY_AGREEMENT_EXTENSION, data: new Uint8Array(5) }
    ]
    const link = signAny(nextBody(state, dev(1).signer, { extensions: garbage }), dev(1).key)
    const after = acceptLink(state, link).state
    expect(after.version).toBe(2)
    expect(verifyChain([genesis, link]).version).toBe(2)
    rejects(() => keyGenerationOf(link))
    rejects(() => recoveryAgreementOf(link))
  })

  it("proposeLink asks for a link's extensions with the head and the list the link will carry; a rebase asks again on the winner", () => {
    const { state } = genesisOf()
    const calls: { head: ChainState; devices: string[]; revoked: string[] }[] = []
    const extensions = (head: ChainState, draft: Draft) => {
      calls.push({ head, devices: [...draft.devices.keys()].sort(), revoked: [...draft.revoked.keys()].sort() })
      return [encodeKeyGeneration({ ...sample, generation: head.version, starts: false, previous: null, accountKey: null })]
    }
    const add2 = proposeLink(state, [{ type: 'add-device', device: dev(2).device }], dev(1).signer, { issuedAt: 1, extensions })
    expect(calls).toHaveLength(1)
    expect(calls[0]!.head).toBe(state)
    expect(calls[0]!.devices).toEqual([hex(dev(1).key.publicKey), hex(dev(2).key.publicKey)].sort())
    expect(keyGenerationOf(add2)?.generation).toBe(1)

    // another device's link won: the same intent rebased on it gets extensions made for the winner's list
    const winner = acceptLink(state, proposeLink(state, [{ type: 'add-device', device: dev(3).device }], dev(1).signer, { issuedAt: 2 })).state
    const outcome = rebaseIntents(winner, [{ type: 'add-device', device: dev(2).device }], dev(1).signer, { issuedAt: 3, extensions })
    expect(calls).toHaveLength(2)
    expect(calls[1]!.head).toBe(winner)
    expect(calls[1]!.devices).toEqual([1, 2, 3].map(i => hex(dev(i).key.publicKey)).sort())
    expect(keyGenerationOf(outcome.link!)?.generation).toBe(2)
    // a plain array still works, and no extensions at all is an empty list
    expect(proposeLink(state, [], dev(1).signer, { issuedAt: 4, extensions: [encodeRecoveryAgreement(new Uint8Array(32))] }).extensions).toHaveLength(1)
    expect(proposeLink(state, [], dev(1).signer, { issuedAt: 4 }).extensions).toEqual([])
  })
})
