import { createEngine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { Rig } from './relay-helpers.js'

// A relay that comes back is found at once by a device with messages waiting for it.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

it('a device with messages waiting finds its relay within two seconds of its return, however long it was away', async () => {
  const dataDir = await rig.dir('relay')
  let relay = await RelayProcess.start(dataDir)
  const port = /\/tcp\/(\d+)/.exec(relay.address)![1]!
  const device = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: 'phone',
    network: { listen: [], relays: [relay.address] }
  })
  let connected = false
  device.subscribe(e => {
    if (e.type === 'relay') connected = e.connected
  })
  await device.start()
  await device.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await device.createChat({ title: 'away' })
  await untilEngine(device, () => connected, 'connected to the relay', 15_000)

  await relay.stop()
  await untilEngine(device, () => !connected, 'the relay is gone', 15_000)
  for (let i = 0; i < 3; i++) await device.sendMessage(chatId, `written while the relay was away ${i}`)
  // away long enough that doubling backoff (250 ms, 0.5 s, 1 s … 8 s) would wait ~8–16 s more
  await new Promise(resolve => setTimeout(resolve, 8_000))

  relay = await RelayProcess.start(dataDir, [], [`/ip4/127.0.0.1/tcp/${port}`])
  const back = Date.now()
  try {
    await untilEngine(device, () => connected, 'back on the relay', 10_000)
    expect(Date.now() - back).toBeLessThan(2_000)
    await untilEngine(device, () => device.listMessages(chatId).every(m => m.status === 'sent'), 'the waiting messages sent', 10_000)
  } finally {
    await device.stop()
    await relay.stop()
  }
}, 60_000)
