import { createMemoryLinkPair, type Engine } from '@tandem/engine'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { memoryDevice, toRelay, writerOnRelay } from './relay-helpers.js'
import { linkDevices } from '../helpers/link-devices.js'
import { counted } from './counted-link.js'

// A new device gets its history once: from the relay, not again from an online device of
// the account (the engines and the store service in one process, over memory links whose
// bytes are counted).

const N = 3000
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

const device = (name: string): Promise<Engine> => memoryDevice(name, stops)

it('a new device catching up from the relay is not sent the same history by an online device', async () => {
  const { relay, a, chatId } = await writerOnRelay(stops, device)
  for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => a.sendMessage(chatId, `message ${i + j} of a long history`)))
  await untilEngine(a, () => a.relayStatus().every(r => r.pendingUploads === 0) && a.listMessages(chatId).every(m => m.status === 'sent'), 'the history on the relay')

  const b = await device('b')
  await linkDevices(a, b)
  toRelay(relay.service, b)
  const fromA = { bytes: 0 }
  const [atA, atB] = createMemoryLinkPair(a.peerId, b.peerId)
  a.addLink(counted(atA, fromA))
  b.addLink(atB)
  await untilEngine(b, () => b.listChats().some(c => c.chatId === chatId) && b.messageCount(chatId) === N, `all ${N} messages on the new device`)
  const live = await a.sendMessage(chatId, 'written after the join')
  await untilEngine(b, () => b.listMessages(chatId).some(m => m.id === live.id), 'a live message reaches the new device')
  // the history is ~30 B a message compressed, ~60 uncompressed: A may send the live message and its bookkeeping only
  console.log(`bytes from the online device to the new one: ${fromA.bytes} (history of ${N} messages)`)
  expect(fromA.bytes).toBeLessThan(N * 5)
})
