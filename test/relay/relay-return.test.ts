import { createEngine, type Engine, type Runtime, systemRuntime } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { Rig } from './relay-helpers.js'

// A relay that comes back is found at once by a device with messages waiting for it, and by
// one that writes a message after it came back.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

/** A phone with an account and a chat, on the relay at `address`; `connected()` follows its relay events. */
async function phoneOnRelay(
  address: string,
  options: { runtime?: Partial<Runtime>; backoff?: { initialMs?: number } }
): Promise<{ device: Engine; chatId: string; connected: () => boolean }> {
  const device = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: 'phone',
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
    network: { listen: [], relays: [address], ...(options.backoff === undefined ? {} : { backoff: options.backoff }) }
  })
  let connected = false
  device.subscribe(e => {
    if (e.type === 'relay') connected = e.connected
  })
  await device.start()
  await device.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await device.createChat({ title: 'away' })
  await untilEngine(device, () => connected, 'connected to the relay', 15_000)
  return { device, chatId, connected: () => connected }
}

it('a device with messages waiting finds its relay within two seconds of its return, however long it was away', async () => {
  const dataDir = await rig.dir('relay')
  let relay = await rig.relay(dataDir)
  const port = /\/tcp\/(\d+)/.exec(relay.address)![1]!
  const { device, chatId, connected } = await phoneOnRelay(relay.address, {})

  await relay.stop()
  await untilEngine(device, () => !connected(), 'the relay is gone', 15_000)
  for (let i = 0; i < 3; i++) await device.sendMessage(chatId, `written while the relay was away ${i}`)
  // away long enough that doubling backoff (250 ms, 0.5 s, 1 s … 8 s) would wait ~8–16 s more
  await new Promise(resolve => setTimeout(resolve, 8_000))

  relay = await rig.relay(dataDir, [`/ip4/127.0.0.1/tcp/${port}`])
  const back = Date.now()
  try {
    await untilEngine(device, () => connected(), 'back on the relay', 10_000)
    expect(Date.now() - back).toBeLessThan(2_000)
    await untilEngine(device, () => device.listMessages(chatId).every(m => m.status === 'sent'), 'the waiting messages sent', 10_000)
  } finally {
    await device.stop()
    await relay.stop()
  }
}, 60_000)

it('a message written while the next redial is seconds away brings the redial forward', async () => {
  const dataDir = await rig.dir('relay')
  let relay = await rig.relay(dataDir)
  const port = /\/tcp\/(\d+)/.exec(relay.address)![1]!
  const { device, chatId, connected } = await phoneOnRelay(relay.address, {
    // the redial jitter (its only one-byte draw) at its top, 1.5×: with nothing to send the
    // redials come 3 s, then 6 s, then 12 s after each failure
    runtime: { randomBytes: n => (n === 1 ? Uint8Array.of(255) : systemRuntime.randomBytes(n)) },
    backoff: { initialMs: 2_000 }
  })
  await device.sendMessage(chatId, 'before the relay went')
  await untilEngine(device, () => device.listMessages(chatId).every(m => m.status === 'sent'), 'the first message sent', 15_000)
  await untilEngine(device, () => device.relayStatus().every(r => r.pendingUploads === 0), 'nothing left to send', 15_000)

  await relay.stop()
  await untilEngine(device, () => !connected(), 'the relay is gone', 15_000)
  const gone = Date.now()
  // past the first redial (3 s): the next comes 6 s after it fails
  await new Promise(resolve => setTimeout(resolve, 3_500))
  relay = await rig.relay(dataDir, [`/ip4/127.0.0.1/tcp/${port}`])
  try {
    const written = Date.now()
    await device.sendMessage(chatId, 'written once the network was back')
    await untilEngine(device, () => connected(), 'back on the relay', 10_000)
    // the backoff alone would redial ~9 s after the loss; with a message waiting it comes within 375 ms
    console.log(`back ${Date.now() - written} ms after the message (${written - gone} ms after the loss)`)
    expect(Date.now() - written).toBeLessThan(2_500)
    await untilEngine(device, () => device.listMessages(chatId).every(m => m.status === 'sent'), 'the message sent', 10_000)
  } finally {
    await device.stop()
    await relay.stop()
  }
}, 60_000)
