import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEngine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterAll, describe, expect, it } from 'vitest'
import { DEVICE_MAIN, DeviceProcess } from '../helpers/device-process.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { runToExit } from '../helpers/run-to-exit.js'
import { untilEngine } from '../helpers/until.js'

// A device that cannot start says why in one line with a code, and exits 1: no stack traces.

const cleanups: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-startup-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Runs tandem-device (`--control`) to its exit; its exit code and what it wrote to stderr. */
const runDevice = (args: string[]): Promise<{ code: number | null; stderr: string }> => runToExit([DEVICE_MAIN, '--control', ...args])

const oneLine = (stderr: string): string[] => stderr.split('\n').filter(l => l.startsWith('tandem-device: '))

describe('tandem-device start-up errors', () => {
  it('a port in use: one line naming the address, ERR_LISTEN, exit 1', async () => {
    const server: Server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise(resolve => server.close(resolve)))
    const port = (server.address() as { port: number }).port
    const { code, stderr } = await runDevice(['--data', await tempDir(), '--listen', `/ip4/127.0.0.1/tcp/${port}`])
    expect(code).toBe(1)
    expect(oneLine(stderr)).toEqual([`tandem-device: cannot listen on /ip4/127.0.0.1/tcp/${port}: address already in use 127.0.0.1:${port} (ERR_LISTEN)`])
    expect(stderr).not.toMatch(/\n\s+at /) // no stack
  })

  it('a relay address without /p2p/: one line saying so, ERR_INVALID_ARGUMENT, exit 1', async () => {
    const { code, stderr } = await runDevice(['--data', await tempDir(), '--relay', '/ip4/127.0.0.1/tcp/4001'])
    expect(code).toBe(1)
    expect(oneLine(stderr)).toEqual([
      'tandem-device: the relay address /ip4/127.0.0.1/tcp/4001 has no /p2p/<peer id>: ask for the full address (the relay prints it at start) (ERR_INVALID_ARGUMENT)'
    ])
  })

  it('a store another device process holds: one line, ERR_STORE_UNAVAILABLE, exit 1', async () => {
    const dir = await tempDir()
    const holder = DeviceProcess.start('holder', ['--data', dir])
    cleanups.push(() => holder.stop())
    await holder.request('info')
    const { code, stderr } = await runDevice(['--data', dir])
    expect(code).toBe(1)
    const lines = oneLine(stderr)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^tandem-device: the device store could not be opened: .*\(ERR_STORE_UNAVAILABLE\)$/)
  })

  it('a relay that answers with another peer id is reported (ERR_WRONG_RELAY), not retried in silence', async () => {
    const relay = await RelayProcess.start(await tempDir())
    cleanups.push(() => relay.stop())
    const other = await RelayProcess.start(await tempDir())
    cleanups.push(() => other.stop())
    // the first relay's address with the second relay's peer id: a stale or mistyped address
    const wrong = relay.address.replace(relay.peerId, other.peerId)
    const engine = await createEngine({ store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }), network: { listen: [], relays: [wrong] } })
    cleanups.push(() => engine.stop())
    const codes: string[] = []
    engine.subscribe(e => {
      if (e.type === 'error') codes.push((e.error as { code?: string }).code ?? '?')
    })
    await engine.start()
    // a device dials its relays once it has an account (it has nothing to say to them before)
    await engine.createAccount({ name: 'Ann', recovery: false })
    await untilEngine(engine, () => codes.includes('ERR_WRONG_RELAY'), 'the wrong relay reported', 20_000)
  })
})
