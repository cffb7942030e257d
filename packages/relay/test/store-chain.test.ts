// The device chain on /tandem/store: the relay as its arbiter (compare-and-set on its head),
// links pushed to the account's sessions as the chain grows, revocation closing streams at
// once, memberships signed by listed devices, device activity.
import { encodeChain, headOf, headOfLinks, linkHash, type ChainLink, type ChainState } from '@tandem/protocol'
import { describe, expect, it, vi } from 'vitest'
import type { TestAccount, TestDevice } from '../src/testing/test-chain.js'
import { bytesOf, append, hello, newAccount, ofType, setup, type FakeDevice, type Frame } from './store-helpers.js'

const versions = (f: Frame<'links'>): number[] => f.links.map(l => l.version)
const offer = (device: FakeDevice, ...links: ChainLink[]) => device.send({ type: 'offer-links', links, last: true })

/** The `links` frames up to the one marked last, joined. */
async function linksFrom(device: FakeDevice): Promise<ChainLink[]> {
  const out: ChainLink[] = []
  for (let i = 0; i < 64; i++) {
    const f = (await device.next(ofType('links'), 'a links frame')) as Frame<'links'>
    out.push(...f.links)
    if (f.last) return out
  }
  throw new Error('no last links frame')
}

/** A link that `signer` signs on top of `state` as if it were current there (a revoked device still holding its key). */
function signAsIf(account: TestAccount, signer: TestDevice, state: ChainState): ChainLink {
  const hex = Buffer.from(signer.key.publicKey).toString('hex')
  const pretend = { ...state, head: { ...state.head, revoked: [] }, revoked: new Set<string>(), devices: new Map([...state.devices, [hex, signer.device]]) }
  return account.propose(signer, [{ type: 'rename-device', peerId: signer.peerId, name: 'still here' }], pretend as ChainState)
}

describe('/tandem/store: the device chain', () => {
  it("creates an account's chain from the genesis its first device offers, and then serves that device", async () => {
    const { join, records, service } = await setup()
    const alice = newAccount()
    const { device, welcome } = await join(alice, alice.first)
    expect(welcome.head).toBeNull()
    await device.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await device.expectNext('doc-error', alice.doc)).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED' })
    // a genesis of another account does not found this one
    await offer(device, newAccount().genesis)
    expect(await device.next(ofType('doc-error'))).toMatchObject({ docId: '', code: 'ERR_WRONG_ACCOUNT' })
    expect(await records.chain(alice.id)).toBeNull()

    await offer(device, alice.genesis)
    await device.next(ofType('device-activity'), 'device activity, once open')
    expect(encodeChain((await records.chain(alice.id))!)).toEqual(encodeChain(alice.links))
    expect(await service.isServed(alice.first.peerId)).toBe(true)
    expect((await append(device, alice.doc, bytesOf(10))).seq).toBe(1)
  })

  it('serves a second device once a link the first device signed lists it, and sends each device the links it lacks', async () => {
    const { join, seed, service } = await setup()
    const alice = newAccount()
    await seed(alice)
    const { device: d1 } = await join(alice, alice.first)
    // the new device holds no chain yet: it gets the relay's whole chain after welcome
    const second = alice.device('second')
    const { device: d2, welcome } = await join(alice, second, { head: null })
    expect(welcome.head).toEqual(headOf(alice.state))
    expect(versions((await d2.next(ofType('links'))) as Frame<'links'>)).toEqual([1])
    await d2.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await d2.expectNext('doc-error', alice.doc)).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED' })
    const served = service.whenServed(second.peerId, new AbortController().signal)

    await offer(d1, alice.add(alice.first, second))
    expect(await served).toBe(true)
    const pushed = (await d2.next(ofType('links'))) as Frame<'links'>
    expect(pushed).toMatchObject({ last: true })
    expect(linkHash(pushed.links[0]!)).toEqual(alice.state.headHash)
    await d2.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await d2.expectNext('subscribed', alice.doc)).toMatchObject({ head: 0 })
    // the link comes back to the device that offered it: its confirmation that the relay holds it
    const echoed = (await d1.next(ofType('links'))) as Frame<'links'>
    expect(linkHash(echoed.links.at(-1)!)).toEqual(alice.state.headHash)
    await append(d1, alice.doc, bytesOf(3))
    expect(d1.queued('links', 'doc-error')).toEqual([])

    // a device whose head is behind gets what follows it; one whose head is off the chain gets it all
    const { device: behind } = await join(alice, alice.first, { head: headOfLinks(alice.links.slice(0, 1)) })
    expect(versions((await behind.next(ofType('links'))) as Frame<'links'>)).toEqual([2])
    const stray = alice.propose(alice.first, [{ type: 'rename-device', peerId: second.peerId, name: 'x' }], alice.state)
    const { device: astray } = await join(alice, second, { head: { version: 2, hash: linkHash(stray) } })
    expect((await linksFrom(astray)).map(l => l.version)).toEqual([1, 2])
  })

  it('echoes the links a device offers when its hello named them as its head and the relay held no chain of the account (lost in a crash), to each device that offers them', async () => {
    const { join } = await setup()
    const alice = newAccount()
    const second = alice.device('second')
    alice.add(alice.first, second)
    // both hellos name the head the relay lacks: the relay has nothing to send either of them
    const { device: d1, welcome } = await join(alice, alice.first)
    const { device: d2 } = await join(alice, second)
    expect(welcome.head).toBeNull()
    await offer(d1, ...alice.links)
    expect(versions((await d1.next(ofType('links'))) as Frame<'links'>)).toEqual([1, 2])
    // the second device's offer appends nothing (the first one's did), and is its confirmation all the same
    await offer(d2, ...alice.links)
    const echoed = await linksFrom(d2)
    expect(linkHash(echoed.at(-1)!)).toEqual(alice.state.headHash)
  })

  it('takes exactly one of two successors offered at once; the other device gets ERR_CHAIN_FORK and the chain that won', async () => {
    const { join, seed, records } = await setup()
    const alice = newAccount()
    const second = alice.device('second')
    alice.add(alice.first, second)
    await seed(alice)
    const { device: d1 } = await join(alice, alice.first)
    const { device: d2 } = await join(alice, second)
    const before = alice.state
    const fromFirst = alice.propose(alice.first, [{ type: 'add-device', device: alice.device('third').device }], before)
    const fromSecond = alice.propose(second, [{ type: 'add-device', device: alice.device('fourth').device }], before)
    await Promise.all([offer(d1, fromFirst), offer(d2, fromSecond)])
    await vi.waitFor(async () => expect((await records.chain(alice.id))?.length).toBe(3))
    const stored = (await records.chain(alice.id))!
    const won = linkHash(stored[2]!)
    const [winner, loser] = Buffer.from(won).equals(Buffer.from(linkHash(fromFirst))) ? [d1, d2] : [d2, d1]
    expect(await loser.next(ofType('doc-error'))).toMatchObject({ docId: '', uploadId: 0, code: 'ERR_CHAIN_FORK' })
    const chain = await linksFrom(loser)
    expect(chain.map(l => l.version)).toEqual([1, 2, 3])
    expect(linkHash(chain[2]!)).toEqual(won)
    // the loser stays open (it rebases and offers again); the winner heard of no fork
    await loser.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await loser.expectNext('subscribed', alice.doc)).toMatchObject({ head: 0 })
    expect(winner.queued('doc-error')).toEqual([])
  })

  it('refuses a forged link, a rolled-back one and one signed by a revoked device, each with its typed error and the relay chain', async () => {
    const { join, seed, records } = await setup()
    const alice = newAccount()
    const [second, third] = [alice.device('second'), alice.device('third')]
    const atOne = alice.state
    alice.add(alice.first, second, third)
    alice.revoke(alice.first, second)
    // link 2 again, another one: older than the head
    const rolledBack = alice.propose(alice.first, [{ type: 'add-device', device: third.device }], atOne)
    await seed(alice)
    const { device } = await join(alice, third)
    const cases: Array<[string, ChainLink]> = [
      ['ERR_INVALID_DEVICE_LIST', { ...alice.propose(third, [{ type: 'rename-device', peerId: third.peerId, name: 'forged' }]), signature: new Uint8Array(64) }],
      ['ERR_STALE_DEVICE_LIST', rolledBack],
      ['ERR_REVOKED_SIGNER', signAsIf(alice, second, alice.state)]
    ]
    for (const [code, link] of cases) {
      await offer(device, link)
      expect(await device.next(ofType('doc-error')), code).toMatchObject({ docId: '', code })
      expect((await linksFrom(device)).map(l => l.version)).toEqual([1, 2, 3])
    }
    expect((await records.chain(alice.id))?.length).toBe(3)
    expect(device.closed).toBe(false)
  })

  it("closes a revoked device's open session at once and refuses its next hello", async () => {
    const { join, seed, connect, service } = await setup()
    const alice = newAccount()
    const second = alice.device('second')
    alice.add(alice.first, second)
    await seed(alice)
    const { device: d1 } = await join(alice, alice.first)
    const { device: d2 } = await join(alice, second)
    await d2.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    await d2.next(ofType('caught-up', alice.doc))

    await offer(d1, alice.revoke(alice.first, second))
    const error = await d2.expectRefused('ERR_DEVICE_REVOKED')
    expect(error.message).toContain(second.peerId)
    // the link that revokes it came first: the device learns it from the chain, not from the relay's word
    const revoking = d2.queued('links') as Frame<'links'>[]
    expect(linkHash(revoking.at(-1)!.links.at(-1)!)).toEqual(alice.state.headHash)
    const again = connect(second.peerId)
    await again.send(hello(alice))
    await again.expectRefused('ERR_DEVICE_REVOKED')
    // it was told why by the chain first (the welcome; links when its head lacks them), nothing else
    expect(again.queued('welcome')).toMatchObject([{ head: { version: alice.state.version } }])
    expect(await service.isServed(second.peerId)).toBe(false)
    expect((await append(d1, alice.doc, bytesOf(5))).seq).toBe(1)
  })

  it('refuses a link that would list more devices than the relay allows with ERR_DEVICE_LIMIT', async () => {
    const { join, seed, records } = await setup({}, undefined, undefined, { policy: { maxDevices: 2 } })
    const alice = newAccount()
    alice.add(alice.first, alice.device('second'))
    await seed(alice)
    const { device } = await join(alice, alice.first)
    await offer(device, alice.propose(alice.first, [{ type: 'add-device', device: alice.device('third').device }]))
    expect(await device.next(ofType('doc-error'))).toMatchObject({ code: 'ERR_DEVICE_LIMIT' })
    expect((await linksFrom(device)).map(l => l.version)).toEqual([1, 2])
    expect((await records.chain(alice.id))?.length).toBe(2)
  })

  it('takes a membership only when signed by a device listed in its account chain the relay holds', async () => {
    const { join, seed } = await setup()
    const [alice, bob] = [newAccount(), newAccount()]
    const gone = alice.device('gone')
    alice.add(alice.first, gone)
    alice.revoke(alice.first, gone)
    await seed(alice)
    const { device } = await join(alice, alice.first)
    const chat = 'chat:signed'
    const refusals: Array<[string, ReturnType<TestAccount['membership']>]> = [
      ['ERR_INVALID_MEMBERSHIP', alice.membership(alice.device('never listed'), chat, 1, [alice])],
      ['ERR_INVALID_MEMBERSHIP', alice.membership(gone, chat, 1, [alice])],
      ['ERR_DEVICE_NOT_LISTED', bob.membership(bob.first, chat, 1, [alice, bob])] // the relay holds no chain of bob's account
    ]
    for (const [code, record] of refusals) {
      await device.send({ type: 'membership', record })
      expect(await device.next(ofType('doc-error', chat)), code).toMatchObject({ code })
    }
    await device.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await device.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    await device.send({ type: 'membership', record: alice.membership(alice.first, chat, 1, [alice]) })
    await device.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await device.expectNext('subscribed', chat)).toMatchObject({ head: 0 })
  })

  it('tells the devices of an account when the relay last served each, as they come and go, and keeps it across a restart', async () => {
    let now = 1_000_000
    const { join, seed, service, records } = await setup({}, undefined, undefined, { now: () => now })
    const alice = newAccount()
    const second = alice.device('second')
    alice.add(alice.first, second)
    await seed(alice)
    const { device: d1 } = await join(alice, alice.first)
    const seen = async (d: FakeDevice) => Object.fromEntries(((await d.next(ofType('device-activity'))) as Frame<'device-activity'>).devices.map(x => [x.peerId, x.lastSeenAt]))
    expect(await seen(d1)).toEqual({ [alice.first.peerId]: 1_000_000, [second.peerId]: 0 })
    now = 2_000_000
    const { device: d2 } = await join(alice, second)
    expect(await seen(d1)).toEqual({ [alice.first.peerId]: 1_000_000, [second.peerId]: 2_000_000 })
    expect(await seen(d2)).toEqual({ [alice.first.peerId]: 1_000_000, [second.peerId]: 2_000_000 })
    // frames within the minute move nothing and tell nobody
    await append(d2, alice.doc, bytesOf(4))
    expect(d1.queued('device-activity')).toEqual([])
    now = 3_000_000
    d2.link.close()
    expect(await seen(d1)).toEqual({ [alice.first.peerId]: 1_000_000, [second.peerId]: 3_000_000 })
    await service.stop()
    expect(Object.fromEntries((await records.deviceActivity(alice.id)).map(x => [x.peerId, x.lastSeenAt]))).toEqual({
      [alice.first.peerId]: 1_000_000,
      [second.peerId]: 3_000_000
    })
  })
})
