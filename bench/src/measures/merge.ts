import { tempDir } from '../proc.js'
import { median } from '../stats.js'
import { info, startClient, startServer, waitSent, type Client, type SystemKey } from '../systems.js'
import { messageText } from '../text.js'
import type { Path } from './live.js'

export interface MergeResult {
  system: SystemKey
  path: Path
  n: number
  runs: number
  /** ms from reconnecting (Tandem direct: the dial; Tandem via relay: starting both device processes) until both hold all 2N. */
  ms: number
  allMs: number[]
  /** Tandem via relay: median ms from spawning a device to its first reply (included in `ms`). */
  processStartMs?: number
}

/** (5) Offline merge: two devices of one chat each write N messages while apart, then meet. */
export async function benchMerge (key: SystemKey, path: Path, n: number, runs: number): Promise<MergeResult> {
  const times: number[] = []
  const starts: number[] = []
  for (let run = 0; run < runs; run++) {
    if (key !== 'tandem') times.push(await peerMerge(key, n, run))
    else if (path === 'direct') times.push(await tandemDirectMerge(n, run))
    else { const r = await tandemRelayMerge(n, run); times.push(r.ms); starts.push(r.startMs) }
  }
  return { system: key, path, n, runs, ms: median(times), allMs: times, ...(starts.length > 0 ? { processStartMs: median(starts) } : {}) }
}

async function peerMerge (key: SystemKey, n: number, run: number): Promise<number> {
  const server = await startServer(key, await tempDir(`${key}-merge`))
  const a = await startClient(key, `${key}-a`, server, { author: 1 })
  const b = await startClient(key, `${key}-b`, server, { author: 2 })
  try {
    await Promise.all([a.ready(), b.ready()])
    const ref = await a.create()
    await b.join(ref)
    await a.send('before the split ' + messageText(4, run))
    await b.waitMessages(1, 60_000)
    await a.proc.request('disconnect'); await b.proc.request('disconnect')
    await Promise.all([a.burst(n, 10 + run), b.burst(n, 20 + run)])
    const t0 = performance.now()
    await a.proc.request('reconnect'); await b.proc.request('reconnect')
    await Promise.all([a.waitMessages(2 * n + 1), b.waitMessages(2 * n + 1)])
    return performance.now() - t0
  } finally {
    await Promise.all([a.stop(), b.stop()])
    await server.stop()
  }
}

async function tandemDirectMerge (n: number, run: number): Promise<number> {
  const opts = { noRelay: true }
  const a = await startClient('tandem', 'tandem-a', null, opts)
  let b: Client = await startClient('tandem', 'tandem-b', null, opts)
  try {
    await Promise.all([a.ready(), b.ready()])
    const ref = await a.create()
    const addr = (await info(a)).multiaddrs[0]!
    await b.join(ref)
    await b.proc.request('dial', { addr })
    await b.waitMessages(0, 30_000) // b holds the chat
    // apart: b restarts on its data dir knowing no peer; a never dialled b
    await b.stop()
    b = await startClient('tandem', 'tandem-b', null, { ...opts, dataDir: b.dataDir })
    b.use(ref)
    await b.ready()
    await Promise.all([a.burst(n, 10 + run), b.burst(n, 20 + run)])
    const t0 = performance.now()
    await b.proc.request('dial', { addr })
    await Promise.all([a.waitMessages(2 * n), b.waitMessages(2 * n)])
    return performance.now() - t0
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

async function tandemRelayMerge (n: number, run: number): Promise<{ ms: number; startMs: number }> {
  const relay = await startServer('tandem', await tempDir('tandem-merge'))
  const devices: Client[] = []
  const start = async (label: string, dataDir?: string, online = true): Promise<Client> => {
    const c = await startClient('tandem', label, online ? relay : null, { dataDir, noRelay: !online, deviceFlags: ['--no-sync', '--no-direct'] })
    devices.push(c)
    return c
  }
  try {
    let a = await start('tandem-a')
    let b = await start('tandem-b')
    await Promise.all([a.ready(), b.ready()])
    const ref = await a.create()
    const sent = waitSent(a, 1, 30_000)
    await a.send('before the split ' + messageText(4, run))
    await sent.done
    await b.join(ref)
    await b.waitMessages(1, 30_000)
    await Promise.all([a.stop(), b.stop()])
    // apart: each on its own, no relay
    a = await start('tandem-a', a.dataDir, false); b = await start('tandem-b', b.dataDir, false)
    a.use(ref); b.use(ref)
    await Promise.all([a.ready(), b.ready()])
    await Promise.all([a.burst(n, 10 + run), b.burst(n, 20 + run)])
    await Promise.all([a.stop(), b.stop()])
    // together again: both start with the relay
    const t0 = performance.now()
    a = await start('tandem-a', a.dataDir); b = await start('tandem-b', b.dataDir)
    a.use(ref); b.use(ref)
    const ready = await Promise.all([a, b].map(async c => { await c.ready(); return performance.now() - t0 }))
    await Promise.all([a.waitMessages(2 * n + 1), b.waitMessages(2 * n + 1)])
    return { ms: performance.now() - t0, startMs: median(ready) }
  } finally {
    await Promise.all(devices.map(d => d.stop()))
    await relay.stop()
  }
}
