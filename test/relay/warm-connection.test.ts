import { createEngine, type Engine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import type { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { Rig } from './relay-helpers.js'

// Issue 15, the first screen: a new device's connection to its relay is up before it holds an
// account (it is about to be linked, or to create one, through that relay), so joining costs
// no TCP, Noise, yamux and identify after the grant (56–65 ms of a new device's first screen).

const rig = new Rig()
const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
  await rig.cleanup()
})

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

const connections = async (relay: RelayProcess): Promise<number> => ((await (await fetch(`${relay.httpUrl!}/healthz`)).json()) as { connections: number }).connections

/** Resolves once the relay counts `n` connections (checked every 50 ms); rejects after `timeoutMs`. */
async function untilConnections(relay: RelayProcess, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const now = await connections(relay)
    if (now === n) return
    if (Date.now() > deadline) throw new Error(`the relay counts ${now} connections, not ${n}, after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

it('a device without an account is connected to its relay from its start, and the account it joins syncs over that connection', async () => {
  const relay = await rig.relay()
  const a = await device('phone', relay)
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'kept' })
  const { id } = await a.sendMessage(chatId, 'before the laptop')
  await untilEngine(a, () => a.listMessages(chatId).find(m => m.id === id)?.status === 'sent', 'the message on the relay', 15_000)
  await untilConnections(relay, 1, 10_000)

  const b = await device('laptop', relay)
  // no account yet, no store session: the connection alone
  expect(b.accountInfo).toBeNull()
  await untilConnections(relay, 2, 10_000)

  await b.acceptGrant(await a.addDevice(b.deviceOffer()))
  await untilEngine(b, () => b.listChats().some(c => c.chatId === chatId) && b.listMessages(chatId).some(m => m.text === 'before the laptop'), 'the history on the laptop', 15_000)
  // the store session went over the connection made at start: no second one was dialed
  expect(await connections(relay)).toBe(2)
}, 60_000)
