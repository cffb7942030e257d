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

/**
 * (1) History sync from the server alone: the server holds one chat of N
 * messages (written by a client, or by the server's own seed mode for the
 * peers), is restarted, and a fresh client opens the chat.
 */
export async function benchHistory(key: SystemKey, n: number, runs: number): Promise<HistoryResult> {
  const dataDir = await tempDir(`${key}-hist`)
  const timeoutMs = Math.max(120_000, n * 2)
  const s0 = performance.now()
  const ref = await seed(key, n, dataDir)
  const seedMs = performance.now() - s0
  const server = await startServer(key, dataDir)
  try {
    // one run through the counting proxy: bytes on the wire (it also warms the server up)
    const proxy = await startProxy(server.port)
    const before = isTandem(key) ? await relayMetric(server, 'tandem_relay_backfill_bytes_total') : 0
    await oneRun(key, server, ref, n, timeoutMs, proxy.port)
    const bytes = await proxy.proc.request<{ up: number; down: number }>('report')
    const payloadBytes = isTandem(key) ? (await relayMetric(server, 'tandem_relay_backfill_bytes_total')) - before : undefined
    await proxy.proc.stop()
    const times: number[] = []
    const peaks: number[] = []
    for (let i = 0; i < runs; i++) {
      const r = await oneRun(key, server, ref, n, timeoutMs)
      times.push(r.ms)
      peaks.push(r.peak)
    }
    return {
      system: key,
      n,
      runs,
      syncMs: median(times),
      allMs: times,
      bytesDown: bytes.down,
      bytesUp: bytes.up,
      bytesPerMessage: bytes.down / n,
      payloadBytes,
      clientPeakMiB: median(peaks),
      serverPeakMiB: await peakMiB(server.proc.pid),
      serverRssMiB: await rssMiB(server.proc.pid),
      seedMs
    }
  } finally {
    await terminate(server.proc)
  }
}
