import { loadAvg, tempDir } from '../proc.js'
import { median } from '../stats.js'
import { startClient, startServer, terminate, type Client } from '../systems.js'
import { seed, startProxy } from './history.js'

export interface OnlineHistoryResult {
  n: number
  /** Other devices of the account online while the new one joins. */
  online: number
  runs: number
  /** ms from "join" to holding all N (median). */
  syncMs: number
  allMs: number[]
  /** TCP payload bytes relay → new device (its store stream and every circuit through the relay), first run. */
  bytesDown: number
  /** 1-minute load average before each run. */
  loads: number[]
}

/** Every device reaches the others only through the relay's circuit, so all it receives passes the counting proxy. */
const FLAGS = ['--no-sync', '--no-direct']

/**
 * (1c) History to a new device while `online` other devices of the account are online
 * (issue 13: the history comes once). The relay holds one chat of N messages; the other
 * devices have joined and hold it all; a fresh device joins through a counting proxy.
 * The target: time and bytes within 10 % of the relay-only case (online = 0).
 */
export async function benchHistoryOnline(n: number, onlineCounts: readonly number[], runs: number): Promise<OnlineHistoryResult[]> {
  const dataDir = await tempDir('tandem-online')
  const ref = await seed('tandem', n, dataDir)
  const server = await startServer('tandem', dataDir)
  const timeoutMs = Math.max(120_000, n * 2)
  const out: OnlineHistoryResult[] = []
  const online: Client[] = []
  try {
    for (const count of onlineCounts) {
      while (online.length < count) {
        const c = await startClient('tandem', `tandem-online-${online.length}`, server, { deviceFlags: FLAGS })
        online.push(c)
        await c.ready()
        await c.join(ref)
        await c.waitMessages(n, timeoutMs)
      }
      const times: number[] = []
      const loads: number[] = []
      let bytesDown = 0
      for (let run = 0; run < runs; run++) {
        loads.push((await loadAvg())[0]!)
        const proxy = await startProxy(server.port)
        const fresh = await startClient('tandem', 'tandem-online-fresh', server, { viaPort: proxy.port, deviceFlags: FLAGS })
        try {
          await fresh.ready()
          await fresh.prepareJoin(ref)
          const t0 = performance.now()
          await fresh.join(ref)
          await fresh.waitMessages(n, timeoutMs)
          times.push(performance.now() - t0)
          if (run === 0) bytesDown = (await proxy.proc.request<{ up: number; down: number }>('report')).down
        } finally {
          await fresh.stop()
          await proxy.proc.stop()
        }
      }
      out.push({ n, online: count, runs, syncMs: median(times), allMs: times, bytesDown, loads })
    }
    return out
  } finally {
    for (const c of online) await c.stop()
    await terminate(server.proc)
  }
}
