import { cpuSeconds, JsonProcess, rssMiB, script, sleep, tempDir } from '../proc.js'
import { relayMetric, startServer } from '../systems.js'

export interface ScaleResult {
  devices: number
  processes: number
  connected: number
  connectMs: number
  /** Device starts retried, and why they failed (a busy relay: dial or reservation timeouts). */
  retries: number
  startErrors: Record<string, number>
  /** Relay RSS (MiB) and CPU (% of one core) with every device connected and idle. */
  idleRssMiB: number
  idleCpuPct: number
  active: number
  /** Each active device sends one message every `intervalMs`. */
  intervalMs: number
  activeRssMiB: number
  activeCpuPct: number
  /** Messages sent and acknowledged by the relay during the active window. */
  sent: number
  acked: number
  windowS: number
}

/** (6) Relay scale: `devices` connected devices (in `processes` swarm processes), idle, then `active` of them sending. */
export async function benchRelayScale(devices: number, processes: number, active: number, intervalMs: number, windowS: number): Promise<ScaleResult> {
  const relay = await startServer('tandem', await tempDir('scale'))
  const swarms: JsonProcess[] = []
  try {
    const per = Math.ceil(devices / processes)
    for (let p = 0; p < processes; p++) {
      swarms.push(
        new JsonProcess(`swarm-${p}`, 'node', [
          '--max-old-space-size=4096',
          script('tools/swarm.js'),
          '--relay',
          `/ip4/127.0.0.1/tcp/${relay.port}/p2p/${relay.peerId!}`,
          '--devices',
          String(Math.min(per, devices - p * per)),
          '--stagger-ms',
          String(30 * processes),
          '--index-base',
          String(p * per)
        ])
      )
    }
    const t0 = performance.now()
    const started = await Promise.all(swarms.map(s => s.request<{ started: number; failed: number; retries: number; errors: Record<string, number> }>('start', {}, 900_000)))
    const connectMs = performance.now() - t0
    const stats = await Promise.all(swarms.map(s => s.request<{ connected: number }>('stats')))
    const connected = stats.reduce((a, s) => a + s.connected, 0)
    const startErrors: Record<string, number> = {}
    for (const s of started) for (const [k, v] of Object.entries(s.errors)) startErrors[k] = (startErrors[k] ?? 0) + v
    const retries = started.reduce((a, s) => a + s.retries, 0)
    process.stderr.write(
      `relay scale: ${started.reduce((a, s) => a + s.started, 0)} started (${retries} retries), ${connected} connected, relay connections metric ${await relayMetric(relay, 'tandem_relay_connections')}; start errors ${JSON.stringify(startErrors)}\n`
    )
    const window = async (): Promise<{ rss: number; cpu: number }> => {
      const c0 = await cpuSeconds(relay.proc.pid)
      await sleep(windowS * 1000)
      const c1 = await cpuSeconds(relay.proc.pid)
      return { rss: await rssMiB(relay.proc.pid), cpu: (100 * (c1 - c0)) / windowS }
    }
    await sleep(5_000)
    const idle = await window()
    const perActive = Math.ceil(active / processes)
    await Promise.all(swarms.map((s, p) => s.request('activate', { count: Math.min(perActive, active - p * perActive), intervalMs })))
    await sleep(intervalMs + 2_000)
    const busy = await window()
    const counts = await Promise.all(swarms.map(s => s.request<{ sent: number; acked: number }>('quiet')))
    return {
      devices,
      processes,
      connected,
      connectMs,
      retries,
      startErrors,
      idleRssMiB: idle.rss,
      idleCpuPct: idle.cpu,
      active,
      intervalMs,
      activeRssMiB: busy.rss,
      activeCpuPct: busy.cpu,
      sent: counts.reduce((a, c) => a + c.sent, 0),
      acked: counts.reduce((a, c) => a + c.acked, 0),
      windowS
    }
  } finally {
    await Promise.all(swarms.map(s => s.stop(120_000)))
    await relay.stop()
  }
}
