// (11) The first screen of a big chat on a new device, and (12) the device's memory once it holds
// the chat and shows the newest (issue 15, segmented chats). The server holds one chat of N
// messages written by a client (seeded as in (1): history.ts's `seed`, texts messageText(0, i));
// the writer is stopped, so a fresh client gets everything from the server alone.
import { loadAvg, peakMiB, rssMiB, sleep, tempDir } from '../proc.js'
import { median } from '../stats.js'
import { type ChatRef, type Client, isTandem, type Server, startClient, startServer, type SystemKey, type TandemRef, terminate } from '../systems.js'
import { messageText } from '../text.js'
import { seed } from './history.js'

/** Messages on a first screen. */
export const SCREEN = 50
/** After the whole history is in, RSS is read every SETTLE_STEP_MS over SETTLE_MS (the figure: the last reading). */
const SETTLE_MS = 2_000
const SETTLE_STEP_MS = 250

/**
 * What is run: a Tandem device fetching all of a long chat's history by itself (the default),
 * one fetching only the newest two segments (`--history recent`: a metered network), the peers.
 */
export type ScreenCase = 'tandem' | 'tandem-recent' | 'yws' | 'am'

export interface ScreenRun {
  /** ms from `join` to the first screen: Tandem `wait-screen` (SCREEN messages, the newest one's text); peers: all N (their first screen is the whole sync). */
  screenMs: number
  /** ms from `join` to all N (Tandem: `wait-messages` N; a `recent` device never holds them: absent). */
  allMs?: number
  /** Tandem: ms from `join` to the `history` event that says every segment it fetches by itself is in (all: segmentsFetched === segments; recent: 2). */
  historyMs?: number
  /** Tandem: the last `history` event (segments fetched / segments of the chat). */
  segmentsFetched?: number
  segments?: number
  /** Messages the client counts at the end (a `recent` device: the segments it holds). */
  count: number
  /** RSS at the first screen, when the history was in, and SETTLE_MS later (every SETTLE_STEP_MS), MiB. */
  rssAtScreenMiB: number
  rssAtHistoryMiB: number
  rssSettleMiB: number[]
  /** RSS after the settle (the figure), and the process's peak (VmHWM), MiB. */
  rssMiB: number
  peakMiB: number
  /** 1-minute load average before the run. */
  load: number
  /**
   * Tandem: where the first screen's time went, ms from `join`: accept-grant answered, the store
   * connection to the relay up (`relay` event), and the first three backfills caught up (`progress`
   * caughtUp: the account doc, the chat doc with the segment index, the newest segment).
   */
  phases?: { joinedMs: number; relayMs?: number; caughtUpMs: number[] }
}

export interface ScreenCaseResult {
  case: ScreenCase
  n: number
  runs: ScreenRun[]
  /** Medians over the runs. */
  screenMs: number
  allMs?: number
  historyMs?: number
  rssMiB: number
  peakMiB: number
  rssAtScreenMiB: number
  count: number
  segmentsFetched?: number
  segments?: number
  loads: number[]
  seedMs: number
  /** Tandem: medians of the runs' phases (ms from join). */
  phases?: { joinedMs: number; relayMs?: number; caughtUpMs: number[] }
}

export interface ScreenResult {
  n: number
  screen: number
  /** The text of the newest seeded message, what `wait-screen` waits for. */
  newestText: string
  settleMs: number
  cases: Partial<Record<ScreenCase, ScreenCaseResult | { error: string }>>
}

const errorText = (err: unknown): string =>
  String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 300)

/** A promise awaited later, or never if an earlier step fails: its rejection is not left unhandled. */
const later = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => {})
  return p
}

const systemOf = (c: ScreenCase): SystemKey => (c === 'tandem-recent' ? 'tandem' : c)

/** RSS readings every SETTLE_STEP_MS over SETTLE_MS: the unloader's moment after the last segment, and a GC's. */
async function settle(pid: number): Promise<number[]> {
  const out: number[] = []
  for (let t = 0; t < SETTLE_MS; t += SETTLE_STEP_MS) {
    await sleep(SETTLE_STEP_MS)
    out.push(await rssMiB(pid))
  }
  return out
}

/** One fresh Tandem device joining the account: first screen, whole history (or the newest two segments: `recent`), memory. */
async function tandemRun(c: ScreenCase, server: Server, ref: TandemRef, n: number, newestText: string, timeoutMs: number): Promise<ScreenRun> {
  const recent = c === 'tandem-recent'
  const client: Client = await startClient('tandem', `${c}-fresh`, server, { deviceFlags: ['--no-sync', ...(recent ? ['--history', 'recent'] : [])] })
  try {
    await client.ready()
    await client.prepareJoin(ref)
    const load = (await loadAvg())[0]!
    let last: { fetched: number; segments: number } | null = null
    let t0 = 0
    const phases: NonNullable<ScreenRun['phases']> = { joinedMs: 0, caughtUpMs: [] }
    const offPhases = client.proc.on(e => {
      if (e.event === 'relay' && e.connected === true && phases.relayMs === undefined) phases.relayMs = performance.now() - t0
      else if (e.event === 'progress' && e.caughtUp === true && phases.caughtUpMs.length < 3) phases.caughtUpMs.push(performance.now() - t0)
    })
    // every segment the device fetches by itself is in: all of them, or the newest two (`recent`)
    const history = later(
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          off()
          reject(new Error(`${client.label}: history ${last?.fetched ?? 0}/${last?.segments ?? '?'} segments after ${timeoutMs} ms`))
        }, timeoutMs)
        const off = client.proc.on(e => {
          if (e.event !== 'history' || e.chatId !== ref.chatId) return
          last = { fetched: Number(e.segmentsFetched), segments: Number(e.segments) }
          if (last.fetched >= (recent ? Math.min(2, last.segments) : last.segments)) {
            off()
            clearTimeout(timer)
            resolve(performance.now() - t0)
          }
        })
      })
    )
    t0 = performance.now()
    await client.join(ref)
    phases.joinedMs = performance.now() - t0
    // wait-screen runs in the device's command queue (after accept-grant); wait-messages beside it
    const screen = later(client.proc.request('wait-screen', { chatId: ref.chatId, count: SCREEN, text: newestText }, timeoutMs).then(() => performance.now() - t0))
    const all = recent ? null : later(client.waitMessages(n, timeoutMs).then(() => performance.now() - t0))
    // the newest message shown must be the newest seeded one: if the screen has not come 5 s after the history, say so
    const stuck = history.then(async () => {
      await sleep(5_000)
      throw new Error(`${client.label}: no first screen (${SCREEN} messages, the newest "${newestText.slice(0, 24)}…") 5 s after the history was in`)
    })
    const screenMs = await Promise.race([screen, later(stuck)])
    const rssAtScreenMiB = await rssMiB(client.proc.pid)
    const historyMs = await history
    const allMs = all === null ? undefined : await all
    const rssAtHistoryMiB = await rssMiB(client.proc.pid)
    const rssSettleMiB = await settle(client.proc.pid)
    const count = await client.waitMessages(1, 10_000) // the count it holds now
    offPhases()
    const seen = last as { fetched: number; segments: number } | null
    return {
      screenMs,
      allMs,
      historyMs,
      segmentsFetched: seen?.fetched,
      segments: seen?.segments,
      count,
      rssAtScreenMiB,
      rssAtHistoryMiB,
      rssSettleMiB,
      rssMiB: rssSettleMiB.at(-1)!,
      peakMiB: await peakMiB(client.proc.pid),
      load,
      phases
    }
  } finally {
    await client.stop()
  }
}

/** One fresh peer client opening the chat: its first screen is its whole sync (no partial history). */
async function peerRun(key: 'yws' | 'am', server: Server, ref: ChatRef, n: number, timeoutMs: number): Promise<ScreenRun> {
  const client = await startClient(key, `${key}-fresh`, server)
  try {
    await client.ready()
    await client.prepareJoin(ref)
    const load = (await loadAvg())[0]!
    const t0 = performance.now()
    await client.join(ref)
    await client.waitMessages(n, timeoutMs)
    const ms = performance.now() - t0
    const rssAt = await rssMiB(client.proc.pid)
    const rssSettleMiB = await settle(client.proc.pid)
    return {
      screenMs: ms,
      allMs: ms,
      count: n,
      rssAtScreenMiB: rssAt,
      rssAtHistoryMiB: rssAt,
      rssSettleMiB,
      rssMiB: rssSettleMiB.at(-1)!,
      peakMiB: await peakMiB(client.proc.pid),
      load
    }
  } finally {
    await client.stop()
  }
}

const medianPhases = (ps: NonNullable<ScreenRun['phases']>[]): NonNullable<ScreenRun['phases']> => ({
  joinedMs: median(ps.map(p => p.joinedMs)),
  relayMs: opt(ps.map(p => p.relayMs)),
  caughtUpMs: [0, 1, 2].flatMap(i => {
    const m = opt(ps.map(p => p.caughtUpMs[i]))
    return m === undefined ? [] : [m]
  })
})

const opt = (xs: Array<number | undefined>): number | undefined => (xs.every(x => x !== undefined) && xs.length > 0 ? median(xs as number[]) : undefined)

/**
 * (11) + (12). Every system's server is seeded (Tandem once, for both of its cases), restarted
 * and warmed up by one uncounted run of each case; then run i of each case, in an order that
 * turns by one every round (a change of the machine's load falls on all alike). A case that
 * fails is recorded as failed; the others go on. `fewer`: cases run fewer times (automerge-repo's
 * ~4 s runs in the quick plan). Tandem's `recent` case is not warmed up again: the `all` case's
 * warm-up ran on the same relay.
 */
export async function benchScreen(cases: ScreenCase[], n: number, runs: number, fewer: Partial<Record<ScreenCase, number>> = {}): Promise<ScreenResult> {
  const timeoutMs = Math.max(120_000, n * 2)
  const newestText = messageText(0, n - 1) // history.ts seeds with seed 0: message i is messageText(0, i)
  const out: ScreenResult['cases'] = {}
  interface Prepared {
    c: ScreenCase
    server: Server
    ref: ChatRef
    seedMs: number
    runs: ScreenRun[]
  }
  const servers = new Map<SystemKey, { server: Server; ref: ChatRef; seedMs: number } | { error: string }>()
  const ready: Prepared[] = []
  const run = (p: Prepared): Promise<ScreenRun> =>
    isTandem(systemOf(p.c)) ? tandemRun(p.c, p.server, p.ref as TandemRef, n, newestText, timeoutMs) : peerRun(p.c as 'yws' | 'am', p.server, p.ref, n, timeoutMs)
  try {
    for (const c of cases) {
      const key = systemOf(c)
      try {
        if (!servers.has(key)) {
          let server: Server | null = null
          try {
            const dataDir = await tempDir(`${key}-screen`)
            const s0 = performance.now()
            const ref = await seed(key, n, dataDir)
            const seedMs = performance.now() - s0
            server = await startServer(key, dataDir)
            servers.set(key, { server, ref, seedMs })
          } catch (err) {
            if (server !== null) await terminate(server.proc)
            servers.set(key, { error: errorText(err) })
          }
        }
        const s = servers.get(key)!
        if ('error' in s) throw new Error(s.error)
        const p: Prepared = { c, server: s.server, ref: s.ref, seedMs: s.seedMs, runs: [] }
        if (!(c === 'tandem-recent' && ready.some(x => x.c === 'tandem'))) {
          const warm = await run(p) // warms the server up; not counted
          if (isTandem(key) && warm.count < (c === 'tandem' ? n : 1)) throw new Error(`${c}: the warm-up device held ${warm.count} of ${n} messages`)
        }
        ready.push(p)
      } catch (err) {
        out[c] = { error: errorText(err) }
      }
    }
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < ready.length; j++) {
        const p = ready[(i + j) % ready.length]!
        if (out[p.c] !== undefined || p.runs.length >= (fewer[p.c] ?? runs)) continue // failed in an earlier round, or done
        try {
          p.runs.push(await run(p))
        } catch (err) {
          out[p.c] = { error: errorText(err) }
        }
      }
    }
    for (const p of ready) {
      if (out[p.c] !== undefined) continue
      const r = p.runs
      out[p.c] = {
        case: p.c,
        n,
        runs: r,
        screenMs: median(r.map(x => x.screenMs)),
        allMs: opt(r.map(x => x.allMs)),
        historyMs: opt(r.map(x => x.historyMs)),
        rssMiB: median(r.map(x => x.rssMiB)),
        peakMiB: median(r.map(x => x.peakMiB)),
        rssAtScreenMiB: median(r.map(x => x.rssAtScreenMiB)),
        count: median(r.map(x => x.count)),
        segmentsFetched: opt(r.map(x => x.segmentsFetched)),
        segments: opt(r.map(x => x.segments)),
        loads: r.map(x => x.load),
        seedMs: p.seedMs,
        phases: r.every(x => x.phases !== undefined) ? medianPhases(r.map(x => x.phases!)) : undefined
      }
    }
    return { n, screen: SCREEN, newestText, settleMs: SETTLE_MS, cases: out }
  } finally {
    for (const s of servers.values()) if (!('error' in s)) await terminate(s.server.proc)
  }
}
