import { MemoryLevel } from 'memory-level'
import { decodeSyncFrame } from '@tandem/protocol'
import { createEngine, createMemoryLinkPair, type Engine, type Link } from '@tandem/engine'
import { HistoryStore, LevelAccessRecords, RelayMetrics, StoreService, createLogger } from '@tandem/relay'
import { afterEach, describe, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { linkDevices } from '../helpers/link-devices.js'

// The real engine and the real store service in one process, over in-memory links: what
// travels on each path can be counted frame by frame.

const RELAY = 'relay'
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

async function relay(): Promise<{ service: StoreService; metrics: RelayMetrics; hold: () => () => void }> {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  // hold(): nothing the relay writes becomes durable until the returned release() is called
  let held: Promise<void> = Promise.resolve()
  const batch = db.batch.bind(db) as (...args: unknown[]) => Promise<void>
  ;(db as unknown as { batch: (...args: unknown[]) => Promise<void> }).batch = async (...args) => {
    await held
    return await batch(...args)
  }
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 24, accountQuotaBytes: 1 << 28, sync: false })
  const metrics = new RelayMetrics({ processMetrics: false })
  const records = await LevelAccessRecords.open(db, { sync: false })
  const service = new StoreService(history, records, metrics, createLogger({ level: 'silent' }))
  stops.push(async () => {
    service.stop()
    await records.close()
    await history.close()
  })
  const hold = (): (() => void) => {
    let release!: () => void
    held = new Promise(resolve => {
      release = resolve
    })
    return () => {
      held = Promise.resolve()
      release()
    }
  }
  return { service, metrics, hold }
}

async function device(name: string): Promise<Engine> {
  const e = await createEngine({ store: new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' }), deviceName: name, network: false, relayIds: [RELAY] })
  await e.start()
  stops.push(() => e.stop())
  return e
}

function toRelay(e: Engine, service: StoreService): { cut: () => void } {
  const [d, r] = createMemoryLinkPair(e.peerId, RELAY)
  e.addRelayLink(RELAY, d)
  service.addLink(r)
  return {
    cut: () => {
      d.close()
      r.close()
    }
  }
}

/**
 * A sync link between two devices (through the relay's circuit, or direct). Counts the
 * frames from a to b that carry content of `docId` (the chat a writes to; what a forwards
 * of the account doc while b is still catching up from the relay is not a's own write), and resolves `listed` once each side has
 * told the other (a `peers` frame, delivered) that it has the relay's store stream.
 */
function between(a: Engine, b: Engine, docId: string, relayedVia?: string): { aToB: () => number; listed: Promise<void> } {
  const [ab, ba] = createMemoryLinkPair(a.peerId, b.peerId, { relayedVia })
  let aToB = 0
  const told = new Set<Link>()
  let done!: () => void
  const listed = new Promise<void>(resolve => {
    done = resolve
  })
  for (const link of [ab, ba]) {
    const send = link.send.bind(link)
    link.send = async frame => {
      const f = decodeSyncFrame(frame)
      if (link === ab && (f.type === 'update' || f.type === 'sync-reply') && f.docId === docId) aToB++
      await send(frame)
      if (f.type === 'peers' && f.peerIds.includes(RELAY)) {
        told.add(link)
        if (told.size === 2) queueMicrotask(done) // memory links deliver a microtask later
      }
    }
  }
  a.addLink(ab)
  b.addLink(ba)
  return { aToB: () => aToB, listed }
}

async function twoDevices(relayedVia: string | undefined) {
  const r = await relay()
  const [a, b] = [await device('a'), await device('b')]
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'live' })
  await linkDevices(a, b)
  let aCaughtUp = false
  let bCaughtUp = false
  a.subscribe(e => {
    if (e.type === 'progress') aCaughtUp = e.caughtUp
  })
  b.subscribe(e => {
    if (e.type === 'progress') bCaughtUp = e.caughtUp
  })
  const links = { a: toRelay(a, r.service), b: toRelay(b, r.service) }
  const path = between(a, b, `chat:${chatId}:1`, relayedVia) // (the messages are in the chat's first segment)
  await untilEngine(b, () => b.listChats().length === 1, 'b sees the chat')
  await a.sendMessage(chatId, 'first')
  await untilEngine(b, () => b.messageCount(chatId) === 1, 'b has the first message')
  // the relay acknowledged it: a's subscription to the chat's segment, sent before the upload, was answered, so the
  // relay carries a's writes there (until then a also sends them on the circuit; a warm process got there first)
  await untilEngine(a, () => a.listMessages(chatId)[0]?.status === 'sent', "the relay has a's first message")
  // settled: both are live on the relay (b asks a for the docs only then: RelayFirst), and both know the other is
  await untilEngine(a, () => aCaughtUp, 'a caught up with the relay')
  await untilEngine(b, () => bCaughtUp, 'b caught up with the relay')
  await Promise.race([
    path.listed,
    new Promise((_resolve, reject) =>
      setTimeout(() => {
        reject(new Error('no peers frames naming the relay'))
      }, 10_000)
    )
  ])
  return { ...r, a, b, chatId, links, path }
}

describe('one live path per pair of devices', () => {
  it("devices on a relay's circuit leave their own writes to the relay, which passes them on before they are durable", async () => {
    const { a, b, chatId, path, metrics, hold } = await twoDevices(RELAY)
    const before = path.aToB()
    const live = Number((await metrics.registry.getSingleMetric('tandem_relay_live_bytes_total')!.get()).values[0]?.value ?? 0)
    for (let i = 0; i < 20; i++) await a.sendMessage(chatId, `m${i}`)
    await untilEngine(b, () => b.messageCount(chatId) === 21, 'b has every message')
    expect(path.aToB() - before, 'frames with content a sent on the circuit').toBe(0)
    expect(Number((await metrics.registry.getSingleMetric('tandem_relay_live_bytes_total')!.get()).values[0]?.value)).toBeGreaterThan(live)

    // the relay's disk is stuck: b still gets the message at once, and a's stays "stored"
    const release = hold()
    const m = await a.sendMessage(chatId, 'while the relay cannot write')
    await untilEngine(b, () => b.messageCount(chatId) === 22, 'b has the message the relay has not stored')
    expect(a.listMessages(chatId).find(x => x.id === m.id)?.status).toBe('pending')
    release()
    await untilEngine(a, () => a.listMessages(chatId).find(x => x.id === m.id)?.status === 'sent', 'a sees it sent')
  })

  it('on a direct (LAN) link, devices still send their writes to each other', async () => {
    const { a, b, chatId, path } = await twoDevices(undefined) // (their peers frames name the relay too)
    const before = path.aToB()
    for (let i = 0; i < 20; i++) await a.sendMessage(chatId, `m${i}`)
    await untilEngine(b, () => b.messageCount(chatId) === 21, 'b has every message')
    expect(path.aToB() - before).toBeGreaterThan(0)
  })

  it("falls back to the circuit when a device loses the relay's store stream, and resyncs what it missed", async () => {
    const { a, b, chatId, path, links } = await twoDevices(RELAY)
    const before = path.aToB()
    links.b.cut()
    await untilEngine(b, () => !b.relayStatus()[0]!.connected, 'b has lost the relay')
    for (let i = 0; i < 5; i++) await a.sendMessage(chatId, `m${i}`)
    await untilEngine(b, () => b.messageCount(chatId) === 6, 'b has every message without the relay')
    expect(path.aToB() - before).toBeGreaterThan(0)
  })
})
