import { createMemoryLinkPair } from '@tandem/engine'
import { decodeStoreFrame } from '@tandem/protocol'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { counted } from './counted-link.js'
import { IN_PROCESS_RELAY, inProcessRelay, memoryDevice, toRelay } from './relay-helpers.js'

// A relay connection whose welcome names a head this device has not had confirmed yet saves that
// confirmation before it goes on. If it closes meanwhile and a newer connection comes up and makes
// its pass first, the old one must stop there: going on, it took the outbox's connection (a closed
// one) and the connection new docs are subscribed on, and the device's writes stayed unsent until
// the next reconnect. (Writes are held at a gate, so the order is forced, not timed.)

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

/** A memory store whose batches wait while the gate is shut; `waiting` resolves when a batch writing `key` waits there. */
function gatedStore() {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  let open = true
  let release: () => void = () => {}
  let gate = Promise.resolve()
  let noticed: { key: string; resolve: () => void } | null = null
  const batch = db.batch.bind(db) as (ops: unknown, options?: unknown) => Promise<void>
  ;(db as unknown as { batch: typeof batch }).batch = async (ops: unknown, options?: unknown) => {
    if (!open && Array.isArray(ops)) {
      if (noticed !== null && ops.some((o: { key: string }) => String(o.key).includes(noticed!.key))) noticed.resolve()
      await gate
    }
    return batch(ops, options)
  }
  return {
    db,
    shut: () => {
      open = false
      gate = new Promise<void>(resolve => {
        release = resolve
      })
    },
    reopen: () => {
      open = true
      release()
    },
    waiting: (key: string) =>
      new Promise<void>(resolve => {
        noticed = { key, resolve }
      })
  }
}

it('a relay connection that closed while its head was being confirmed leaves the newer connection in charge: the next message is sent', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const a = await memoryDevice('a', stops)
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'chat' })
  toRelay(relay.service, a)
  await a.sendMessage(chatId, 'before')
  await untilEngine(a, () => a.listMessages(chatId).every(m => m.status === 'sent'), 'a on the relay')

  const store = gatedStore()
  const b = await memoryDevice('b', stops, { store: store.db })
  await b.acceptGrant(await a.addDevice(b.deviceOffer()))
  // the first connection: its welcome names a head b has not had confirmed, and the save of that confirmation waits at the gate
  store.shut()
  const confirming = store.waiting('chain')
  const [first, firstRelaySide] = createMemoryLinkPair(b.peerId, IN_PROCESS_RELAY)
  b.addRelayLink(IN_PROCESS_RELAY, first)
  relay.service.addLink(firstRelaySide)
  await confirming
  first.close()
  // the second connection makes its pass while the first still waits (its head is confirmed already: nothing to save)
  const [second, secondRelaySide] = createMemoryLinkPair(b.peerId, IN_PROCESS_RELAY)
  let passed: () => void = () => {}
  const pass = new Promise<void>(resolve => {
    passed = resolve
  })
  b.addRelayLink(
    IN_PROCESS_RELAY,
    counted(second, { bytes: 0 }, bytes => {
      if (decodeStoreFrame(bytes).type === 'subscribe') passed()
    })
  )
  relay.service.addLink(secondRelaySide)
  await pass
  store.reopen()

  const m = await b.sendMessage(chatId, 'after the second connection')
  await untilEngine(b, () => b.listMessages(chatId).find(x => x.id === m.id)?.status === 'sent', 'the message sent over the second connection', 5_000)
  expect(b.relayStatus()).toEqual([{ relay: IN_PROCESS_RELAY, connected: true, pendingUploads: 0 }])
})
