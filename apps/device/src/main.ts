#!/usr/bin/env node
import '@tandem/engine/polyfill'
import { createEngine } from '@tandem/engine'
import { pino } from 'pino'
import { runControl } from './control.js'
import { runPrompt } from './prompt.js'
import { parseOptions } from './options.js'

const options = parseOptions(process.argv)
const log = pino({ name: 'tandem-device' }, pino.destination(2))

const engine = await createEngine({
  dataDir: options.data,
  deviceName: options.name,
  storeOptions: { sync: options.sync },
  network: {
    listen: options.listen.length > 0 ? options.listen : ['/ip4/127.0.0.1/tcp/0'],
    peers: options.peer,
    relays: options.relay,
    directDial: options.direct,
    mdns: options.mdns
  }
})
await engine.start()
log.info({ peerId: engine.peerId, multiaddrs: engine.multiaddrs(), accountId: engine.accountId }, 'device started')

let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await engine.stop()
  log.info('device stopped')
  process.exit(0)
}
process.on('SIGTERM', () => {
  void stop()
})
process.on('SIGINT', () => {
  void stop()
})

if (options.control) runControl(engine, stop)
else await runPrompt(engine, stop)
