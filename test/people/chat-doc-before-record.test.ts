import type { Engine, EngineEvent } from '@tandem/engine'
import type { SignedMembership } from '@tandem/protocol'
import { afterEach, expect, it } from 'vitest'
import * as Y from 'yjs'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { inProcessRelay } from '../relay/relay-helpers.js'
import { relayDevice, toInProcessRelay, untilShows } from './people-helpers.js'

// A device may hold a group's chat doc before its account doc names the group: a peer synced the
// doc first. Subscribing to it at a relay, it offered a record of its own, of its account alone
// (version 1, as every device of the account signs for a chat of its own); a relay that held no
// record of the chat yet stored it, and then refused the group's own record, of the same version,
// as stale at every offer: nothing of the group was sealed or sent again, on any device of the
// account, and the other members never got it (simulator seed 20261204 with --people).

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

/** A device's DocHost, where a peer's sync would put a doc (internal). */
const docsOf = (e: Engine): { get(docId: string): Y.Doc | undefined; open(docId: string): Promise<Y.Doc> } =>
  (e as unknown as { docs: { get(docId: string): Y.Doc | undefined; open(docId: string): Promise<Y.Doc> } }).docs

it('a group’s chat doc a device holds before its account doc names the group is not offered as its account’s alone: the group’s record stands at the relay, and every device converges', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const phone = await relayDevice(relay, 'alice-phone', stops)
  const laptop = await relayDevice(relay, 'alice-laptop', stops)
  const bob = await relayDevice(relay, 'bob', stops)
  await phone.createAccount({ name: 'Alice', recovery: false })
  await linkDevices(phone, laptop)
  await bob.createAccount({ name: 'Bob', recovery: false })
  const phoneLink = toInProcessRelay(relay, phone)
  toInProcessRelay(relay, laptop)
  toInProcessRelay(relay, bob)
  for (const d of [phone, laptop, bob]) await untilEngine(d, () => d.relayStatus().every(r => r.connected), `${d.peerId} on the relay`)
  await bob.acceptInvite(phone.createInvite().text)

  // the phone, off the relay (its short sessions still read Bob's chain), makes a group and writes there
  phoneLink.close()
  await untilEngine(phone, () => phone.relayStatus().every(r => !r.connected), 'the phone off the relay')
  const group = await phone.createGroup({ title: 'Trio', members: [bob.accountId!] })
  await phone.sendMessage(group.chatId, 'from the phone')
  const docId = `chat:${group.chatId}`

  // the laptop gets the group's chat doc (as from a peer) before its account doc names the group, and subscribes to it
  const laptopErrors: EngineEvent[] = []
  laptop.subscribe(e => {
    if (e.type === 'error') laptopErrors.push(e)
  })
  const laptopDoc = await docsOf(laptop).open(docId)
  Y.applyUpdate(laptopDoc, Y.encodeStateAsUpdate(docsOf(phone).get(docId)!))
  const relayRecord = (): Promise<SignedMembership | null> => relay.service.access.membership(docId)
  // the relay answers the laptop's subscription: it served the doc under a record of the laptop's (the bug), or refused it
  for (let i = 0; i < 200 && (await relayRecord()) === null && !laptopErrors.some(e => e.type === 'error' && e.error.message.includes(docId)); i++)
    await new Promise(resolve => setTimeout(resolve, 10))
  expect(await relayRecord()).toBeNull()

  // the phone comes back: the relay takes the group's record, and the group reaches every device
  toInProcessRelay(relay, phone)
  await untilShows(bob, group.chatId, ['from the phone'], 'the phone’s message on Bob’s device', 20_000)
  expect((await relayRecord())?.keys?.epoch).toBe(1)
  await untilShows(laptop, group.chatId, ['from the phone'], 'the phone’s message on the laptop', 20_000)
  await laptop.sendMessage(group.chatId, 'from the laptop')
  await bob.sendMessage(group.chatId, 'from Bob')
  const all = ['from the phone', 'from the laptop', 'from Bob']
  for (const [d, name] of [
    [phone, 'the phone'],
    [laptop, 'the laptop'],
    [bob, 'Bob’s device']
  ] as const)
    await untilShows(d, group.chatId, all, `every message on ${name}`, 20_000)
  await untilEngine(phone, () => phone.listMessages(group.chatId).every(m => m.status !== 'pending' && m.status !== 'stored'), 'every message sent, on the phone')
}, 60_000)
