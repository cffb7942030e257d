import { createMemoryLinkPair, type Engine, type EngineEvent, type Link } from '@tandem/engine'
import { afterEach, expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { inProcessRelay } from '../relay/relay-helpers.js'
import { relayDevice, toInProcessRelay, untilShows } from './people-helpers.js'

// A watermark covers a position in display order, not the messages its account holds. A
// message written offline is stamped when it is written, so it can land below a watermark
// another account raised meanwhile without ever having it. "Sent" means durable on a relay:
// such a message must stay pending until a relay acks it (the simulator's seeds 20261140 and
// 20261142: it showed sent and delivered, its device was revoked before it uploaded it, and
// the message was gone for good while reported sent).

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

it('a message written offline below a watermark another account raised meanwhile stays pending until a relay acks it, then shows sent, then delivered', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const device = (name: string, skewMs = 0): Promise<Engine> =>
    // (a clock ahead like the simulator's skews: what the laptop writes sorts after what the phone writes meanwhile)
    relayDevice(relay, name, stops, skewMs === 0 ? {} : { runtime: { now: () => Date.now() + skewMs } })
  const toRelay = (e: Engine): Link => toInProcessRelay(relay, e)
  const phone = await device('alice-phone')
  const laptop = await device('alice-laptop', 5_000)
  const bob = await device('bob')
  await phone.createAccount({ name: 'Alice', recovery: false })
  await linkDevices(phone, laptop)
  await bob.createAccount({ name: 'Bob', recovery: false })
  const phoneLink = toRelay(phone)
  toRelay(laptop)
  toRelay(bob)
  for (const d of [phone, laptop, bob]) await untilEngine(d, () => d.relayStatus().every(r => r.connected), `${d.peerId} on the relay`)
  const { chatId } = await bob.acceptInvite(phone.createInvite().text)
  await bob.sendMessage(chatId, 'hello')
  for (const d of [phone, laptop]) await untilShows(d, chatId, ['hello'], "Bob's hello on Alice's devices")

  // the phone loses the relay and writes; the laptop writes later (a later position) and Bob gets that
  phoneLink.close()
  await untilEngine(phone, () => phone.relayStatus().every(r => !r.connected), 'the phone off the relay')
  const phoneEvents: EngineEvent[] = []
  phone.subscribe(e => {
    phoneEvents.push(e)
  })
  const offline = await phone.sendMessage(chatId, 'written offline')
  const later = await laptop.sendMessage(chatId, 'later')
  await untilEngine(laptop, () => laptop.listMessages(chatId).find(m => m.id === later.id)?.status === 'delivered', "'later' delivered to Bob")

  // the phone meets the laptop (no relay): it gets Bob's watermark, past its own message, but Bob never got that message
  const [a, b] = createMemoryLinkPair(phone.peerId, laptop.peerId)
  phone.addLink(a)
  laptop.addLink(b)
  const shown = () => phone.listMessages(chatId).find(m => m.id === offline.id)!
  await untilEngine(phone, () => shown().receipts.some(r => r.account === bob.accountId && r.status === 'delivered'), "Bob's watermark over it on the phone")
  const steps = () => phoneEvents.filter(e => e.type === 'status' && e.messageIds.includes(offline.id)).map(e => (e.type === 'status' ? e.status : ''))
  expect(shown().status).toBe('pending')
  expect(steps()).toEqual([])

  // back on the relay: the relay acks it, and only then it is sent, and then delivered
  toRelay(phone)
  await untilEngine(phone, () => steps().includes('delivered'), 'the delivered step on the phone')
  expect(steps()).toEqual(['sent', 'delivered'])
  expect(shown().status).toBe('delivered')
}, 60_000)
