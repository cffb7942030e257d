// A removed account hears of its removal: the record that drops it no longer names it, so the
// relay sends it to the accounts it drops too (`member-of`), at once and at each session after,
// and to no account that was never a member.
import { randomBytes } from 'node:crypto'
import { sealChatKeys, signMembership, type SignedMembership } from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import type { TestAccount } from '../src/testing/test-chain.js'
import { newAccount, ofType, setup, type FakeDevice, type Frame } from './store-helpers.js'

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

/** A chat record carrying keys (format 3: the relay tells member accounts of these), signed by `by`'s first device. */
function keyed(by: TestAccount, docId: string, version: number, members: TestAccount[]): SignedMembership {
  const recipients = members.map(m => ({ account: m.id, generation: 1, accountKey: random(32) }))
  const keys = sealChatKeys(docId, 1, random(32), recipients, [], random)
  return signMembership({ accountId: by.id, key: by.first.key }, { docId, version, members: members.map(m => m.id), issuedAt: 1000 + version, keys })
}

/** The version of the next `member-of` the device gets for `docId`. */
const memberOf = async (device: FakeDevice, docId: string): Promise<number> =>
  ((await device.next(f => f.type === 'member-of' && f.record.docId === docId, `member-of ${docId}`)) as Frame<'member-of'>).record.version

/** A round trip on the device's stream: every frame the relay queued for it before is in its queue after. */
async function roundTrip(device: FakeDevice, docId: string): Promise<void> {
  await device.send({ type: 'subscribe', docId, since: 0 })
  await device.next(ofType('subscribed', docId), `subscribed ${docId}`)
}

describe('/tandem/store: a removed account hears of its removal', () => {
  it('sends the record that drops an account to its open sessions and at each later session, until a record names it again; an account never named gets none', async () => {
    const { join, seed } = await setup()
    const [alice, bob, carol, dan] = [newAccount(), newAccount(), newAccount(), newAccount()]
    for (const a of [alice, bob, carol, dan]) await seed(a)
    const [a, c, d] = [(await join(alice, alice.first)).device, (await join(carol, carol.first)).device, (await join(dan, dan.first)).device]
    const chat = 'chat:removal'

    await a.send({ type: 'membership', record: keyed(alice, chat, 1, [alice, bob, carol]) })
    expect(await memberOf(c, chat)).toBe(1)
    await a.send({ type: 'membership', record: keyed(alice, chat, 2, [alice, bob]) })
    expect(await memberOf(c, chat)).toBe(2)
    // (Alice's next answer comes after the record was stored and told; Dan's round trip after anything queued for him then)
    await roundTrip(a, alice.doc)
    await roundTrip(d, dan.doc)
    expect(d.queued('member-of')).toEqual([])

    // Carol away at the removal would hear it at her next session: so does she at each one
    const again = (await join(carol, carol.first)).device
    expect(await memberOf(again, chat)).toBe(2)
    await again.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await again.next(ofType('doc-error', chat))).toMatchObject({ code: 'ERR_ACCESS_DENIED' })

    // named again: the current record, as for any member, and not the old removal
    await a.send({ type: 'membership', record: keyed(alice, chat, 3, [alice, bob, carol]) })
    expect(await memberOf(again, chat)).toBe(3)
    const back = (await join(carol, carol.first)).device
    expect(await memberOf(back, chat)).toBe(3)
    await roundTrip(back, carol.doc)
    expect(back.queued('member-of').map(f => (f as Frame<'member-of'>).record.version)).toEqual([])
  })
})
