import { MemoryLevel } from 'memory-level'
import { decodeStoreFrame, segmentDocId } from '@tandem/protocol'
import { createEngine, createMemoryLinkPair, type Engine } from '@tandem/engine'
import type { StoreService } from '@tandem/relay'
import { afterEach, expect, it } from 'vitest'
import { holdingTimers, inProcessRelay } from './relay-helpers.js'
import { linkDevices } from '../helpers/link-devices.js'

// The engine and the store service in one process (in-memory links). A device's place in
// the relay's log (its cursor) is saved lazily: what it costs a device to receive a message.

const RELAY = 'relay'
/** The relay client's CURSOR_SAVE_MS (relay/relay-state-saver.ts). */
const CURSOR_SAVE_MS = 250

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

async function relay(): Promise<StoreService> {
  const { service, stop } = await inProcessRelay()
  stops.push(stop)
  return service
}

/** A device whose cursor-save timers wait for `fire()`, and a count of its saves of a doc's relay state. */
interface Device {
  engine: Engine
  connect: () => void
  stateSaves: (docId: string) => number
  fire: () => void
  /** Notices of entries the relay made durable, for `docId` alone. */
  committed: (docId: string) => number
}

async function device(name: string, service: StoreService): Promise<Device> {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  const saved: string[] = []
  const batch = db.batch.bind(db) as (ops: Array<{ key: string }>, ...rest: unknown[]) => Promise<void>
  ;(db as unknown as { batch: typeof batch }).batch = async (ops, ...rest) => {
    for (const op of ops) saved.push(op.key)
    return await batch(ops, ...rest)
  }
  const { runtime, fire } = holdingTimers(CURSOR_SAVE_MS)
  const engine = await createEngine({ store: db, deviceName: name, network: false, relayIds: [RELAY], runtime })
  await engine.start()
  stops.push(() => engine.stop())
  const committed = new Map<string, number>()
  const connect = (): void => {
    const [d, r] = createMemoryLinkPair(engine.peerId, RELAY)
    const send = r.send.bind(r)
    r.send = async frame => {
      const f = decodeStoreFrame(frame)
      if (f.type === 'notices') committed.set(f.docId, (committed.get(f.docId) ?? 0) + f.entries.filter(n => n.liveId !== 0).length)
      await send(frame)
    }
    engine.addRelayLink(RELAY, d)
    service.addLink(r)
  }
  return {
    engine,
    connect,
    // exact: a chat's own doc and its segments share a prefix, and each has its own cursor
    stateSaves: docId => saved.filter(k => k.endsWith(`/doc/${docId}`)).length,
    fire,
    committed: docId => committed.get(docId) ?? 0
  }
}

function until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const check = (): void => {
      if (predicate()) {
        resolve()
        return
      }
      if (Date.now() > deadline) {
        reject(new Error(`${what}: not reached within ${timeoutMs} ms`))
        return
      }
      setTimeout(check, 5)
    }
    check()
  })
}

it("saves where a device is in the relay's log once per quiet spell, and at stop, not once per message", async () => {
  const service = await relay()
  const a = await device('a', service)
  const b = await device('b', service)
  await a.engine.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.engine.createChat({ title: 'cursor' })
  await linkDevices(a.engine, b.engine)
  a.connect()
  b.connect()
  await until('b sees the chat', () => b.engine.listChats().length === 1)
  // every message below lands in the chat's first segment: its cursor is the one counted
  const log = segmentDocId(chatId, 1)
  await a.engine.sendMessage(chatId, 'first')
  await until('b has the first message', () => b.engine.messageCount(chatId) === 1)
  // b subscribed to the segment when the chat's index named it: the first message may come
  // as backfill, which moves b's cursor as well
  await until('b saved its cursor', () => {
    b.fire()
    return b.stateSaves(log) > 0
  })

  const before = b.stateSaves(log)
  const committedBefore = b.committed(log)
  for (let i = 0; i < 20; i++) {
    await a.engine.sendMessage(chatId, `m${i}`)
    await until(`b has message ${i}`, () => b.engine.messageCount(chatId) === 2 + i)
  }
  await until('every message is durable on the relay', () => b.committed(log) === committedBefore + 20)
  await new Promise(resolve => setImmediate(resolve))
  expect(b.stateSaves(log) - before, "saves of b's cursor while 20 messages came").toBe(0)
  b.fire()
  await until('b saved its cursor once', () => b.stateSaves(log) - before === 1)

  // a device that stops takes its cursor to disk first
  await a.engine.sendMessage(chatId, 'last')
  await until('b has the last message', () => b.engine.messageCount(chatId) === 22)
  await until('the last message is durable on the relay', () => b.committed(log) === committedBefore + 21)
  const beforeStop = b.stateSaves(log)
  await b.engine.stop()
  expect(b.stateSaves(log) - beforeStop).toBe(1)
})
