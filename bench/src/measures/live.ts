import { readFile } from 'node:fs/promises'
import { cpuSeconds, tempDir } from '../proc.js'
import { median, percentile } from '../stats.js'
import { info, isTandem, startClient, startServer, waitPeers, type Client, type Server, type SystemKey } from '../systems.js'
import { messageText } from '../text.js'

/** How the devices reach each other: through the server (Tandem: the relay, devices dialling only its circuit), or Tandem direct on loopback. */
export type Path = 'server' | 'direct'

export interface LatencyResult {
  system: SystemKey
  path: Path
  count: number
  /** Runs, each with fresh processes; every figure below is the median over them. */
  runs: number
  p50: number
  p99: number
  mean: number
  max: number
  /** Each run's p50 and p99, in run order. */
  p50s: number[]
  p99s: number[]
  /** The 1-minute load average before each run, in run order. */
  loads: number[]
  /** Median round trip of a no-op command over the bench's control pipe (included twice-halved in every sample: one write, one read). */
  pipeRttMs: number
  /** Every sample of each run in send order (ms, 0.01 ms resolution). */
  samples: number[][]
  /** CPU time (user + system, every thread) per message over the counted samples, ms: what competes for the cores while a message is on its way. */
  cpuMsPerMsg: { sender: number; receiver: number; server: number }
}

export interface ThroughputResult {
  system: SystemKey
  path: Path
  n: number
  runs: number
  /** Messages per second: N / (time from the burst command to both receivers holding all N), median. */
  msgPerSec: number
  ms: number
  allMs: number[]
  /** The 1-minute load average before each run, in run order. */
  loads: number[]
  /** When the sender had written all N locally (median, ms after the command). */
  senderMs: number
  /**
   * CPU time (user + system, every thread) each process used while the clock ran, per
   * 1,000 messages, medians: what the machine spends on a message, wherever it runs.
   * (2 cores: a total over 2 ms per 1,000 messages at 1,000 msg/s… means processes wait for a core.)
   */
  cpuMsPer1k: { sender: number; receivers: number; server: number; total: number }
}

interface Setup {
  server: Server | null
  sender: Client
  receivers: Client[]
  stop: () => Promise<void>
}

/** CPU seconds each role's processes have used so far (summed per role). */
async function cpuByRole<R extends string>(pids: Record<R, number[]>): Promise<Record<R, number>> {
  const out = {} as Record<R, number>
  for (const role of Object.keys(pids) as R[]) out[role] = (await Promise.all(pids[role].map(cpuSeconds))).reduce((a, x) => a + x, 0)
  return out
}

/** A sender and `receivers` devices in one chat, connected and warmed up. */
async function setUp(key: SystemKey, path: Path, receivers: number, deviceFlags?: string[]): Promise<Setup> {
  const server = path === 'direct' ? null : await startServer(key, await tempDir(`${key}-live`))
  const flags = deviceFlags ?? ['--no-sync']
  const all: Client[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(all.map(c => c.stop()))
    await server?.stop()
  }
  try {
    const opts = path === 'direct' ? { noRelay: true, deviceFlags: flags } : { deviceFlags: isTandem(key) ? [...flags, '--no-direct'] : flags }
    const sender = await startClient(key, `${key}-a`, server, { ...opts, author: 1 })
    all.push(sender)
    const rs: Client[] = []
    for (let i = 0; i < receivers; i++) {
      const c = await startClient(key, `${key}-${'bcdefg'[i]}`, server, { ...opts, author: 2 + i })
      rs.push(c)
      all.push(c)
    }
    await Promise.all(all.map(c => c.ready()))
    const ref = await sender.create()
    for (const r of rs) await r.join(ref)
    if (isTandem(key) && path === 'direct') {
      // a LAN mesh: every device dials every earlier one
      const addrs = await Promise.all(all.map(async c => (await info(c)).multiaddrs[0]!))
      for (let i = 1; i < all.length; i++) for (let j = 0; j < i; j++) await all[i]!.proc.request('dial', { addr: addrs[j] })
    }
    if (isTandem(key)) {
      // wait for the device-to-device sessions (direct, or through the relay's circuit)
      for (const c of all)
        await waitPeers(
          c,
          all.filter(o => o !== c),
          30_000
        )
    }
    // warm-up: one message everywhere
    await sender.send(`warm-up ${messageText(5, 0)}`)
    await Promise.all(rs.map(r => r.waitMessages(1, 60_000)))
    return { server, sender, receivers: rs, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

type LatencyRun = Omit<LatencyResult, 'runs' | 'p50s' | 'p99s' | 'samples' | 'loads'> & { samples: number[] }

/**
 * (2) Device → device latency: messages sent one at a time; each sample is
 * from the bench writing the send command to the sender to reading the
 * receiver's message event (both over the control pipes). `runs` runs, each
 * with fresh processes: a single run's p50 moves with the machine's load.
 */
export async function benchLatency(key: SystemKey, path: Path, count: number, runs: number): Promise<LatencyResult> {
  return only(await benchLatencyInterleaved([key], path, count, runs), key)
}

/** The 1-minute load average now. */
const load1 = async (): Promise<number> => Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])

type Failed = { error: string }
const failure = (err: unknown): Failed => ({
  error: String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 300)
})
const only = <T>(m: Map<SystemKey, T | Failed>, key: SystemKey): T => {
  const r = m.get(key)!
  if (typeof r === 'object' && r !== null && 'error' in r) throw new Error(r.error)
  return r as T
}

/**
 * Run i of every system, then run i + 1…, the order turning by one each round: a change of the
 * machine's load falls on all of them alike (sealed and plain Tandem). A system whose run fails
 * is recorded as failed and left out of later rounds.
 */
async function interleaved<R>(keys: SystemKey[], runs: number, run: (key: SystemKey, i: number) => Promise<R>): Promise<Map<SystemKey, { runs: R[]; loads: number[] } | Failed>> {
  const out = new Map<SystemKey, { runs: R[]; loads: number[] } | Failed>(keys.map(k => [k, { runs: [], loads: [] }]))
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < keys.length; j++) {
      const key = keys[(i + j) % keys.length]!
      const got = out.get(key)!
      if ('error' in got) continue
      try {
        got.loads.push(await load1())
        got.runs.push(await run(key, i))
      } catch (err) {
        out.set(key, failure(err))
      }
    }
  }
  return out
}

export async function benchLatencyInterleaved(keys: SystemKey[], path: Path, count: number, runs: number): Promise<Map<SystemKey, LatencyResult | Failed>> {
  const got = await interleaved(keys, runs, key => latencyRun(key, path, count))
  const out = new Map<SystemKey, LatencyResult | Failed>()
  for (const [key, r] of got) {
    if ('error' in r) {
      out.set(key, r)
      continue
    }
    const all = r.runs
    const med = (f: (x: LatencyRun) => number): number => median(all.map(f))
    out.set(key, {
      system: key,
      path,
      count,
      runs,
      p50: med(x => x.p50),
      p99: med(x => x.p99),
      mean: med(x => x.mean),
      max: med(x => x.max),
      p50s: all.map(x => x.p50),
      p99s: all.map(x => x.p99),
      loads: r.loads,
      pipeRttMs: med(x => x.pipeRttMs),
      samples: all.map(x => x.samples),
      cpuMsPerMsg: { sender: med(x => x.cpuMsPerMsg.sender), receiver: med(x => x.cpuMsPerMsg.receiver), server: med(x => x.cpuMsPerMsg.server) }
    })
  }
  return out
}

async function latencyRun(key: SystemKey, path: Path, count: number, warmup = 20): Promise<LatencyRun> {
  const s = await setUp(key, path, 1)
  try {
    const [b] = s.receivers as [Client]
    await b.watch()
    await s.sender.mute()
    let waiting: { text: string; resolve: () => void } | null = null
    const off = b.onMessage(text => {
      if (waiting !== null && text === waiting.text) {
        const w = waiting
        waiting = null
        w.resolve()
      }
    })
    const samples: number[] = []
    const pids = { sender: [s.sender.proc.pid], receiver: [b.proc.pid], server: s.server === null ? [] : [s.server.proc.pid] }
    let cpu0 = { sender: 0, receiver: 0, server: 0 }
    for (let i = 0; i < warmup + count; i++) {
      if (i === warmup) cpu0 = await cpuByRole(pids)
      const text = `#${i} ${messageText(3, i)}`.slice(0, 100)
      const got = new Promise<void>((resolve, reject) => {
        waiting = { text, resolve }
        setTimeout(() => {
          reject(new Error(`${key}/${path}: message ${i} not received within 10 s`))
        }, 10_000).unref()
      })
      const t0 = performance.now()
      const sent = s.sender.send(text)
      await got
      const t1 = performance.now()
      await sent
      if (i >= warmup) samples.push(t1 - t0)
    }
    const cpu1 = await cpuByRole(pids)
    const perMsg = (role: keyof typeof cpu0): number => ((cpu1[role] - cpu0[role]) * 1000) / count
    off()
    const rtts: number[] = []
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now()
      await b.proc.request(isTandem(key) ? 'chats' : 'ping')
      rtts.push(performance.now() - t0)
    }
    return {
      system: key,
      path,
      count,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      mean: samples.reduce((a, x) => a + x, 0) / samples.length,
      max: Math.max(...samples),
      pipeRttMs: median(rtts),
      samples: samples.map(x => Math.round(x * 100) / 100),
      cpuMsPerMsg: { sender: perMsg('sender'), receiver: perMsg('receiver'), server: perMsg('server') }
    }
  } finally {
    await s.stop()
  }
}

interface ThroughputRun {
  ms: number
  senderMs: number
  cpu: { sender: number; receivers: number; server: number; total: number }
}

/** One throughput run with fresh processes: burst seed 100 + run. */
async function throughputRun(key: SystemKey, path: Path, n: number, run: number, deviceFlags?: string[]): Promise<ThroughputRun> {
  const s = await setUp(key, path, 2, deviceFlags)
  try {
    // every process prints only its answers, as the peers' clients do: a Tandem device printed a
    // `status` line for each acked upload and each notice (3 % of the sender's CPU in a burst)
    await Promise.all([s.sender, ...s.receivers].map(c => c.mute()))
    s.sender.prepareBurst?.(n, 100 + run)
    const pids = { sender: [s.sender.proc.pid], receivers: s.receivers.map(r => r.proc.pid), server: s.server === null ? [] : [s.server.proc.pid] }
    const before = await cpuByRole(pids)
    const t0 = performance.now()
    const received = Promise.all(s.receivers.map(r => r.waitMessages(1 + n, 600_000)))
    // (handled now: should the burst fail, stopping the receivers rejects their waits, which must not end the suite)
    received.catch(() => {})
    await s.sender.burst(n, 100 + run)
    const senderMs = performance.now() - t0
    await received
    const ms = performance.now() - t0
    const after = await cpuByRole(pids)
    const cpu = { sender: 0, receivers: 0, server: 0, total: 0 }
    for (const role of ['sender', 'receivers', 'server'] as const) {
      cpu[role] = ((after[role] - before[role]) * 1000) / (n / 1000)
      cpu.total += cpu[role]
    }
    return { ms, senderMs, cpu }
  } finally {
    await s.stop()
  }
}

/**
 * (3) Throughput: one device writes N messages as fast as it can; time until
 * two other devices hold them all. A fresh set of processes per run.
 */
export async function benchThroughput(key: SystemKey, path: Path, n: number, runs: number, deviceFlags?: string[]): Promise<ThroughputResult> {
  return only(await benchThroughputInterleaved([key], path, n, runs, deviceFlags), key)
}

export async function benchThroughputInterleaved(
  keys: SystemKey[],
  path: Path,
  n: number,
  runs: number,
  deviceFlags?: string[]
): Promise<Map<SystemKey, ThroughputResult | Failed>> {
  const got = await interleaved(keys, runs, (key, i) => throughputRun(key, path, n, i, deviceFlags))
  const out = new Map<SystemKey, ThroughputResult | Failed>()
  for (const [key, r] of got) {
    if ('error' in r) {
      out.set(key, r)
      continue
    }
    const times = r.runs.map(x => x.ms)
    const ms = median(times)
    const m = (f: (x: ThroughputRun) => number): number => median(r.runs.map(f))
    const cpuMsPer1k = { sender: m(x => x.cpu.sender), receivers: m(x => x.cpu.receivers), server: m(x => x.cpu.server), total: m(x => x.cpu.total) }
    out.set(key, { system: key, path, n, runs, msgPerSec: n / (ms / 1000), ms, allMs: times, loads: r.loads, senderMs: m(x => x.senderMs), cpuMsPer1k })
  }
  return out
}
