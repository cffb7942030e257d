import type { Engine } from '@tandem/engine'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { memoryDevice, toRelay, writerOnRelay } from './relay-helpers.js'

// A full segment is compacted by the device that writes past it: the relay keeps one dense
// snapshot of it for every new device, not the bursts it came in. The engine and the store
// service in one process (in-memory links), so the relay's log can be read back once the
// device has settled.

const SEGMENT = 20
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

/** Sends `count` messages one at a time, each once the one before is sent (one upload each, however loaded the machine is). */
async function sendOneByOne(engine: Engine, chatId: string, from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n++) {
    const { id } = await engine.sendMessage(chatId, `message ${n}`)
    await untilEngine(engine, () => engine.listMessages(chatId, { limit: 5 }).some(m => m.id === id && m.status === 'sent'), `message ${n} sent`)
  }
}

it('a device that writes past a full segment leaves the relay one snapshot of it covering every entry, and a new device reads every message from it', async () => {
  const { relay, a, chatId } = await writerOnRelay(stops, name => memoryDevice(name, stops, { segments: { segmentMessages: SEGMENT } }))
  const [first, second] = [`chat:${chatId}:1`, `chat:${chatId}:2`]
  await sendOneByOne(a, chatId, 1, SEGMENT)
  expect((await relay.history.meta(first))!.snapshot, 'no snapshot while the segment is written in').toBeNull()
  await sendOneByOne(a, chatId, SEGMENT + 1, 3) // the first message of segment 2 closes segment 1
  const b = await memoryDevice('b', stops)
  await b.acceptGrant(await a.addDevice(b.deviceOffer()))
  await a.stop() // (waits, bounded, for its uploads and snapshots to be acknowledged)

  const meta = (await relay.history.meta(first))!
  expect(meta.head).toBeGreaterThanOrEqual(SEGMENT) // (one upload a message)
  expect(meta.snapshot?.covers, `segment 1: ${JSON.stringify(meta)}`).toBe(meta.head)
  expect((await relay.history.meta(second))!.snapshot, 'the segment written in now is not compacted').toBeNull()

  // the new device of the account reads the whole history, the full segment from its snapshot
  toRelay(relay.service, b)
  await untilEngine(b, () => b.listChats().some(c => c.chatId === chatId) && b.listMessages(chatId).length === SEGMENT + 3, 'the new device shows all 23 messages')
  expect(b.listMessages(chatId).map(m => m.text)).toEqual(Array.from({ length: SEGMENT + 3 }, (_, i) => `message ${i + 1}`))
}, 60_000)
