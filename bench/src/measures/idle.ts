import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuSeconds, freePort, type JsonProcess, sleep } from '../proc.js'
import { isTandem, startClient, startServer, waitPeers, waitUploaded, type Client, type Server, type SystemKey } from '../systems.js'
import { startProxy } from './history.js'

/** What idles: a system's one client, or (`tandem+1`) a Tandem device with a second device of its account online through the relay's circuit. */
export type IdleCase = SystemKey | `${'tandem' | 'tandem-plain'}+1`

export interface IdleResult {
  system: IdleCase
  /** The measured window, s (the clients were connected and settled before it began). */
  windowS: number
  /** TCP payload bytes client → server and server → client over the window (framing, Noise, yamux included; IP/TCP headers not). */
  up: number
  down: number
  /** (up + down) per minute of the window, in bytes. */
  bytesPerMin: number
  /** New TCP connections through the proxy during the window (0: the one connection stayed up). */
  newConnections: number
  /** Reads the proxy made (both ways) per minute: about the TCP segments with a payload, each of which also costs its IP/TCP headers (~52 B) and wakes a phone's radio. */
  readsPerMin: number
  /** CPU time (user + system) the case's processes (server, clients, proxy) used over the window, ms per minute. */
  cpuMsPerMin: number
  /** The 1-minute load average when the window began and when it ended. */
  load: number
  loadAtEnd: number
  /** With tracing: every chunk the proxy read, [ms into the window, direction, bytes]. */
  chunks?: Array<[number, 'up' | 'down', number]>
}

/** After the client connected and its first work is done: what follows a connection's start (identify, a reservation, its push) is over. */
const SETTLE_MS = 5_000

/** Idle clients set up, their window running: `results()` waits for its end, `stop()` ends every process. */
export interface IdleRun {
  results(): Promise<Map<IdleCase, IdleResult>>
  stop(): Promise<void>
}

/**
 * (9) Idle traffic: one client connected to its server through the counting proxy, with a chat
 * open and nothing sent or received; the bytes both ways over `windowS`. Tandem: one device of a
 * one-device account (its /tandem/store session, its circuit reservation, keep-alives), the relay
 * announcing only the proxy's address so nothing goes around it; `tandem+1`: the same with a
 * second device of the account online (both `--no-direct`: their sync session runs through the
 * relay's circuit, on the measured connection), the second device reaching the relay without the
 * proxy. The cases are set up one after another, then every window runs at the same time.
 *
 * The window runs in the background (the suite goes on with its other sections meanwhile): idle
 * processes use next to no CPU (`cpuMsPerMin` says how little), and no other section's figure
 * depends on their bytes. `results()` reads every proxy once `windowS` is over.
 */
export async function startIdle(cases: IdleCase[], windowS: number, trace = false): Promise<IdleRun> {
  // (data directories of their own: the suite removes its temporary directories after every section)
  const base = await mkdtemp(join(tmpdir(), 'tandem-bench-idle-'))
  const setups: IdleSetup[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(setups.map(s => s.stop()))
    await rm(base, { recursive: true, force: true })
  }
  try {
    for (const c of cases) setups.push(await setUp(c, base))
    await sleep(SETTLE_MS)
  } catch (err) {
    await stop()
    throw err
  }
  const load1 = async (): Promise<number> => Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])
  const cpu = async (s: IdleSetup): Promise<number> => (await Promise.all(s.pids.map(p => cpuSeconds(p).catch(() => 0)))).reduce((a, x) => a + x, 0)
  const cpu0 = new Map<IdleSetup, number>()
  for (const s of setups) {
    if (trace) await s.proxy.request('trace')
    await s.proxy.request('reset')
    cpu0.set(s, await cpu(s))
  }
  const load = await load1()
  const ends = performance.now() + windowS * 1000
  let read: Promise<Map<IdleCase, IdleResult>> | null = null
  const results = (): Promise<Map<IdleCase, IdleResult>> => {
    read ??= (async () => {
      await sleep(Math.max(0, ends - performance.now()))
      const loadAtEnd = await load1()
      const out = new Map<IdleCase, IdleResult>()
      for (const s of setups) {
        const r = await s.proxy.request<{ up: number; down: number; conns: number; reads: number; ms: number; chunks?: Array<[number, 'up' | 'down', number]> }>('report')
        const used = (await cpu(s)) - cpu0.get(s)!
        out.set(s.key, {
          system: s.key,
          windowS: r.ms / 1000,
          up: r.up,
          down: r.down,
          bytesPerMin: ((r.up + r.down) * 60_000) / r.ms,
          newConnections: r.conns,
          readsPerMin: (r.reads * 60_000) / r.ms,
          cpuMsPerMin: (used * 1000 * 60_000) / r.ms,
          load,
          loadAtEnd,
          ...(r.chunks !== undefined ? { chunks: r.chunks } : {})
        })
      }
      return out
    })()
    return read
  }
  // read at the window's end whoever asks (a later section may still be running then)
  const timer = setTimeout(() => void results().catch(() => {}), windowS * 1000)
  timer.unref()
  return {
    results,
    stop: async () => {
      clearTimeout(timer)
      await stop()
    }
  }
}

/** Sets the cases up, waits out the window, reads it and stops: the whole measure at once. */
export async function benchIdle(cases: IdleCase[], windowS: number, trace = false): Promise<Map<IdleCase, IdleResult>> {
  const run = await startIdle(cases, windowS, trace)
  try {
    return await run.results()
  } finally {
    await run.stop()
  }
}

interface IdleSetup {
  key: IdleCase
  proxy: JsonProcess
  /** The case's processes: server, clients, proxy. */
  pids: number[]
  stop: () => Promise<void>
}

async function setUp(c: IdleCase, base: string): Promise<IdleSetup> {
  const second = c.endsWith('+1')
  const key = (second ? c.slice(0, -2) : c) as SystemKey
  const dir = async (label: string): Promise<string> => await mkdtemp(join(base, `${label}-`))
  const port = await freePort()
  const proxy = await startProxy(port)
  let server: Server | null = null
  const clients: Client[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(clients.map(x => x.stop()))
    await server?.stop()
    await proxy.proc.stop()
  }
  try {
    if (isTandem(key)) {
      // the relay announces only the proxy's address: the device learns no way around it
      server = await startServer(key, await dir(`${c}-relay`), { port, extra: ['--announce', `/ip4/127.0.0.1/tcp/${proxy.port}`] })
      const flags = second ? ['--no-sync', '--no-direct'] : ['--no-sync']
      const client = await startClient(key, `${c}-idle`, server, { viaPort: proxy.port, deviceFlags: flags, dataDir: await dir(`${c}-a`) })
      clients.push(client)
      await client.ready()
      const ref = await client.create()
      if (second) {
        // (it dials the relay's own port, past the proxy: only the first device's connection is counted)
        const other = await startClient(key, `${c}-idle-2`, server, { deviceFlags: flags, dataDir: await dir(`${c}-b`) })
        clients.push(other)
        await other.ready()
        await other.join(ref)
        await waitPeers(client, [other], 30_000)
        await client.send('hello')
        await other.waitMessages(1, 30_000)
        await waitUploaded(other, 60_000)
      }
      await waitUploaded(client, 60_000)
    } else {
      server = await startServer(key, await dir(`${c}-server`), { port })
      const client = await startClient(key, `${key}-idle`, server, { viaPort: proxy.port, dataDir: await dir(`${c}-a`) })
      clients.push(client)
      await client.ready()
      await client.create()
      await client.send('hello') // the doc exists on the server and the client is synced
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { key: c, proxy: proxy.proc, pids: [server.proc.pid, ...clients.map(x => x.proc.pid), proxy.proc.pid], stop }
}
