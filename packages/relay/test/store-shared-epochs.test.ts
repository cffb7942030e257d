// A shared chat's epoch floor (DESIGN §5, issue 14): once a member account starts a new key
// generation (it revoked a device, which may hold the account key the chat's epoch is sealed
// to), the relay refuses blobs of the chat sealed in that epoch until a record starts the next
// one, sealed to the member's new generation; and it passes nothing on live that it then refuses.
import { randomBytes } from 'node:crypto'
import { type ChainIntent, type ChainLink, encodeKeyGeneration, KEY_ID_BYTES, proposeLink, sealChatKeys, signMembership, type SignedMembership } from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import type { TestAccount } from '../src/testing/test-chain.js'
import { type FakeDevice, type Frame, newAccount, ofType, sendUpload, setup } from './store-helpers.js'

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))
let issuedAt = 10_000

/** A link by the account's first device that starts key generation `generation` (what the relay counts: public numbers only), adopted. */
function startGeneration(account: TestAccount, generation: number, intents: ChainIntent[]): ChainLink {
  const extension = encodeKeyGeneration({ generation, keyId: random(KEY_ID_BYTES), starts: true, boxes: [], previous: null, accountKey: random(32) })
  const link = proposeLink(account.state, intents, { kind: 'device', key: account.first.key }, { issuedAt: ++issuedAt, extensions: [extension] })
  account.adopt(link)
  return link
}

/** Record `version` of the chat, its key of `epoch` sealed to each member at the generation given. */
function record(docId: string, version: number, epoch: number, members: Array<[TestAccount, number]>): SignedMembership {
  const recipients = members.map(([m, generation]) => ({ account: m.id, generation, accountKey: random(32) }))
  const older = Array.from({ length: epoch - 1 }, () => random(32))
  const keys = sealChatKeys(docId, epoch, random(32), recipients, older, random)
  const [signer] = members[0]!
  return signMembership({ accountId: signer.id, key: signer.first.key }, { docId, version, members: members.map(([m]) => m.id), issuedAt: ++issuedAt, keys })
}

/** Bytes that begin like a sealed blob of `epoch` (all the relay reads of one). */
const sealed = (epoch: number): Uint8Array => new Uint8Array([3, epoch, ...random(200)])

/** The relay's answer to upload `uploadId`: its ack, or its doc-error. */
const answer = (device: FakeDevice, docId: string, uploadId: number) =>
  device.next(f => (f.type === 'ack' || f.type === 'doc-error') && f.docId === docId && f.uploadId === uploadId, `the answer to upload ${uploadId}`) as Promise<
    Frame<'ack'> | Frame<'doc-error'>
  >

describe('/tandem/store: the epoch floor of a chat between accounts', () => {
  it('refuses blobs sealed in the epoch a member’s new generation made stale, passes none of them on live, and takes them sealed in the next epoch', async () => {
    const { join, seed } = await setup()
    const [alice, bob] = [newAccount(), newAccount()]
    const laptop = bob.device('laptop')
    startGeneration(alice, 1, [])
    startGeneration(bob, 1, [{ type: 'add-device', device: laptop.device }])
    for (const a of [alice, bob]) await seed(a)
    const a = (await join(alice, alice.first)).device
    const b = (await join(bob, bob.first)).device
    const chat = 'chat:shared-floor'
    await a.send({
      type: 'membership',
      record: record(chat, 1, 1, [
        [alice, 1],
        [bob, 1]
      ])
    })
    await b.next(ofType('member-of'), 'the record')
    await b.send({ type: 'subscribe', docId: chat, since: 0 })
    await b.next(ofType('caught-up', chat), 'caught-up')

    await sendUpload(a, chat, sealed(1), 1)
    expect((await answer(a, chat, 1)).type).toBe('ack')
    expect((await b.next(f => f.type === 'live' || f.type === 'blob', 'the first blob')).type).toBe('live')

    // Bob revokes his laptop: his account's generation 2. Alice's device has not heard of it.
    await b.send({ type: 'offer-links', links: [startGeneration(bob, 2, [{ type: 'revoke-device', peerId: laptop.peerId }])], last: true })
    await b.next(ofType('links'), 'the links echoed')
    await sendUpload(a, chat, sealed(1), 2)
    expect(await answer(a, chat, 2)).toMatchObject({ type: 'doc-error', code: 'ERR_STALE_EPOCH' })
    // the ones after it wait for it to come back sealed again, whatever their epoch (a doc's uploads land in order)
    await sendUpload(a, chat, sealed(1), 3)
    expect(await answer(a, chat, 3)).toMatchObject({ type: 'doc-error', code: 'ERR_STALE_EPOCH' })

    // a next epoch still sealed to Bob's old generation lifts nothing
    await a.send({
      type: 'membership',
      record: record(chat, 2, 2, [
        [alice, 1],
        [bob, 1]
      ])
    })
    await b.next(ofType('member-of'), 'record 2')
    await sendUpload(a, chat, sealed(2), 2)
    expect(await answer(a, chat, 2)).toMatchObject({ type: 'doc-error', code: 'ERR_STALE_EPOCH' })
    // sealed to his new one, it does: the refused upload comes back in it and lands, then the one after it
    await a.send({
      type: 'membership',
      record: record(chat, 3, 3, [
        [alice, 1],
        [bob, 2]
      ])
    })
    await b.next(ofType('member-of'), 'record 3')
    await sendUpload(a, chat, sealed(2), 2)
    expect(await answer(a, chat, 2)).toMatchObject({ type: 'doc-error', code: 'ERR_STALE_EPOCH' })
    await sendUpload(a, chat, sealed(3), 2)
    expect(await answer(a, chat, 2)).toMatchObject({ type: 'ack', seq: 2 })
    await sendUpload(a, chat, sealed(3), 3)
    expect(await answer(a, chat, 3)).toMatchObject({ type: 'ack', seq: 3 })

    // Bob's subscriber got the two that landed, live, and nothing of what was refused
    const got: Array<Frame<'live'>> = []
    for (let i = 0; i < 2; i++) got.push((await b.next(ofType('live', chat), 'a live blob')) as Frame<'live'>)
    expect(got.map(f => f.blob[1])).toEqual([3, 3])
    await b.send({ type: 'subscribe', docId: chat, since: 3 })
    await b.next(ofType('caught-up', chat), 'caught-up again')
    expect(b.queued('live', 'blob')).toEqual([])
  })
})
