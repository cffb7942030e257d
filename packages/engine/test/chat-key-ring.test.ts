import { chatDocId, docKey, sealChatKeys, signMembership } from '@tandem/protocol'
import { expect, it } from 'vitest'
import { ChatKeyRing } from '../src/people/chat-key-ring.js'
import { device, random, TestAccount } from './key-fixtures.js'

// Two members start a shared chat's next epoch at once, each with its own random key, in record
// versions of the same number; the relay keeps one, and a device that held the other takes it.
// (Simulator seeds 20261163 and 20261204 with --people: the doc keys derived from the losing
// epoch key stayed cached, so that device sealed with them and opened nothing of the others.)

const CHAT = '00112233445566778899aabb'
const docId = chatDocId(CHAT)

it('derives a doc’s key from the epoch key of the record it holds now, when one of the same version replaces the one it held', () => {
  const alice = new TestAccount(device(1))
  const bob = new TestAccount(device(2))
  const aliceRing = alice.ring(device(1).agreement)
  const bobRing = bob.ring(device(2).agreement)
  const recipients = [
    { account: alice.state.accountId, generation: 1, accountKey: aliceRing.accountAgreement(1)!.publicKey },
    { account: bob.state.accountId, generation: 1, accountKey: bobRing.accountAgreement(1)!.publicKey }
  ]
  const members = [alice.state.accountId, bob.state.accountId]
  const k1 = new Uint8Array(32).fill(1)
  const record = (version: number, by: { accountId: string; device: number }, keys: Uint8Array[]) =>
    signMembership(
      { accountId: by.accountId, key: device(by.device).signing },
      { docId, version, members, issuedAt: version, keys: sealChatKeys(docId, keys.length, keys.at(-1)!, recipients, keys.slice(0, -1), random) }
    )
  const problems: unknown[] = []
  const ring = new ChatKeyRing(
    () => alice.state.accountId,
    () => aliceRing,
    e => problems.push(e)
  )
  const segment = `${docId}:1`
  ring.update(CHAT, record(1, { accountId: alice.state.accountId, device: 1 }, [k1]))

  // Alice starts epoch 2 with her key, and her device writes under it
  const hers = new Uint8Array(32).fill(2)
  ring.update(CHAT, record(2, { accountId: alice.state.accountId, device: 1 }, [k1, hers]))
  expect(ring.docKey(CHAT, 2, segment)).toEqual(docKey(hers, segment))
  // the relay kept Bob's version 2, another key: what she writes and reads from now on is under his
  const his = new Uint8Array(32).fill(3)
  expect(ring.update(CHAT, record(2, { accountId: bob.state.accountId, device: 2 }, [k1, his]))).toBe(true)
  expect(ring.docKey(CHAT, 2, segment)).toEqual(docKey(his, segment))
  expect(ring.docKey(CHAT, 1, segment)).toEqual(docKey(k1, segment))
  expect(problems).toEqual([])
})
