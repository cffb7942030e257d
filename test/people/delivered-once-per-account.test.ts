import { ReceiptBook } from '@tandem/engine/internal'
import { afterEach, expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { holdingTimers, inProcessRelay } from '../relay/relay-helpers.js'
import { relayDevice, toInProcessRelay, untilShows } from './people-helpers.js'

// An account's delivered watermark is raised by its first device (the listed one with the
// lowest peer id) at once, and by another only when the first has not done it within a grace
// period: every device writing its own mark was a write per device and message, each sent to
// every device of every member (in a group of 50 accounts of two devices, 98 writes a message).

/** The engine's DELIVER_GRACE_MS (receipts/receipt-service.ts). */
const DELIVER_GRACE_MS = 2_500

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

it("an account's delivered mark is written by its first device, and by another only once the first has been away for the grace period", async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  // Bob's devices wait for the grace only when the test says so: their timers of DELIVER_GRACE_MS are held
  const graceA = holdingTimers(DELIVER_GRACE_MS)
  const graceB = holdingTimers(DELIVER_GRACE_MS)
  const alice = await relayDevice(relay, 'alice', stops)
  const bobA = await relayDevice(relay, 'bob-a', stops, { runtime: graceA.runtime })
  const bobB = await relayDevice(relay, 'bob-b', stops, { runtime: graceB.runtime })
  await alice.createAccount({ name: 'Alice', recovery: false })
  await bobA.createAccount({ name: 'Bob', recovery: false })
  await linkDevices(bobA, bobB)
  for (const d of [alice, bobA, bobB]) toInProcessRelay(relay, d)
  for (const d of [alice, bobA, bobB]) await untilEngine(d, () => d.relayStatus().every(r => r.connected), `${d.peerId} on the relay`)
  const [first, other] = bobA.peerId < bobB.peerId ? [bobA, bobB] : [bobB, bobA]
  const otherGrace = other === bobA ? graceA : graceB

  // who raises a delivered mark, counted where every device of this process raises it
  const raisedBy = new Map<string, number>()
  const raise = ReceiptBook.prototype.raise
  ReceiptBook.prototype.raise = function (this: ReceiptBook, kind, account, device, to) {
    if (kind === 'delivered') raisedBy.set(device, (raisedBy.get(device) ?? 0) + 1)
    return raise.call(this, kind, account, device, to)
  }
  stops.push(async () => {
    ReceiptBook.prototype.raise = raise
  })

  const { chatId } = await bobA.acceptInvite(alice.createInvite().text)
  for (const d of [alice, bobA, bobB]) await untilEngine(d, () => d.listChats().some(c => c.chatId === chatId), `the chat on ${d.peerId}`)
  for (let i = 0; i < 3; i++) {
    const m = await alice.sendMessage(chatId, `hello Bob ${i}`)
    for (const d of [first, other]) await untilShows(d, chatId, [`hello Bob ${i}`], `message ${i} on ${d === first ? 'the first' : 'the other'} device of Bob`)
    await untilEngine(alice, () => alice.listMessages(chatId).find(x => x.id === m.id)?.status === 'delivered', `message ${i} delivered`)
  }
  expect(raisedBy.get(first.peerId)).toBeGreaterThan(0)
  expect(raisedBy.get(other.peerId) ?? 0).toBe(0)
  // the grace over, the other device finds the account's mark past what it holds: nothing to write
  otherGrace.fire()
  expect(raisedBy.get(other.peerId) ?? 0).toBe(0)

  // the first device away: the other one's mark comes once the grace is over
  await first.stop()
  const late = await alice.sendMessage(chatId, 'while the first device is off')
  await untilShows(other, chatId, ['while the first device is off'], 'the message on the other device')
  await new Promise(resolve => setTimeout(resolve, 50)) // (its burst ends: the grace timer is set)
  expect(alice.listMessages(chatId).find(x => x.id === late.id)?.status).toBe('sent')
  otherGrace.fire()
  await untilEngine(alice, () => alice.listMessages(chatId).find(x => x.id === late.id)?.status === 'delivered', 'delivered by the other device')
  expect(raisedBy.get(other.peerId)).toBe(1)
})
