import { describe, expect, it } from 'vitest'
import {
  accountAgreementKey,
  DecryptError,
  decodeSignedMembership,
  encodeSignedMembership,
  InvalidMembershipError,
  MEMBERSHIP_KEYED_FORMAT_VERSION,
  openChatKeys,
  sealChatKeys,
  signMembership,
  UnknownEpochError,
  verifyMembership
} from '../src/index.js'
import { dev, genesisOf } from './chain-fixtures.js'

let counter = 0
/** Deterministic "randomness" for the boxes: a counter spread over the bytes. */
const random = (n: number) => new Uint8Array(n).map((_, i) => (counter++ * 31 + i) & 0xff)
const gen = (seed: number) => new Uint8Array(32).fill(seed)
const accounts = [1, 2, 3].map(i => ({ accountId: genesisOf(i).state.accountId, key: dev(i).key, generationKey: gen(40 + i) }))
const [alice, bob, carol] = accounts as [(typeof accounts)[0], (typeof accounts)[0], (typeof accounts)[0]]
const docId = 'chat:00112233445566778899aabb'
const recipient = (a: typeof alice, generation = 1) => ({ account: a.accountId, generation, accountKey: accountAgreementKey(a.generationKey).publicKey })
const secretOf = (a: typeof alice) => (generation: number) => (generation === 1 ? accountAgreementKey(a.generationKey) : null)

describe('chat keys in membership records', () => {
  it('every member account opens the epoch key with its account key; the newest record opens every older epoch', () => {
    const k1 = gen(1)
    const k2 = gen(2)
    const e1 = sealChatKeys(docId, 1, k1, [recipient(alice), recipient(bob), recipient(carol)], [], random)
    expect(openChatKeys(docId, e1, bob.accountId, secretOf(bob))).toEqual([k1])
    // carol removed: epoch 2 is sealed to alice and bob only, with epoch 1 wrapped under it
    const e2 = sealChatKeys(docId, 2, k2, [recipient(alice), recipient(bob)], [k1], random)
    expect(openChatKeys(docId, e2, alice.accountId, secretOf(alice))).toEqual([k1, k2])
    expect(() => openChatKeys(docId, e2, carol.accountId, secretOf(carol))).toThrow(DecryptError)
    // a box moved to another chat, or opened with another account's key, does not open
    expect(() => openChatKeys('chat:other', e2, alice.accountId, secretOf(alice))).toThrow(DecryptError)
    expect(() => openChatKeys(docId, e2, alice.accountId, () => accountAgreementKey(gen(99)))).toThrow(DecryptError)
    expect(() => openChatKeys(docId, e2, alice.accountId, () => null)).toThrow(UnknownEpochError)
  })

  it('a record with keys is format 3, signed over its boxes: it round-trips, verifies, and a changed box does not verify', () => {
    const keys = sealChatKeys(docId, 1, gen(1), [recipient(alice), recipient(bob)], [], random)
    const record = signMembership(alice, { docId, version: 1, members: [alice.accountId, bob.accountId], issuedAt: 5, keys })
    const bytes = encodeSignedMembership(record)
    expect(bytes[0]).toBe(MEMBERSHIP_KEYED_FORMAT_VERSION)
    const read = decodeSignedMembership(bytes)
    expect(verifyMembership(read)).toBe(alice.accountId)
    expect(openChatKeys(docId, read.keys!, bob.accountId, secretOf(bob))).toEqual([gen(1)])
    const swapped = { ...read, keys: { ...read.keys!, boxes: [read.keys!.boxes[0]!, { ...read.keys!.boxes[1]!, box: read.keys!.boxes[0]!.box }] } }
    expect(() => verifyMembership(swapped)).toThrow(/does not verify/)
  })

  it('boxes must name exactly the members, in order, and an epoch wraps every older key', () => {
    const keys = sealChatKeys(docId, 1, gen(1), [recipient(alice), recipient(bob)], [], random)
    const sign = (members: string[], k = keys) => signMembership(alice, { docId, version: 1, members, issuedAt: 0, keys: k })
    expect(() => sign([alice.accountId])).toThrow(InvalidMembershipError)
    expect(() => sign([bob.accountId, alice.accountId])).toThrow(/not the member in that place/)
    expect(() => sign([alice.accountId, bob.accountId], { ...keys, epoch: 2 })).toThrow(/wraps 1 older keys/)
    expect(() => sealChatKeys(docId, 2, gen(2), [recipient(alice)], [], random)).toThrow(RangeError)
  })
})
