import { readFile } from 'node:fs/promises'
import { freePort, tempDir } from '../proc.js'
import { median } from '../stats.js'
import { startProxy } from './history.js'
import { info, startClient, startServer, waitSent, type Client, type SystemKey } from '../systems.js'
import { messageText } from '../text.js'
import type { Path } from './live.js'

export interface MergeResult {
  system: SystemKey
  path: Path
  n: number
  runs: number
  /** ms from reconnecting (Tandem direct: the dial; Tandem via relay: both devices back on the relay) until both hold all 2N. */
  ms: number
  allMs: number[]
  /** Tandem via relay: ms from restoring the network (relay reconnect backoff included). */
  fromRestoreMs?: number
  /** The 1-minute load average before each run, in run order. */
  loads: number[]
}

/** The 1-minute load average now. */
const load1 = async (): Promise<number> => Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])

/** (5) Offline merge: two devices of one chat each write N messages while apart, then meet. */
export async function benchMerge(key: SystemKey, path: Path, n: number, runs: number): Promise<MergeResult> {
  if (key === 'tandem-plain') throw new Error('offline merge is not measured for tandem-plain')
  const times: number[] = []
  const starts: number[] = []
  const loads: number[] = []
  for (let run = 0; run < runs; run++) {
    loads.push(await load1())
    if (key !== 'tandem') times.push(await peerMerge(key, n, run))
    else if (path === 'direct') times.push(await tandemDirectMerge(n, run))
    else {
      const r = await tandemRelayMerge(n, run)
      times.push(r.afterReconnectMs)
      starts.push(r.ms)
    }
  }
  return { system: key, path, n, runs, ms: median(times), allMs: times, loads, ...(starts.length > 0 ? { fromRestoreMs: median(starts) } : {}) }
}

/**
 * (5) Offline merge of the peers through a network cut, as Tandem's via the relay: the clients
 * reach their server through the counting proxy, the bench cuts it (open connections closed, new
 * ones refused), both write N, the bench restores it; the figure runs from the restore to both
 * holding all 2N, each client's own reconnect (y-websocket: backoff 100 ms doubling to 2.5 s;
 * automerge-repo: a retry every 5 s) included. Compare with Tandem's `fromRestoreMs`.
 */
export async function benchMergeCut(key: 'yws' | 'am', n: number, runs: number): Promise<MergeResult> {
  const times: number[] = []
  const loads: number[] = []
  for (let run = 0; run < runs; run++) {
    loads.push(await load1())
    times.push(await peerMergeCut(key, n, run))
  }
  return { system: key, path: 'server', n, runs, ms: median(times), allMs: times, loads, fromRestoreMs: median(times) }
}

async function peerMergeCut(key: 'yws' | 'am', n: number, run: number): Promise<number> {
  const port = await freePort()
  const proxy = await startProxy(port)
  const server = await startServer(key, await tempDir(`${key}-merge-cut`), { port })
  const a = await startClient(key, `${key}-a`, server, { author: 1, viaPort: proxy.port })
  const b = await startClient(key, `${key}-b`, server, { author: 2, viaPort: proxy.port })
  try {
    await Promise.all([a.ready(), b.ready()])
    const ref = await a.create()
    await b.join(ref)
    await a.send(`before the split ${messageText(4, run)}`)
    await b.waitMessages(1, 60_000)
    await proxy.proc.request('block')
    await Promise.all([a.burst(n, 10 + run), b.burst(n, 20 + run)])
    const t0 = performance.now()
    await proxy.proc.request('unblock')
    await Promise.all([a.waitMessages(2 * n + 1, 120_000), b.waitMessages(2 * n + 1, 120_000)])
    return performance.now() - t0
  } finally {
    await Promise.all([a.stop(), b.stop()])
    await proxy.proc.stop()
    await server.stop()
  }
}

async function peerMerge(key: SystemKey, n: number, run: number): Promise<number> {
  const server = await startServer(key, await tempDir(`${key}-merge`))
  const a = await startClient(key, `${key}-a`, server, { author: 1 })
  const b = await startClient(key, `${key}-b`, server, { author: 2 })
  try {
    await Promise.all([a.ready(), b.ready()])
    const ref = await a.create()
    await b.join(ref)
    await a.send(`before the split ${messageText(4, run)}`)
    await b.waitMessages(1, 60_000)
    await a.proc.request('disconnect')
    await b.proc.request('disconnect')
    await Promise.all([a.burst(n, 10 + run), b.burst(n, 20 + run)])
    const t0 = performance.now()
    await a.proc.request('reconnect')
    await b.proc.request('reconnect')
    await Promise.all([a.waitMessages(2 * n + 1), b.waitMessages(2 * n + 1)])
    return performance.now() - t0
  } finally {
    await Promise.all([a.stop(), b.stop()])
    await server.stop()
  }
}

async function tandemDirectMerge(n: number, run: number): Promise<number> {
  const opts = { noRelay: true }
  const a = await startClient('tandem', 'tandem-a', null, opts)
  let b: Client = await startClient('tandem', 'tandem-b', null, opts)
  try {
    await Promise.all([a.ready(), b.ready()])
    const ref = await a.create()
    const addr = (await info(a)).multiaddrs[0]!
    await b.join(ref)
    await b.proc.request('dial', { addr })
    await a.send(`before the split ${messageText(4, run)}`)
    await b.waitMessages(1, 30_000) // b holds the chat and a message of it
    // apart: b restarts on its data dir knowing no peer; a never dialled b
    await b.stop()
    b = await startClient('tandem', 'tandem-b', null, { ...opts, dataDir: b.dataDir })
    b.use(ref)
    await b.ready()
    await Promise.all([a.burst(n, 10 + run), b.burst(n, 20 + run)])
    const t0 = performance.now()
    await b.proc.request('dial', { addr })
    await Promise.all([a.waitMessages(2 * n + 1), b.waitMessages(2 * n + 1)])
    return performance.now() - t0
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

/**
 * Via the relay. The devices reach the relay through a proxy the bench can cut: apart = cut
 * (each device keeps running and writes on its own), together = restored. A device retries
 * the relay with backoff, so besides the time from the restore we report the time from the
 * moment both devices were back on the relay (their `relay connected` events).
 * (Restarting the devices instead does not work: see the bench README, engine start order.)
 */
async function tandemRelayMerge(n: number, run: number): Promise<{ ms: number; afterReconnectMs: number }> {
  // the relay announces only the proxy's address, so no device learns a way around the cut
  const port = await freePort()
  const proxy = await startProxy(port)
  const relay = await startServer('tandem', await tempDir('tandem-merge'), { port, extra: ['--announce', `/ip4/127.0.0.1/tcp/${proxy.port}`] })
  const devices: Client[] = []
  try {
    const opts = { viaPort: proxy.port, deviceFlags: ['--no-sync', '--no-direct'] }
    const a = await startClient('tandem', 'tandem-a', relay, opts)
    const b = await startClient('tandem', 'tandem-b', relay, opts)
    devices.push(a, b)
    await Promise.all([a.ready(), b.ready()])
    const ref = await a.create()
    const sent = waitSent(a, 1, 30_000)
    await a.send(`before the split ${messageText(4, run)}`)
    await sent.done
    await b.join(ref)
    await b.waitMessages(1, 30_000)
    await proxy.proc.request('block')
    await Promise.all([a.burst(n, 10 + run), b.burst(n, 20 + run)])
    const back = [a, b].map(c => c.proc.next(e => e.event === 'relay' && e.connected === true, 120_000))
    const t0 = performance.now()
    await proxy.proc.request('unblock')
    await Promise.all(back)
    const tBack = performance.now()
    await Promise.all([a.waitMessages(2 * n + 1), b.waitMessages(2 * n + 1)])
    const t1 = performance.now()
    return { ms: t1 - t0, afterReconnectMs: t1 - tBack }
  } finally {
    await Promise.all(devices.map(d => d.stop()))
    await proxy.proc.stop()
    await relay.stop()
  }
}
