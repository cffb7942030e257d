import { createEngine, createMemoryLinkPair, type Engine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { inProcessRelay } from './relay-helpers.js'

// A message stored while no relay was reachable is reported "sent" once a relay acks it, even
// when the device restarted in between (the engine and the store service in one process).

const RELAY = 'relay'
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

it('messages stored before a restart get their "sent" event when the relay acks them after it', async () => {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const store = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  const open = async (): Promise<Engine> => {
    const e = await createEngine({ store, deviceName: 'a', network: false, relayIds: [RELAY] })
    await e.start()
    return e
  }
  const before = await open()
  await before.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await before.createChat({ title: 'offline' })
  const ids: string[] = []
  for (let i = 0; i < 20; i++) ids.push((await before.sendMessage(chatId, `written with no relay ${i}`)).id)
  await before.stop() // the relay was never reached: all 20 are stored, none sent

  const after = await open()
  stops.push(() => after.stop())
  const sent = new Set<string>()
  after.subscribe(e => {
    if (e.type === 'status' && e.status === 'sent') for (const id of e.messageIds) sent.add(id)
  })
  expect(after.listMessages(chatId).map(m => m.status)).toEqual(Array(20).fill('pending'))
  const [device, service] = createMemoryLinkPair(after.peerId, RELAY)
  after.addRelayLink(RELAY, device)
  relay.service.addLink(service)
  await untilEngine(after, () => ids.every(id => sent.has(id)), 'every message stored before the restart reported sent')
  expect(after.listMessages(chatId).map(m => m.status)).toEqual(Array(20).fill('sent'))
})
