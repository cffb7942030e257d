import { readFile } from 'node:fs/promises'
import { type JsonProcess, peakMiB, rssMiB, script, startAndWaitLine, tempDir } from '../proc.js'
import { median } from '../stats.js'
import {
  isTandem,
  relayMetric,
  seedPeerServer,
  startClient,
  startServer,
  terminate,
  waitSent,
  waitUploaded,
  type ChatRef,
  type Client,
  type Server,
  storeGranterFor,
  type SystemKey,
  type TandemRef
} from '../systems.js'

export interface HistoryResult {
  system: SystemKey
  n: number
  runs: number
  /** ms from "open the chat" (Tandem: join the account) on an idle, started client to holding all N (median). */
  syncMs: number
  allMs: number[]
  /** The 1-minute load average before each timed run, in run order. */
  loads: number[]
  /** TCP payload bytes server → client and client → server in one run through the counting proxy. */
  bytesDown: number
  bytesUp: number
  bytesPerMessage: number
  /** Tandem: blob bytes the relay sent (tandem_relay_backfill_bytes_total), no framing. */
  payloadBytes?: number
  /** Median peak RSS of the fresh client, MiB. */
  clientPeakMiB: number
  /** Server peak RSS since its restart after seeding (proxied run + timed runs), and RSS at the end, MiB. */
  serverPeakMiB: number
  serverRssMiB: number
  seedMs: number
}

export async function startProxy(targetPort: number): Promise<{ proc: JsonProcess; port: number }> {
  const { proc, m } = await startAndWaitLine('count-proxy', 'node', [script('tools/count-proxy.js'), '--target', String(targetPort)], /^port (\d+)/)
  return { proc, port: Number(m[1]) }
}

/** Seeds a server with one chat of N messages (Tandem: a real device bursts them and waits until all are sent); returns the server stopped. */
export async function seed(key: SystemKey, n: number, dataDir: string): Promise<ChatRef> {
  if (!isTandem(key)) return (await seedPeerServer(key, dataDir, 1, n))[0]!
  const relay = await startServer(key, dataDir)
  const writer = await startClient(key, `${key}-writer`, relay)
  let chatId: string
  try {
    await writer.ready()
    chatId = ((await writer.create()) as TandemRef).chatId
    const sent = waitSent(writer, n, 3_600_000)
    await writer.burst(n, 0, 3_600_000) // seed 0: the texts of the peers' seeded doc 0
    // every message reported sent, or (should a status event go missing) nothing left to upload
    await Promise.race([sent.done, waitUploaded(writer, 3_600_000)])
    if (sent.sent() < n) process.stderr.write(`note: ${key} writer saw ${sent.sent()}/${n} messages reported sent with no upload pending\n`)
  } finally {
    await writer.stop()
    await relay.stop()
  }
  // fresh devices are listed by the writer's store, opened offline: no device of the account is online while they sync
  return { chatId, granter: storeGranterFor(key, writer.dataDir), writerDir: writer.dataDir }
}

export async function oneRun(key: SystemKey, server: Server, ref: ChatRef, n: number, timeoutMs: number, viaPort?: number): Promise<{ ms: number; peak: number }> {
  const c: Client = await startClient(key, `${key}-fresh`, server, { viaPort })
  try {
    await c.ready()
    await c.prepareJoin(ref)
    const t0 = performance.now()
    await c.join(ref)
    await c.waitMessages(n, timeoutMs)
    const ms = performance.now() - t0
    return { ms, peak: await peakMiB(c.proc.pid) }
  } finally {
    await c.stop()
  }
}

/** The 1-minute load average now. */
const load1 = async (): Promise<number> => Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])

/**
 * (1) History sync from the server alone: the server holds one chat of N
 * messages (written by a client, or by the server's own seed mode for the
 * peers), is restarted, and a fresh client opens the chat.
 */
export async function benchHistory(key: SystemKey, n: number, runs: number): Promise<HistoryResult> {
  const r = (await benchHistoryInterleaved([key], n, runs)).get(key)!
  if ('error' in r) throw new Error(r.error)
  return r
}

/**
 * (1) for several systems at once, their timed runs interleaved: every system's server is
 * seeded, restarted and warmed up (its proxied run) first; then run i of each system, in an
 * order that turns by one every round, so that a change of the machine's load falls on all of
 * them alike. A system that fails is recorded as failed; the others go on.
 */
export async function benchHistoryInterleaved(keys: SystemKey[], n: number, runs: number): Promise<Map<SystemKey, HistoryResult | { error: string }>> {
  const timeoutMs = Math.max(120_000, n * 2)
  const out = new Map<SystemKey, HistoryResult | { error: string }>()
  const failed = (key: SystemKey, err: unknown): void => {
    out.set(key, {
      error: String((err as Error)?.message ?? err)
        .split('\n')[0]!
        .slice(0, 300)
    })
  }
  interface Prepared {
    key: SystemKey
    server: Server
    ref: ChatRef
    seedMs: number
    bytes: { up: number; down: number }
    payloadBytes?: number
    times: number[]
    peaks: number[]
    loads: number[]
  }
  const ready: Prepared[] = []
  try {
    for (const key of keys) {
      let server: Server | null = null
      try {
        const dataDir = await tempDir(`${key}-hist`)
        const s0 = performance.now()
        const ref = await seed(key, n, dataDir)
        const seedMs = performance.now() - s0
        server = await startServer(key, dataDir)
        // one run through the counting proxy: bytes on the wire (it also warms the server up)
        const proxy = await startProxy(server.port)
        const before = isTandem(key) ? await relayMetric(server, 'tandem_relay_backfill_bytes_total') : 0
        await oneRun(key, server, ref, n, timeoutMs, proxy.port)
        const bytes = await proxy.proc.request<{ up: number; down: number }>('report')
        const payloadBytes = isTandem(key) ? (await relayMetric(server, 'tandem_relay_backfill_bytes_total')) - before : undefined
        await proxy.proc.stop()
        ready.push({ key, server, ref, seedMs, bytes, payloadBytes, times: [], peaks: [], loads: [] })
      } catch (err) {
        if (server !== null) await terminate(server.proc)
        failed(key, err)
      }
    }
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < ready.length; j++) {
        const p = ready[(i + j) % ready.length]!
        if (out.has(p.key)) continue // failed in an earlier round
        try {
          p.loads.push(await load1())
          const r = await oneRun(p.key, p.server, p.ref, n, timeoutMs)
          p.times.push(r.ms)
          p.peaks.push(r.peak)
        } catch (err) {
          failed(p.key, err)
        }
      }
    }
    for (const p of ready) {
      if (out.has(p.key)) continue
      out.set(p.key, {
        system: p.key,
        n,
        runs,
        syncMs: median(p.times),
        allMs: p.times,
        loads: p.loads,
        bytesDown: p.bytes.down,
        bytesUp: p.bytes.up,
        bytesPerMessage: p.bytes.down / n,
        payloadBytes: p.payloadBytes,
        clientPeakMiB: median(p.peaks),
        serverPeakMiB: await peakMiB(p.server.proc.pid),
        serverRssMiB: await rssMiB(p.server.proc.pid),
        seedMs: p.seedMs
      })
    }
    return out
  } finally {
    for (const p of ready) await terminate(p.server.proc)
  }
}
