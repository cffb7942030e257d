import { decodeSyncFrame, type SyncFrame } from '@tandem/protocol'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { createEngine, createMemoryLinkPair, systemRuntime, type Engine } from '../src/node/index.js'
import { HELLO_DEADLINE_MS } from '@tandem/transport'

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
})

it('a peer that opens a sync stream and never says hello is closed at the deadline with ERR_NOT_AUTHENTICATED', async () => {
  // the engine's timers, with the hello deadline held for the test to fire
  const deadlines: Array<() => void> = []
  const e = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    network: false,
    deviceName: 'a',
    runtime: {
      setTimeout: (fn, ms) => (ms === HELLO_DEADLINE_MS ? deadlines.push(fn) : systemRuntime.setTimeout(fn, ms)),
      clearTimeout: handle => {
        if (typeof handle === 'number') deadlines[handle - 1] = () => {}
        else systemRuntime.clearTimeout(handle)
      }
    }
  })
  engines.push(e)
  await e.start()
  await e.createAccount({ name: 'Ann' })
  const [mine, silent] = createMemoryLinkPair(e.peerId, '12D3KooWsilent')
  const got: SyncFrame[] = []
  const closed = new Promise<void>(resolve => {
    silent.start({ onFrame: f => got.push(decodeSyncFrame(f)), onError: () => {}, onClose: () => resolve() })
  })
  e.addLink(mine)
  expect(deadlines).toHaveLength(1)
  deadlines[0]!()
  await closed
  expect(got.map(f => f.type)).toEqual(['hello', 'error'])
  expect(got[1]).toMatchObject({ type: 'error', code: 'ERR_NOT_AUTHENTICATED' })
})
