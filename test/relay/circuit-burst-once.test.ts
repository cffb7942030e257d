import { createMemoryLinkPair, type Engine } from '@tandem/engine'
import { decodeSyncFrame, type SyncFrame } from '@tandem/protocol'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { linkDevices } from '../helpers/link-devices.js'
import { counted } from './counted-link.js'
import { IN_PROCESS_RELAY, memoryDevice, toRelay, writerOnRelay } from './relay-helpers.js'

// Two devices of one account, both live at a relay and in session with each other through
// its circuit: a burst that fills new segments goes to the other device once, through the
// relay, and not again down the circuit (the engines and the store service in one process,
// over memory links whose bytes are counted).

const N = 3000
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

const device = (name: string): Promise<Engine> => memoryDevice(name, stops)

it('a burst that opens new segments reaches a device on the same relay through the relay alone, not again down the circuit', async () => {
  const { relay, a, chatId } = await writerOnRelay(stops, device)
  await a.sendMessage(chatId, 'before the other device came')
  const b = await device('b')
  await linkDevices(a, b)
  toRelay(relay.service, b)
  await untilEngine(b, () => b.listChats().some(c => c.chatId === chatId) && b.messageCount(chatId) === 1, 'the chat on the second device')

  const frames: SyncFrame[] = []
  const [atA, atB] = createMemoryLinkPair(a.peerId, b.peerId, { relayedVia: IN_PROCESS_RELAY })
  a.addLink(counted(atA, { bytes: 0 }, bytes => frames.push(decodeSyncFrame(bytes))))
  b.addLink(atB)
  await untilEngine(a, () => a.connectedPeers().includes(b.peerId), 'the session through the circuit')
  frames.length = 0

  // 3,000 messages: segments 1 to 3 fill and 4 opens, each a doc both devices subscribe to
  await Promise.all(Array.from({ length: N }, (_, i) => a.sendMessage(chatId, `message ${i} of a burst`)))
  await untilEngine(b, () => b.messageCount(chatId) === N + 1, `all ${N} messages on the other device`)
  await untilEngine(a, () => a.relayStatus().every(r => r.pendingUploads === 0), 'the burst acked')
  const requests = frames.filter(f => f.type === 'sync-request').map(f => f.docId)
  const sent = frames.filter(f => f.type === 'update' || f.type === 'sync-reply').reduce((n, f) => n + f.chunk.byteLength, 0)
  console.log(`down the circuit during a burst of ${N}: ${frames.length} frames, ${requests.length} sync requests, ${sent} B of updates and replies`)
  // What may go is each new segment's request, once (no doc asked for again), and empty
  // answers: not one message, each ~60 B as a Yjs update (before: 977 B of them here, and in
  // the throughput bench, with the relay busy, the whole burst again in replies)
  expect(new Set(requests).size).toBe(requests.length)
  expect(sent).toBeLessThan(60)
})
