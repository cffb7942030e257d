import { createEngine, createMemoryLinkPair, type Engine, type Link } from '@tandem/engine'
import { type BatchLanding, CrashableStore, Disk } from '@tandem/storage/testing'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { inProcessRelay } from './relay-helpers.js'

// A device's upload does not wait for its own disk (latency), so a crash can take a write the
// relay already holds. The relay sends a device its own uploads as echoes, without bytes, so the
// device lacked its own message for good while its other devices showed it (chaos seed
// 194808270). Now a start after a crash subscribes with `resume`, whose backfill brings the
// device's own uploads with their bytes. The engine and the store service run in one process;
// the device's disk is a CrashableStore whose batches the test holds back, then drops.

const RELAY = 'relay'
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

type Relay = Awaited<ReturnType<typeof inProcessRelay>>

async function openDevice(store: CrashableStore): Promise<Engine> {
  const e = await createEngine({ store, deviceName: 'a', network: false, relayIds: [RELAY] })
  return e
}

function connect(engine: Engine, relay: Relay): Link {
  const [device, service] = createMemoryLinkPair(engine.peerId, RELAY)
  engine.addRelayLink(RELAY, device)
  relay.service.addLink(service)
  return device
}

/** Resolves once the relay's log of `docId` reaches past `head`; bounded by `timeoutMs`. */
async function relayHoldsMoreThan(relay: Relay, docId: string, head: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await relay.history.backlog(docId, 0)).head <= head) {
    if (Date.now() > deadline) throw new Error(`the relay's log of ${docId} did not pass seq ${head} within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

it('a device whose crash took a write the relay already held gets it back from the relay, as its own, sent', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const disk = new Disk(new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }))
  // batches land as they are made until the test holds them back; held ones are lost in the crash
  let holding = false
  const landing: BatchLanding = reach => {
    if (!holding) reach()
  }
  const first = new CrashableStore(disk, landing)
  const a = await openDevice(first)
  // (once crashed, its stop never ends: its writes wait for a dead disk; it is stopped without waiting)
  await a.start()
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'kept' })
  const link = connect(a, relay)
  for (let i = 0; i < 3; i++) await a.sendMessage(chatId, `kept ${i}`)
  await untilEngine(a, () => a.listMessages(chatId).length === 3 && a.listMessages(chatId).every(m => m.status === 'sent'), 'the first 3 sent')
  const segment = `chat:${chatId}:1`
  const head = (await relay.history.backlog(segment, 0)).head

  // from now on nothing reaches this device's disk; the message still goes up to the relay
  holding = true
  void a.sendMessage(chatId, 'lost in the crash').catch(() => {})
  await relayHoldsMoreThan(relay, segment, head)
  first.crash()
  link.close()
  void a.stop().catch(() => {})

  const again = await openDevice(new CrashableStore(disk))
  stops.push(() => again.stop())
  await again.start()
  expect(
    again.listMessages(chatId).map(m => m.text),
    'the crash took it from the disk'
  ).toEqual(['kept 0', 'kept 1', 'kept 2'])
  connect(again, relay)
  await untilEngine(again, () => again.listMessages(chatId).some(m => m.text === 'lost in the crash' && m.status === 'sent'), 'the lost write back, sent (its step an event)')
  const shown = again.listMessages(chatId)
  expect(shown.map(m => m.text)).toEqual(['kept 0', 'kept 1', 'kept 2', 'lost in the crash'])
  expect(shown.every(m => m.status === 'sent' && m.author === again.accountId)).toBe(true)
})
