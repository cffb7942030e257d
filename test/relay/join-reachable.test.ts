import { createEngine, type Engine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { Rig } from './relay-helpers.js'

// A relay reserves a circuit slot only for a device it serves, and waits for its hello a while
// (--reservation-hello-wait, 3 s by default); libp2p asks for the slot once per connection,
// right after identify. So a device must not reach its relays before it has an account to say
// hello with: one that dialed them at start (a first screen 60 ms sooner, issue 15) was refused
// its slot and stayed unreachable through the relay. It dials once it joined.

const rig = new Rig()
const engines: Engine[] = []
const relays: RelayProcess[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
  for (const r of relays.splice(0)) await r.stop()
  await rig.cleanup()
})

/** Resolves once `check` holds, checked every 50 ms; rejects after `timeoutMs`. */
async function eventually(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function device(name: string, relay: RelayProcess): Promise<Engine> {
  const engine = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: name,
    network: { listen: [], relays: [relay.multiaddrs[0]!], mdns: false }
  })
  engines.push(engine)
  await engine.start()
  return engine
}

it('a device that joins by grant a while after its start is reachable through its relay’s circuit, and syncs over one connection', async () => {
  const relay = await RelayProcess.start(await rig.dir('relay'), ['--reservation-hello-wait', '1s'])
  relays.push(relay)
  const a = await device('phone', relay)
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'kept' })
  const { id } = await a.sendMessage(chatId, 'before the laptop')
  await untilEngine(a, () => a.listMessages(chatId).find(m => m.id === id)?.status === 'sent', 'the message on the relay', 15_000)

  const b = await device('laptop', relay)
  // longer than the relay waits for a hello: a connection made at start would have been refused its slot
  await new Promise(resolve => setTimeout(resolve, 1_500))
  await b.acceptGrant(await a.addDevice(b.deviceOffer()))
  await untilEngine(b, () => b.listChats().some(c => c.chatId === chatId) && b.listMessages(chatId).some(m => m.text === 'before the laptop'), 'the history on the laptop', 15_000)
  const circuit = `/p2p/${relay.peerId}/p2p-circuit/p2p/${b.peerId}`
  await eventually('the laptop reachable through the relay', () => b.multiaddrs().some(m => m.includes(circuit)), 15_000)
  const health = (await (await fetch(`${relay.httpUrl!}/healthz`)).json()) as { connections: number }
  expect(health.connections).toBe(2)
}, 60_000)
