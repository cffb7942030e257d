import { MemoryLevel } from 'memory-level'
import { decodeStoreFrame } from '@tandem/protocol'
import { createEngine, createMemoryLinkPair } from '@tandem/engine'
import { HistoryStore, LevelAccessRecords, RelayMetrics, StoreService, createLogger } from '@tandem/relay'
import { compactionDue } from '@tandem/storage'
import { afterEach, expect, it } from 'vitest'

// The engine and the store service in one process (in-memory links), so the relay's log
// can be read back exactly once a device has settled.

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

/** The relay's advice: what `RelayClient` compacts by (RELAY_SNAPSHOT_LIMITS). */
const LIMITS = { entries: 500, bytes: 4 * 1024 * 1024 }

it('leaves the relay a log that is not due for a snapshot once a device that wrote a long run of uploads has stopped', async () => {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 26, accountQuotaBytes: 1 << 30, sync: false })
  const records = await LevelAccessRecords.open(db, { sync: false })
  const service = new StoreService(history, records, new RelayMetrics({ processMetrics: false }), createLogger({ level: 'silent' }))
  stops.push(async () => {
    service.stop()
    await records.close()
    await history.close()
  })
  const a = await createEngine({ store: new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' }), deviceName: 'a', network: false, relayIds: ['relay'] })
  await a.start()
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'long' })
  // the device's first snapshot stays on its way until every message is acknowledged: its
  // frames are held back on the link (later appends overtake it), so every later ack still
  // advises a snapshot while one is in flight
  let holding = true
  const heldFrames: Uint8Array[] = []
  let snapshots = 0
  const [d, r] = createMemoryLinkPair(a.peerId, 'relay')
  const send = d.send.bind(d)
  d.send = async frame => {
    const f = decodeStoreFrame(frame)
    if (f.type === 'snapshot' && f.final) snapshots++
    if (f.type === 'snapshot' && holding) {
      heldFrames.push(frame)
      return
    }
    await send(frame)
  }
  const release = async (): Promise<void> => {
    holding = false
    for (const f of heldFrames.splice(0)) await send(f)
  }
  a.addRelayLink('relay', d)
  service.addLink(r)

  // one message per upload (each waits for its "sent"), so the log's length does not depend on
  // how the machine's load batches a burst: the relay advises a snapshot once it holds 500 entries
  const COUNT = 1_200
  const text = 'a message of about the length people type, give or take a few words here and there'
  const sentIds = new Set<string>()
  let waiting: { id: string; resolve: () => void } | null = null
  a.subscribe(e => {
    if (e.type !== 'status') return
    for (const id of e.messageIds) sentIds.add(id)
    if (waiting !== null && sentIds.has(waiting.id)) waiting.resolve()
  })
  for (let n = 1; n <= COUNT; n++) {
    const { id } = await a.sendMessage(chatId, `${n} ${text}`)
    if (!sentIds.has(id))
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`message ${n} of ${COUNT} not sent within 10 s`)), 10_000)
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
  // every upload acknowledged: from here on the relay sends no ack but the held snapshot's
  expect(snapshots).toBe(1)
  await release()
  await a.stop() // waits (bounded) for its uploads and snapshots to be acknowledged

  const meta = (await history.meta(`chat:${chatId}:1`))! // (the first segment: 1,000 of the messages)
  const tail = { entries: meta.entries, bytes: meta.cum - (meta.snapshot?.cumAtCovers ?? 0), snapshotBytes: meta.snapshot?.size ?? 0 }
  expect(meta.snapshot, 'a snapshot was stored').not.toBeNull()
  expect(meta.head).toBeGreaterThanOrEqual(2 * LIMITS.entries) // (a segment holds 1,000 messages: one upload each)
  expect(compactionDue(tail, LIMITS), `log after the snapshot: ${JSON.stringify(tail)} (head ${meta.head})`).toBe(false)
}, 60_000)
