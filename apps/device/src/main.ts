#!/usr/bin/env node
import '@tandem/engine/polyfill'
import { createEngine, type Engine } from '@tandem/engine'
import { pino } from 'pino'
import { runControl } from './control.js'
import { runPrompt } from './prompt.js'
import { parseOptions } from './options.js'

const options = parseOptions(process.argv)
const log = pino({ name: 'tandem-device' }, pino.destination(2))

/** A start that fails says why in one line with its code, never a stack trace, and exits 1. */
async function startEngine(): Promise<Engine> {
  let engine: Engine | undefined
  try {
    engine = await createEngine({
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
    return engine
  } catch (err) {
    log.debug({ err }, 'device failed to start')
    const code = (err as { code?: unknown }).code
    process.stderr.write(`tandem-device: ${(err as Error)?.message ?? String(err)}${typeof code === 'string' ? ` (${code})` : ''}\n`)
    await engine?.stop().catch(() => {})
    process.exit(1)
  }
}

const engine = await startEngine()
log.info({ peerId: engine.peerId, multiaddrs: engine.multiaddrs(), accountId: engine.accountId }, 'device started')
// a damaged store opened with what verifies: say what was found, and what is being fetched again
const damage = engine.storeDamage()
for (const r of damage.found) process.stderr.write(`tandem-device: damaged store record ${JSON.stringify(r.key)}: ${r.problem} (ERR_STORE_CORRUPT)\n`)
if (damage.repairing.length > 0) {
  const n = damage.repairing.length
  process.stderr.write(`tandem-device: ${n} ${n === 1 ? 'doc' : 'docs'} will be fetched whole from the relay: ${damage.repairing.join(', ')}\n`)
}
engine.subscribe(event => {
  if (event.type === 'repaired') process.stderr.write(`tandem-device: ${event.docId} repaired from the relay\n`)
})

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
