import type { EngineEvent } from '@tandem/engine'
import { afterEach, expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { holdingTimers, inProcessRelay } from '../relay/relay-helpers.js'
import { relayDevice, toInProcessRelay, untilShows } from './people-helpers.js'

// A delivered tick shows on every device of the message's author, the one that did not send
// it too. There the message's `sent` step comes from the relay's notice that it holds it, and a
// receipt waits for that step (pending → sent → delivered, in order). The device saves the
// relay's notices lazily (CURSOR_SAVE_MS), and "sent" is told only once saved: the tick came
// 300 ms after the receipt (bench `people`, p50 303 ms against a target of 50 ms at p99).

/** The engine's CURSOR_SAVE_MS (relay/relay-state-saver.ts). */
const CURSOR_SAVE_MS = 250

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

it("a delivered tick reaches the author's other device without waiting for its lazy save of where it is in the relay's log", async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  // the laptop's lazy saves never come by themselves: its timers of CURSOR_SAVE_MS are held
  const { runtime } = holdingTimers(CURSOR_SAVE_MS)
  const phone = await relayDevice(relay, 'alice-phone', stops)
  const laptop = await relayDevice(relay, 'alice-laptop', stops, { runtime })
  const bob = await relayDevice(relay, 'bob', stops)
  await phone.createAccount({ name: 'Alice', recovery: false })
  await linkDevices(phone, laptop)
  await bob.createAccount({ name: 'Bob', recovery: false })
  for (const d of [phone, laptop, bob]) toInProcessRelay(relay, d)
  for (const d of [phone, laptop, bob]) await untilEngine(d, () => d.relayStatus().every(r => r.connected), `${d.peerId} on the relay`)
  const { chatId } = await bob.acceptInvite(phone.createInvite().text)
  await bob.sendMessage(chatId, 'hello Alice')
  for (const d of [phone, laptop]) await untilShows(d, chatId, ['hello Alice'], "Bob's hello on Alice's devices")

  const seen: EngineEvent[] = []
  laptop.subscribe(e => {
    seen.push(e)
  })
  for (let i = 0; i < 3; i++) {
    const m = await phone.sendMessage(chatId, `from the phone ${i}`)
    await untilShows(bob, chatId, [`from the phone ${i}`], "the phone's message on Bob's device")
    const steps = (): string[] => seen.flatMap(e => (e.type === 'status' && e.messageIds.includes(m.id) ? [e.status] : []))
    await untilEngine(laptop, () => steps().includes('delivered'), `message ${i} delivered on the laptop, its lazy saves held`)
    expect(steps().slice(0, 2)).toEqual(['sent', 'delivered'])
    expect(laptop.listMessages(chatId).find(x => x.id === m.id)?.status).toBe('delivered')
  }
})
