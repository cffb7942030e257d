import { afterEach } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HistoryStore, LevelAccessRecords, RelayMetrics, StoreService, createLogger } from '@tandem/relay'
import { MemoryLevel } from 'memory-level'
import { createEngine, createMemoryLinkPair, systemRuntime, type Engine, type Runtime } from '@tandem/engine'
import { DeviceProcess, type DeviceEvent } from '../helpers/device-process.js'
import { RelayProcess } from '../helpers/relay-process.js'

export interface Dump {
  chats: Array<{ chatId: string; messages: Array<{ id: string; text: string; status: string }> }>
}

/** Everything a relay test starts, stopped and removed by `cleanup()`. */
export class Rig {
  private readonly stops: Array<() => Promise<unknown>> = []
  private readonly dirs: string[] = []

  async dir(label: string): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), `tandem-${label}-`))
    this.dirs.push(d)
    return d
  }

  /** A relay process; `listen` defaults to a free TCP port on 127.0.0.1 (see RelayProcess.start). */
  async relay(dir?: string, listen?: string[]): Promise<RelayProcess> {
    const r = await RelayProcess.start(dir ?? (await this.dir('relay')), [], listen)
    this.stops.push(() => r.stop())
    return r
  }

  device(label: string, dir: string, args: string[]): DeviceProcess {
    const d = DeviceProcess.start(label, ['--data', dir, '--name', label, ...args])
    this.stops.push(() => d.stop())
    return d
  }

  async cleanup(): Promise<void> {
    for (const s of this.stops.splice(0).reverse()) await s()
    await Promise.all(this.dirs.splice(0).map(d => rm(d, { recursive: true, force: true })))
  }
}

/** Message ids a device has reported as `sent` so far. */
export const sentIds = (d: DeviceProcess): Set<string> =>
  new Set(d.events.filter((e: DeviceEvent) => e.event === 'status' && e.status === 'sent').flatMap(e => e.messageIds as string[]))

/** The relay's store service in this process, on memory-level (no fsync): stopped by the returned `stop`. */
export async function inProcessRelay(): Promise<{ service: StoreService; history: HistoryStore; stop: () => Promise<void> }> {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 24, accountQuotaBytes: 1 << 28, sync: false })
  const records = await LevelAccessRecords.open(db, { sync: false })
  const service = new StoreService(history, records, new RelayMetrics({ processMetrics: false }), createLogger({ level: 'silent' }))
  return {
    service,
    history,
    stop: async () => {
      service.stop()
      await records.close()
      await history.close()
    }
  }
}

/** A device in this process on a memory-level store, started, reaching relays only through links added with `toRelay`; stopped by `stops`. */
export async function memoryDevice(name: string, stops: Array<() => Promise<unknown>>, options: Partial<Parameters<typeof createEngine>[0]> = {}): Promise<Engine> {
  const e = await createEngine({
    store: new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: name,
    network: false,
    relayIds: [IN_PROCESS_RELAY],
    ...options
  })
  stops.push(() => e.stop())
  await e.start()
  return e
}

/**
 * Memory devices (memoryDevice) whose segments hold `segmentMessages` messages, stopped after
 * each test with whatever else the test pushes on `stops`, last first. Call at a file's top level.
 */
export function memoryDevicesPerTest(segmentMessages: number): { stops: Array<() => Promise<unknown>>; device: (name: string) => Promise<Engine> } {
  const stops: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s()
  })
  return { stops, device: name => memoryDevice(name, stops, { segments: { segmentMessages } }) }
}

/** The relay id a memory device knows its in-process relay by. */
export const IN_PROCESS_RELAY = 'relay'

/** Connects a memory device to the in-process relay's store service over a memory link pair. */
export function toRelay(service: StoreService, e: Engine): void {
  const [d, s] = createMemoryLinkPair(e.peerId, IN_PROCESS_RELAY)
  e.addRelayLink(IN_PROCESS_RELAY, d)
  service.addLink(s)
}

/** A relay in this process and a device `a` of a new account with one chat, connected to it. */
export async function writerOnRelay(
  stops: Array<() => Promise<unknown>>,
  device: (name: string) => Promise<Engine>
): Promise<{ relay: Awaited<ReturnType<typeof inProcessRelay>>; a: Engine; chatId: string }> {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const a = await device('a')
  await a.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await a.createChat({ title: 'long' })
  toRelay(relay.service, a)
  return { relay, a, chatId }
}

/** A device runtime whose timers of `ms` (say CURSOR_SAVE_MS) wait for `fire()`; the others run on the system's. */
export function holdingTimers(ms: number): { runtime: Partial<Runtime>; fire: () => void } {
  const held: Array<() => void> = []
  const runtime: Partial<Runtime> = {
    setTimeout: (fn, after) => (after === ms ? held.push(fn) : systemRuntime.setTimeout(fn, after)),
    clearTimeout: handle => {
      if (typeof handle === 'number') held[handle - 1] = () => {}
      else systemRuntime.clearTimeout(handle)
    }
  }
  return {
    runtime,
    fire: () => {
      for (const fn of held.splice(0)) fn()
    }
  }
}
