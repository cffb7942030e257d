#!/usr/bin/env node
import '@tandem/engine/polyfill'
import { createEngine, type Engine } from '@tandem/engine'
import { join } from 'node:path'
import { pino } from 'pino'
import { runControl } from './control.js'
import { type ServedApi, serveHttp } from './http/serve.js'
import { parseOptions } from './options.js'
import { say, sayError } from './say.js'
import { RUNNING_FIRST, RUNNING_ONLY, runRemoteTask } from './cli/remote-tasks.js'
import { NoRunningDeviceError, runningDevice } from './cli/running-device.js'
import { runTask } from './tasks.js'
import { Terminal } from './terminal.js'

const { options, task } = parseOptions(process.argv)

// a subcommand for the device running on this data dir goes through its API (the store is that process's)
if (RUNNING_ONLY.has(task.kind) || RUNNING_FIRST.has(task.kind)) {
  try {
    const device = await runningDevice(options.data)
    if (device === null && RUNNING_ONLY.has(task.kind)) throw new NoRunningDeviceError(options.data)
    if (device !== null) {
      let term: Terminal | null = null
      await runRemoteTask(device, task, options.json, () => (term ??= new Terminal()))
      ;(term as Terminal | null)?.close()
      process.exit(0)
    }
  } catch (err) {
    sayError(err)
    process.exit(1)
  }
}
// JSON logs are for scripts and operators (--control, --verbose); a person's terminal gets sentences only, the logs go to a file
const log = pino(
  { name: 'tandem-device', level: process.env.TANDEM_LOG_LEVEL ?? 'info' },
  options.control || options.verbose ? pino.destination(2) : pino.destination({ dest: join(options.data, 'device.log'), mkdir: true, sync: false })
)

/** A start that fails says why in one line with its code, never a stack trace, and exits 1. */
async function startEngine(): Promise<Engine> {
  let engine: Engine | undefined
  try {
    engine = await createEngine({
      dataDir: options.data,
      deviceName: options.name,
      storeOptions: { sync: options.sync },
      segments: { history: options.history },
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
    sayError(err)
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
  // a blob from the relay that does not open or verify: never shown, always said (the count tells a UI how many)
  if (event.type === 'rejected' && !event.waiting)
    process.stderr.write(
      `tandem-device: a blob of ${event.chatId === null ? event.docId : `chat ${event.chatId}`} was not applied: ${event.error.message} (${event.error.code}; ${event.total} so far)\n`
    )
})

let api: ServedApi | null = null
if (options.http !== undefined) {
  try {
    api = await serveHttp(engine, options, ({ url, token, file }) => {
      if (options.control) process.stdout.write(`${JSON.stringify({ event: 'http', url, token })}\n`)
      else if (options.json) process.stdout.write(`${JSON.stringify({ http: url, token })}\n`)
      else say(`Device API on ${url} (its token is in ${file})`)
    })
    log.info({ url: api.url }, 'device API serving')
  } catch (err) {
    sayError(Object.assign(new Error(`the device API could not listen on 127.0.0.1:${options.http}: ${(err as Error).message}`), { code: 'ERR_LISTEN' }))
    await engine.stop().catch(() => {})
    process.exit(1)
  }
}

let stopping = false
const stop = async (code = 0): Promise<void> => {
  if (stopping) return
  stopping = true
  await api?.stop()
  await engine.stop()
  log.info('device stopped')
  process.exit(code)
}
process.on('SIGTERM', () => {
  void stop()
})
process.on('SIGINT', () => {
  void stop()
})

if (options.control) runControl(engine, stop)
else {
  // a person's command: any failure is one sentence with its code (exit 1), never a stack trace
  process.on('unhandledRejection', err => {
    log.debug({ err }, 'unhandled rejection')
    sayError(err)
    void stop(1)
  })
  engine.subscribe(event => {
    if (event.type !== 'revoked') return
    say('This device was revoked from its account by another device of it: the account is erased from this device.')
    void stop(0) // the engine stopped itself; nothing is left to run
  })
  try {
    await runTask(engine, new Terminal(), task, stop, api !== null)
  } catch (err) {
    log.debug({ err }, 'command failed')
    sayError(err)
    await stop(1)
  }
}
