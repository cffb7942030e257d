import { MemoryLevel } from 'memory-level'
import { decodeStoreFrame } from '@tandem/protocol'
import { createEngine, createMemoryLinkPair, type Engine } from '@tandem/engine'
import { HistoryStore, LevelAccessRecords, RelayMetrics, StoreService, createLogger } from '@tandem/relay'
import { afterEach, expect, it } from 'vitest'

// A full segment is compacted by the device that writes past it: the relay keeps one dense
// snapshot of it for every new device, not the bursts it came in. The engine and the store
// service in one process (in-memory links), so the relay's log can be read back once the
// device has settled.

const SEGMENT = 20
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

async function relay() {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 26, accountQuotaBytes: 1 << 30, sync: false })
  const records = await LevelAccessRecords.open(db, { sync: false })
  const service = new StoreService(history, records, new RelayMetrics({ processMetrics: false }), createLogger({ level: 'silent' }))
  stops.push(async () => {
    service.stop()
    await records.close()
    await history.close()
  })
  return { history, service }
}

/** Sends `count` messages one at a time, each once it is sent (one upload each, however loaded the machine is). */
async function sendOneByOne(engine: Engine, chatId: string, from: number, count: number): Promise<void> {
  const sent = new Set<string>()
  let waiting: { id: string; resolve: () => void } | null = null
  const off = engine.subscribe(e => {
    if (e.type !== 'status' || e.status !== 'sent') return
    for (const id of e.messageIds) sent.add(id)
    if (waiting !== null && sent.has(waiting.id)) waiting.resolve()
  })
  try {
    for (let n = from; n < from + count; n++) {
      const { id } = await engine.sendMessage(chatId, `message ${n}`)
      if (sent.has(id)) continue
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`message ${n} not sent within 10 s`)), 10_000)
        waiting = {
          id,
          resolve: () => {
            clearTimeout(timer)
            waiting = null
            resolve()
          }
        }
      })
    }
  } finally {
    off()
  }
}

it('a device that writes past a full segment leaves the relay one snapshot of it covering every entry, and a new device reads every message from it', async () => {
  const { history, service } = await relay()
  const a = await createEngine({
    store: new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: 'a',
    network: false,
    relayIds: ['relay'],
    segments: { segmentMessages: SEGMENT }
  })
  stops.push(() => a.stop())
  await a.start()
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'long' })
  const snapshotsOf = new Map<string, number>()
  const [d, r] = createMemoryLinkPair(a.peerId, 'relay')
  const send = d.send.bind(d)
  d.send = async frame => {
    const f = decodeStoreFrame(frame)
    if (f.type === 'snapshot' && f.final) snapshotsOf.set(f.docId, (snapshotsOf.get(f.docId) ?? 0) + 1)
    await send(frame)
  }
  a.addRelayLink('relay', d)
  service.addLink(r)

  await sendOneByOne(a, chatId, 1, SEGMENT)
  const first = `chat:${chatId}:1`
  expect((await history.meta(first))!.snapshot, 'no snapshot while the segment is written in').toBeNull()
  await sendOneByOne(a, chatId, SEGMENT + 1, 3) // the first message of segment 2 closes segment 1
  const b = await createEngine({ store: new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' }), deviceName: 'b', network: false, relayIds: ['relay'] })
  stops.push(() => b.stop())
  await b.start()
  await b.acceptGrant(await a.addDevice(b.deviceOffer()))
  await a.stop() // (waits, bounded, for its uploads and snapshots to be acknowledged)

  const meta = (await history.meta(first))!
  expect(snapshotsOf.get(first)).toBe(1)
  expect(meta.snapshot?.covers, `segment 1: ${JSON.stringify(meta)}`).toBe(meta.head)
  expect(meta.head).toBeGreaterThanOrEqual(SEGMENT) // (one upload a message)
  expect(snapshotsOf.has(`chat:${chatId}:2`), 'the segment written in now is not compacted').toBe(false)

  // the new device of the account reads the whole history, the full segment from its snapshot
  const [bd, br] = createMemoryLinkPair(b.peerId, 'relay')
  b.addRelayLink('relay', bd)
  service.addLink(br)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the new device did not show all 23 messages within 20 s')), 20_000)
    const check = (): void => {
      let shown = 0
      try {
        shown = b.listMessages(chatId).length
      } catch {
        return // (the chat is not listed yet)
      }
      if (shown < SEGMENT + 3) return
      clearTimeout(timer)
      off()
      resolve()
    }
    const off = b.subscribe(check)
    check()
  })
  expect(b.listMessages(chatId).map(m => m.text)).toEqual(Array.from({ length: SEGMENT + 3 }, (_, i) => `message ${i + 1}`))
}, 60_000)
