import { createEngine, createMemoryLinkPair, type Engine, type Message } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { inProcessRelay } from './relay-helpers.js'

// A device whose store is damaged shows none of the damaged data, says what was damaged, and
// gets back whole from the relay what the relay holds — its own uploads included, which a
// normal subscription sends only as echoes (the engine and the store service in one process).

const RELAY = 'relay'
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

type Store = MemoryLevel<string, Uint8Array>

const newStore = (): Store => new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })

async function openDevice(store: Store): Promise<Engine> {
  const e = await createEngine({ store, deviceName: 'a', network: false, relayIds: [RELAY] })
  stops.push(() => e.stop())
  return e
}

function connect(engine: Engine, relay: Awaited<ReturnType<typeof inProcessRelay>>): void {
  const [device, service] = createMemoryLinkPair(engine.peerId, RELAY)
  engine.addRelayLink(RELAY, device)
  relay.service.addLink(service)
}

/** Flips one bit in the middle of every stored value whose key starts with `prefix`; returns those keys. */
async function flipBitIn(store: Store, prefix: string): Promise<string[]> {
  await store.open()
  const hit: string[] = []
  for await (const [key, value] of store.iterator({ gte: prefix, lt: `${prefix}~` })) {
    const damaged = value.slice()
    damaged[damaged.length >> 1]! ^= 0x10
    await store.put(key, damaged)
    hit.push(key)
  }
  await store.close()
  return hit
}

const shown = (m: Message): string => `${m.id} ${m.text}`

/** A device with 40 messages in one chat (its first segment, `chat:<id>:1`), all acked by the relay; returns what it showed. */
async function historyOnRelay(store: Store, relay: Awaited<ReturnType<typeof inProcessRelay>>) {
  const a = await openDevice(store)
  await a.start()
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'kept' })
  connect(a, relay)
  for (let i = 0; i < 40; i++) await a.sendMessage(chatId, `message ${i}`)
  await untilEngine(a, () => a.listMessages(chatId).every(m => m.status === 'sent'), 'all 40 sent')
  const before = a.listMessages(chatId).map(shown)
  await a.stop()
  return { chatId, before }
}

it('a damaged record is never shown, is reported, and comes back whole from the relay — own messages included', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const store = newStore()
  const { chatId, before } = await historyOnRelay(store, relay)
  const damaged = await flipBitIn(store, `log!chat:${chatId}:1!`)
  expect(damaged.length).toBeGreaterThan(0)

  const a = await openDevice(store)
  const report = a.storeDamage()
  expect(report.found.map(r => r.key).sort()).toEqual(damaged.sort())
  expect(report.found.every(r => r.docId === `chat:${chatId}:1` && /checksum/.test(r.problem))).toBe(true)
  expect(report.repairing).toEqual([`chat:${chatId}:1`])
  const shownNow = a.listMessages(chatId).map(shown)
  expect(shownNow.length).toBeLessThan(before.length) // the damaged entries' messages are missing…
  for (const m of shownNow) expect(before).toContain(m) // …and nothing shown differs from what was written

  const repaired: string[] = []
  a.subscribe(e => {
    if (e.type === 'repaired') repaired.push(e.docId)
  })
  await a.start()
  connect(a, relay)
  await untilEngine(a, () => repaired.includes(`chat:${chatId}:1`), 'the chat refetched from the relay')
  expect(a.listMessages(chatId).map(shown)).toEqual(before)
  expect(a.listMessages(chatId).every(m => m.status === 'sent')).toBe(true)
  expect(a.storeDamage().repairing).toEqual([])
  await a.stop()

  const again = await openDevice(store)
  expect(again.storeDamage()).toEqual({ found: [], repairing: [] })
  expect(again.listMessages(chatId).map(shown)).toEqual(before)
})

it('a repair not yet done survives a restart, and is done once the relay is reached', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const store = newStore()
  const { chatId, before } = await historyOnRelay(store, relay)
  await flipBitIn(store, `log!chat:${chatId}:1!`)

  const first = await openDevice(store)
  expect(first.storeDamage().repairing).toEqual([`chat:${chatId}:1`])
  await first.stop() // no relay reached: the damaged records are gone, the mark stays

  const second = await openDevice(store)
  expect(second.storeDamage()).toEqual({ found: [], repairing: [`chat:${chatId}:1`] })
  await second.start()
  connect(second, relay)
  await untilEngine(second, () => second.storeDamage().repairing.length === 0, 'the repair done after the restart')
  expect(second.listMessages(chatId).map(shown)).toEqual(before)
})

it('damaged relay metadata makes the device fetch every doc again and upload what the relay lacks', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const store = newStore()
  const { chatId, before } = await historyOnRelay(store, relay)
  const damaged = await flipBitIn(store, 'meta!relay/')
  expect(damaged.length).toBeGreaterThan(0)

  const a = await openDevice(store)
  expect(
    a
      .storeDamage()
      .found.map(r => r.key)
      .sort()
  ).toEqual(damaged.sort())
  expect(a.storeDamage().repairing).toContain(`chat:${chatId}:1`)
  await a.start()
  connect(a, relay)
  const more = await a.sendMessage(chatId, 'after the damage')
  await untilEngine(a, () => a.storeDamage().repairing.length === 0 && a.listMessages(chatId).every(m => m.status === 'sent'), 'repaired and every message sent')
  expect(a.listMessages(chatId).map(shown)).toEqual([...before, shown(more)])
})
