// `npm run bench` (quick, < 3 minutes) or `npm run bench -- --full`; `--only a,b` runs some
// sections (history, online, link, browser, app, screen, latency, throughput, merge, idle, cold, scale, limits, store, seal, ticks, search, people, group);
// `--plain` adds Tandem without end-to-end encryption (commit 4e8b2c9, built on demand: plain.ts).
// Prints a table and writes bench/results/latest.json and latest.md (and a dated copy).
import '@tandem/engine/polyfill'
import { execSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { benchBrowserHistory, type BrowserHistoryResult } from './measures/browser.js'
import { type AppLoadResult, benchAppLoad } from './measures/app-load.js'
import { benchColdStart, type ColdStartResult } from './measures/coldstart.js'
import { benchHistory, benchHistoryInterleaved, type HistoryResult } from './measures/history.js'
import { benchHistoryOnline, type OnlineHistoryResult } from './measures/online.js'
import { type IdleCase, type IdleResult, type IdleRun, startIdle } from './measures/idle.js'
import { benchLink, type LinkResult } from './measures/link.js'
import { benchTcp, benchYjs } from './measures/limits.js'
import { benchLatency, benchLatencyInterleaved, benchThroughput, benchThroughputInterleaved, type LatencyResult, type ThroughputResult } from './measures/live.js'
import { benchMerge, benchMergeCut, type MergeResult } from './measures/merge.js'
import { benchRelayScale, type ScaleResult } from './measures/scale.js'
import { benchSeal, type SealResult } from './measures/seal.js'
import { benchTicks, type TicksResult } from './measures/ticks.js'
import { benchPeople, type PeopleResult } from './measures/people.js'
import { benchGroup, type GroupResult } from './measures/group.js'
import { benchSearch, type SearchBenchResult } from './measures/search.js'
import { benchScreen, type ScreenCase, type ScreenCaseResult, type ScreenResult } from './measures/screen.js'
import { ensurePlainBuild, PLAIN_COMMIT } from './plain.js'
import { removeTempDirs } from './proc.js'
import { benchStoreWrite } from './store-write.js'
import { isTandem as isTandemKey, SYSTEM_NAMES, type SystemKey } from './systems.js'

const argv = process.argv.slice(2)
const USAGE = `usage: npm run bench [-- options]
  --full                 the full plan (21–25 min) instead of the quick one (< 3 min)
  --only a,b             some sections: history, online, link, browser, app, screen, latency, throughput, merge, idle, cold, scale, limits, store, seal, ticks, search, people, group
  --systems a,b          the systems compared: tandem, yws (y-websocket), am (automerge-repo), tandem-plain; default tandem,yws,am
  --plain                add tandem-plain: Tandem without end-to-end encryption, the device and relay of commit ${PLAIN_COMMIT}
                         (built on demand outside the repository, ~10 s; in history, latency and throughput via the relay)
  --interleave           runs in turns: history (every system seeded first), latency and throughput via the relay
                         (sealed and plain Tandem); the default with --plain, --no-interleave: one system after another
  --history-sizes N,M    other history sizes (1,000,000 on request: see bench/README.md)
  --runs N               N runs (median) of every measure that repeats, instead of the plan's count
  --help                 this text`
const OPTIONS = {
  full: { type: 'boolean', default: false },
  only: { type: 'string' },
  systems: { type: 'string', default: 'tandem,yws,am' },
  'history-sizes': { type: 'string' },
  runs: { type: 'string' },
  plain: { type: 'boolean', default: false },
  interleave: { type: 'boolean' },
  help: { type: 'boolean', default: false }
} as const
let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>
try {
  parsed = parseArgs({ args: argv, options: OPTIONS, allowNegative: true })
} catch (err) {
  // an unknown or malformed option: one line and the usage, not a stack trace
  process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`)
  process.exit(2)
}
const args = parsed.values
if (args.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const full = args.full
const only = args.only === undefined ? null : new Set(args.only.split(','))
const want = (section: string): boolean => (only === null ? (section !== 'scale' && section !== 'store' && section !== 'group') || full : only.has(section))
const SYSTEMS = args.systems.split(',') as SystemKey[]
for (const s of SYSTEMS) {
  if (!(s in SYSTEM_NAMES)) {
    process.stderr.write(`bench: unknown system ${s}\n${USAGE}\n`)
    process.exit(2)
  }
}
/** History runs of the systems in turns (default with tandem-plain: its ratio to sealed Tandem is the figure). */
const interleave = args.interleave ?? (args.plain || SYSTEMS.includes('tandem-plain'))
if (args.plain && !SYSTEMS.includes('tandem-plain')) SYSTEMS.splice(SYSTEMS.includes('tandem') ? SYSTEMS.indexOf('tandem') + 1 : 0, 0, 'tandem-plain')

/** Quick and full plans. Where quick scales a measure down, the table says so. */
const plan = full
  ? {
      history: [10_000, 100_000],
      historyRuns: 3,
      millionRuns: 1, // 1,000,000 on request (--history-sizes): see the README
      online: { n: 100_000, counts: [0, 1, 3] },
      link: 100_000,
      browser: [10_000, 100_000],
      browserRuns: 3,
      app: 100_000, // the issue's device "that already holds 100,000 messages"
      appRuns: 3,
      screen: 1_000_000, // issue 15's chat: seeding it takes minutes
      screenRuns: 3,
      screenAmRuns: 3, // (not run at 1M)
      latency: 1_000,
      latencyAm: 1_000,
      latencyRuns: 3,
      throughput: 20_000,
      throughputAm: 5_000,
      throughputRuns: 5,
      merge: 10_000,
      mergeAm: 10_000,
      mergeRuns: 3,
      mergeAmCutRuns: 3,
      idleWindowS: 60,
      cold: { chats: 1_000, perChat: 1_000 },
      coldRuns: 3,
      scale: { devices: 1_000, processes: 5, active: 100, intervalMs: 1_000, windowS: 30 },
      tcpBytes: 1024 * 2 ** 20,
      yjs: [10_000, 100_000],
      seal: { snapshot: 100_000, rounds: 5, liveCalls: 500 },
      ticks: 1_000,
      search: { messages: 100_000, queries: 400 },
      people: 1_000,
      group: { accounts: 50, processes: 4, messages: 20 }
    }
  : {
      history: [10_000],
      historyRuns: 3,
      millionRuns: 1,
      online: { n: 10_000, counts: [0, 1, 3] },
      link: 100_000, // the issue's figure (seeding 100k takes ~10 s)
      browser: [10_000],
      browserRuns: 3,
      app: 100_000, // the issue's figure (seeding 100k takes ~10 s, filling the browser ~2 s)
      appRuns: 3,
      screen: 20_000, // scaled down from the issue's 1,000,000 (the table says so)
      screenRuns: 3,
      screenAmRuns: 1, // ~4 s a run
      latency: 200,
      latencyAm: 50,
      latencyRuns: 3,
      throughput: 2_000,
      throughputAm: 500,
      throughputRuns: 3,
      merge: 1_000,
      mergeAm: 500,
      mergeRuns: 3,
      mergeAmCutRuns: 1, // ~10 s a run
      idleWindowS: 60,
      cold: { chats: 10, perChat: 1_000 },
      coldRuns: 3,
      scale: { devices: 100, processes: 2, active: 10, intervalMs: 1_000, windowS: 10 },
      tcpBytes: 256 * 2 ** 20,
      yjs: [10_000],
      seal: { snapshot: 50_000, rounds: 3, liveCalls: 200 },
      ticks: 200,
      search: { messages: 100_000, queries: 200 }, // the issue's figure (seeding 100k in-process takes ~20–40 s)
      people: 200,
      group: { accounts: 50, processes: 4, messages: 5 } // the issue's 50 accounts (run with --full or --only group); each message waits for the relay to be idle again
    }

if (args['history-sizes'] !== undefined) plan.history = args['history-sizes'].split(',').map(Number)
if (args.runs !== undefined) {
  const runs = Number(args.runs)
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1')
  Object.assign(plan, {
    historyRuns: runs,
    browserRuns: runs,
    appRuns: runs,
    screenRuns: runs,
    screenAmRuns: runs,
    latencyRuns: runs,
    throughputRuns: runs,
    mergeRuns: runs,
    mergeAmCutRuns: runs,
    coldRuns: runs
  })
}

const resultsDir = new URL('../results/', import.meta.url)
const started = new Date()
const results: Record<string, unknown> = {
  date: started.toISOString(),
  mode: full ? 'full' : 'quick',
  argv,
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memGiB: Math.round(totalmem() / 2 ** 30),
  loadavgAtStart: (await readFile('/proc/loadavg', 'utf8')).trim(),
  plan,
  commit: (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim()
    } catch {
      return null
    }
  })(),
  dirty: (() => {
    try {
      return execSync('git status --porcelain -- packages apps', { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
    } catch {
      return null
    }
  })()
}
const log = (s: string): void => {
  process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(0)}s] ${s}\n`)
}
// a request left pending by a measurement that failed rejects when its process is stopped: noted, and the suite goes on
process.on('unhandledRejection', err => {
  log(`(a rejection nothing waited for: ${String((err as Error)?.message ?? err).split('\n')[0]})`)
})

async function save(): Promise<void> {
  await mkdir(resultsDir, { recursive: true })
  await writeFile(new URL('latest.json', resultsDir), JSON.stringify(results, null, 2))
}

/** Runs one measurement; a failure is recorded (and shown in the table) instead of ending the suite. */
async function attempt<T>(name: string, fn: () => Promise<T> | T): Promise<T | { error: string }> {
  log(`${name} …`)
  const t0 = performance.now()
  try {
    const r = await fn()
    log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    results[name] = r
    return r
  } catch (err) {
    const error = String((err as Error)?.message ?? err)
      .split('\n')[0]!
      .slice(0, 300)
    log(`${name} FAILED: ${error}`)
    results[name] = { error }
    return { error }
  } finally {
    await removeTempDirs()
    await save()
  }
}
const has = (s: SystemKey): boolean => SYSTEMS.includes(s)
const ok = <T>(r: T | { error: string } | undefined): r is T => r !== undefined && !(typeof r === 'object' && r !== null && 'error' in r)

// ── run ──────────────────────────────────────────────────────────────────────

if (has('tandem-plain')) {
  // built (or found) before anything is measured; without it the run goes on without that system
  try {
    const b = await ensurePlainBuild(log)
    results.plain = { commit: b.commit, dir: b.dir }
  } catch (err) {
    log(`${String((err as Error).message)}; going on without tandem-plain`)
    results.plain = { error: String((err as Error).message) }
    SYSTEMS.splice(SYSTEMS.indexOf('tandem-plain'), 1)
  }
}
/** The 1-minute load average now. */
const load1 = async (): Promise<number> => Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])
/** The 1-minute load average before each measurement of a section (history, latency, throughput), for the table. */
const loads = new Map<string, number>()
const loaded = async <T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> => {
  loads.set(name, await load1())
  return await attempt(name, fn)
}

// (9) idle traffic: the clients are set up first, and their window (60 s) runs beside the sections
// below (idle processes use next to no CPU: the table says how little); read at the end
let idleRun: IdleRun | { error: string } | undefined
if (want('idle')) {
  // Tandem alone and with a second device online through the circuit, and the peers, in one window
  const cases: IdleCase[] = []
  for (const s of SYSTEMS) cases.push(...(isTandemKey(s) ? [s, `${s}+1` as IdleCase] : [s]))
  idleRun = await attempt('idle.setup', () => startIdle(cases, plan.idleWindowS))
  delete results['idle.setup']
}

const history = new Map<string, HistoryResult | { error: string }>()
if (want('history')) {
  for (const n of plan.history) {
    const runs = n >= 1_000_000 ? plan.millionRuns : plan.historyRuns
    if (interleave) {
      // every system seeded and warmed up first, then their timed runs in turns (history.ts)
      const r = await attempt(`history.${n}`, () => benchHistoryInterleaved(SYSTEMS, n, runs))
      for (const s of SYSTEMS) {
        const x = ok(r) ? (r.get(s) ?? { error: 'not measured' }) : r
        history.set(`${s}:${n}`, x)
        results[`history.${s}.${n}`] = x
      }
      delete results[`history.${n}`]
    } else for (const s of SYSTEMS) history.set(`${s}:${n}`, await attempt(`history.${s}.${n}`, () => benchHistory(s, n, runs)))
  }
}
let online: OnlineHistoryResult[] | { error: string } | undefined
if (want('online') && has('tandem')) online = await attempt(`online.${plan.online.n}`, () => benchHistoryOnline(plan.online.n, plan.online.counts, plan.historyRuns))
let link: LinkResult | { error: string } | undefined
if (want('link') && has('tandem')) link = await attempt(`link.${plan.link}`, () => benchLink(plan.link, plan.historyRuns))
const browserHistory = new Map<number, BrowserHistoryResult | { error: string }>()
if (want('browser') && has('tandem')) {
  for (const n of plan.browser) browserHistory.set(n, await attempt(`browser.${n}`, () => benchBrowserHistory(n, plan.browserRuns)))
}
let appLoad: AppLoadResult | { error: string } | undefined
if (want('app') && has('tandem')) appLoad = await attempt(`app.${plan.app}`, () => benchAppLoad(plan.app, plan.appRuns))
// (11) first screen of a big chat, (12) the device's memory holding it (issue 15, segmented chats); automerge-repo
// only up to 100k (at 1M its seeding and sync take many minutes and GBs: not run, the table says so)
let screen: ScreenResult | { error: string } | undefined
const screenAm = plan.screen <= 100_000
if (want('screen')) {
  const cases: ScreenCase[] = []
  if (has('tandem')) cases.push('tandem', 'tandem-recent')
  if (has('yws')) cases.push('yws')
  if (has('am') && screenAm) cases.push('am')
  if (cases.length > 0) screen = await loaded(`screen.${plan.screen}`, () => benchScreen(cases, plan.screen, plan.screenRuns, { am: plan.screenAmRuns }))
}
const latency = new Map<string, LatencyResult | { error: string }>()
if (want('latency')) {
  if (has('tandem') && has('tandem-plain') && interleave) {
    // sealed and plain via the relay, their runs in turns (live.ts)
    const r = await attempt('latency.relay', () => benchLatencyInterleaved(['tandem', 'tandem-plain'], 'server', plan.latency, plan.latencyRuns))
    delete results['latency.relay']
    for (const key of ['tandem', 'tandem-plain'] as const) {
      const x = ok(r) ? r.get(key)! : r
      latency.set(`${key}:server`, x)
      results[`latency.${key}.relay`] = x
    }
  } else {
    if (has('tandem')) latency.set('tandem:server', await attempt('latency.tandem.relay', () => benchLatency('tandem', 'server', plan.latency, plan.latencyRuns)))
    if (has('tandem-plain'))
      latency.set('tandem-plain:server', await attempt('latency.tandem-plain.relay', () => benchLatency('tandem-plain', 'server', plan.latency, plan.latencyRuns)))
  }
  if (has('tandem')) latency.set('tandem:direct', await attempt('latency.tandem.direct', () => benchLatency('tandem', 'direct', plan.latency, plan.latencyRuns)))
  if (has('yws')) latency.set('yws:server', await attempt('latency.yws', () => benchLatency('yws', 'server', plan.latency, plan.latencyRuns)))
  // (automerge-repo takes ~100 ms a message: one run)
  if (has('am')) latency.set('am:server', await attempt('latency.am', () => benchLatency('am', 'server', plan.latencyAm, 1)))
}
const throughput = new Map<string, ThroughputResult | { error: string }>()
if (want('throughput')) {
  if (has('tandem') && has('tandem-plain') && interleave) {
    const r = await attempt('throughput.relay', () => benchThroughputInterleaved(['tandem', 'tandem-plain'], 'server', plan.throughput, plan.throughputRuns))
    delete results['throughput.relay']
    for (const key of ['tandem', 'tandem-plain'] as const) {
      const x = ok(r) ? r.get(key)! : r
      throughput.set(`${key}:server`, x)
      results[`throughput.${key}.relay`] = x
    }
  } else {
    if (has('tandem')) throughput.set('tandem:server', await attempt('throughput.tandem.relay', () => benchThroughput('tandem', 'server', plan.throughput, plan.throughputRuns)))
    if (has('tandem-plain'))
      throughput.set('tandem-plain:server', await attempt('throughput.tandem-plain.relay', () => benchThroughput('tandem-plain', 'server', plan.throughput, plan.throughputRuns)))
  }
  if (has('tandem')) throughput.set('tandem:direct', await attempt('throughput.tandem.direct', () => benchThroughput('tandem', 'direct', plan.throughput, plan.throughputRuns)))
  if (has('yws')) throughput.set('yws:server', await attempt('throughput.yws', () => benchThroughput('yws', 'server', plan.throughput, plan.throughputRuns)))
  if (has('am')) throughput.set('am:server', await attempt('throughput.am', () => benchThroughput('am', 'server', plan.throughputAm, plan.throughputRuns)))
}
const merge = new Map<string, MergeResult | { error: string }>()
if (want('merge')) {
  if (has('tandem')) merge.set('tandem:direct', await attempt('merge.tandem.direct', () => benchMerge('tandem', 'direct', plan.merge, plan.mergeRuns)))
  if (has('tandem')) merge.set('tandem:server', await attempt('merge.tandem.relay', () => benchMerge('tandem', 'server', plan.merge, plan.mergeRuns)))
  if (has('yws')) merge.set('yws:server', await attempt('merge.yws', () => benchMerge('yws', 'server', plan.merge, plan.mergeRuns)))
  if (has('am')) merge.set('am:server', await attempt('merge.am', () => benchMerge('am', 'server', plan.mergeAm, plan.mergeRuns)))
  // the peers through a network cut, like Tandem via the relay: from the network's return, their own reconnect included
  if (has('yws')) merge.set('yws:cut', await attempt('merge.yws.cut', () => benchMergeCut('yws', plan.merge, plan.mergeRuns)))
  if (has('am')) merge.set('am:cut', await attempt('merge.am.cut', () => benchMergeCut('am', plan.mergeAm, plan.mergeAmCutRuns)))
}
let idle: Partial<Record<IdleCase, IdleResult>> | { error: string } | undefined
if (idleRun !== undefined && ok(idleRun)) {
  const run = idleRun
  idle = await attempt('idle', async () => {
    try {
      return Object.fromEntries(await run.results()) as Partial<Record<IdleCase, IdleResult>>
    } finally {
      await run.stop()
    }
  })
} else if (idleRun !== undefined) idle = idleRun
const cold = new Map<string, ColdStartResult | { error: string }>()
if (want('cold')) {
  // (tandem-plain: its relay's store would be seeded by this build's engines; not measured)
  for (const s of SYSTEMS.filter(x => x !== 'tandem-plain')) cold.set(s, await attempt(`cold.${s}`, () => benchColdStart(s, plan.cold.chats, plan.cold.perChat, plan.coldRuns)))
}
let scale: ScaleResult | { error: string } | undefined
if (want('scale')) {
  const p = plan.scale
  scale = await attempt('scale', () => benchRelayScale(p.devices, p.processes, p.active, p.intervalMs, p.windowS))
}
const limits: Record<string, unknown> = {}
if (want('limits')) {
  limits.tcp = await attempt('limits.tcp', () => benchTcp(plan.tcpBytes, 3))
  for (const n of plan.yjs) limits[`yjs${n}`] = await attempt(`limits.yjs.${n}`, () => benchYjs(n, 3))
}
if (want('store')) await attempt('store', () => benchStoreWrite(full))
let sealing: SealResult | { error: string } | undefined
if (want('seal')) sealing = await loaded('seal', () => benchSeal(plan.seal))
let ticks: TicksResult | { error: string } | undefined
if (want('ticks')) ticks = await loaded('ticks', () => benchTicks(plan.ticks))
let people: PeopleResult | { error: string } | undefined
if (want('people')) people = await loaded('people', () => benchPeople(plan.people))
let group: GroupResult | { error: string } | undefined
if (want('group')) group = await loaded('group', () => benchGroup(plan.group.accounts, plan.group.processes, plan.group.messages))
let search: SearchBenchResult | { error: string } | undefined
if (want('search')) search = await loaded('search', () => benchSearch(plan.search.messages, plan.search.queries))
results.loadavgAtEnd = (await readFile('/proc/loadavg', 'utf8')).trim()
results.elapsedS = Math.round(performance.now() / 1000)
await save()

// ── table ────────────────────────────────────────────────────────────────────

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const ms = (x: number): string => (x < 10 ? `${fmt(x, 2)} ms` : `${fmt(x)} ms`)
const cell = <T>(r: T | { error: string } | undefined, f: (r: T) => string): string => (r === undefined ? '—' : ok(r) ? f(r) : `failed (${r.error.slice(0, 60)})`)
const loadRange = (xs: number[]): string => {
  const [lo, hi] = [fmt(Math.min(...xs), 1), fmt(Math.max(...xs), 1)]
  return `load ${lo}${hi !== lo ? `–${hi}` : ''}`
}
const k = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n))
type Row = [string, string, string, string, string]
const rows: Row[] = []
const verdicts: string[] = []
const verdict = (text: string, met: boolean | null): void => {
  verdicts.push(`${met === null ? '?' : met ? 'MET' : 'MISSED'}  ${text}`)
}

const showPlain = has('tandem-plain')
/** tandem-plain's cell of a row (a column of its own, shown only when it ran). */
const plainCells = new Map<Row, string>()
const push = (row: Row, plainCell = '—'): void => {
  rows.push(row)
  plainCells.set(row, plainCell)
}
const loadCell = (name: string): string => (loads.has(name) ? fmt(loads.get(name)!, 1) : '—')
const ratio = (label: string, a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '' : `${label} ${fmt(a / b, 2)}×`)
const joined = (...xs: string[]): string => xs.filter(Boolean).join('; ')

for (const n of want('history') ? plan.history : []) {
  const [t, p, y, a] = (['tandem', 'tandem-plain', 'yws', 'am'] as const).map(s => history.get(`${s}:${n}`))
  const time = (r: HistoryResult): string => ms(r.syncMs)
  const bytes = (r: HistoryResult): string => `${fmt(r.bytesDown / 2 ** 20, 2)} MiB (${fmt(r.bytesPerMessage, showPlain ? 1 : 0)} B)`
  const rss = (r: HistoryResult): string => `${fmt(r.clientPeakMiB)} / ${fmt(r.serverPeakMiB)}`
  const v = <T>(r: T | { error: string } | undefined, f: (x: T) => number): number | undefined => (ok(r) ? f(r) : undefined)
  push(
    [
      `(1) history sync from the server, N = ${k(n)}: time to all N`,
      cell(t, time),
      cell(y, time),
      cell(a, time),
      joined(
        ratio(
          'Tandem/y-ws',
          v(t, r => r.syncMs),
          v(y, r => r.syncMs)
        ),
        ratio(
          'sealed/plain',
          v(t, r => r.syncMs),
          v(p, r => r.syncMs)
        ),
        ratio(
          'plain/y-ws',
          v(p, r => r.syncMs),
          v(y, r => r.syncMs)
        )
      )
    ],
    cell(p, time)
  )
  push(
    [
      `    bytes server→client (per message)`,
      cell(t, bytes),
      cell(y, bytes),
      cell(a, bytes),
      joined(
        ratio(
          'Tandem/automerge',
          v(t, r => r.bytesPerMessage),
          v(a, r => r.bytesPerMessage)
        ),
        ratio(
          'sealed/plain',
          v(t, r => r.bytesDown),
          v(p, r => r.bytesDown)
        )
      )
    ],
    cell(p, bytes)
  )
  push([`    peak RSS client / server (MiB)`, cell(t, rss), cell(y, rss), cell(a, rss), ''], cell(p, rss))
  const runLoads = (r: HistoryResult): string => loadRange(r.loads)
  push([`    load average (1 min) before the timed runs`, cell(t, runLoads), cell(y, runLoads), cell(a, runLoads), interleave ? 'runs interleaved' : ''], cell(p, runLoads))

  if (n === 10_000 && ok(t) && ok(y))
    verdict(
      `history to a new device ≤ y-websocket's in the same run, N = ${k(n)} (issue 15): ${ms(t.syncMs)} vs ${ms(y.syncMs)} (${fmt(t.syncMs / y.syncMs, 2)}×)`,
      t.syncMs <= y.syncMs
    )
  if (ok(t)) verdict(`bytes per message of history ≤ 50 B, N = ${k(n)} (issue 15): ${fmt(t.bytesPerMessage, 1)} B (${fmt(t.bytesPerMessage / 50, 2)}×)`, t.bytesPerMessage <= 50)
  if (n >= 100_000 && ok(t) && ok(y))
    verdict(`history sync faster than y-websocket at N = ${k(n)}: Tandem/y-ws = ${fmt(t.syncMs / y.syncMs, 2)}× (${ms(t.syncMs)} vs ${ms(y.syncMs)})`, t.syncMs < y.syncMs)
  if (ok(t) && ok(a))
    verdict(
      `fewer bytes per message than automerge-repo (N = ${k(n)}): ${fmt(t.bytesPerMessage)} vs ${fmt(a.bytesPerMessage)} B = ${fmt(t.bytesPerMessage / a.bytesPerMessage, 2)}×`,
      t.bytesPerMessage < a.bytesPerMessage
    )
  if (ok(t) && ok(p)) {
    verdict(
      `history with encryption within 15 % of Tandem without (${PLAIN_COMMIT}), N = ${k(n)}: sealed/plain = ${fmt(t.syncMs / p.syncMs, 2)}× (${ms(t.syncMs)} vs ${ms(p.syncMs)})`,
      t.syncMs <= 1.15 * p.syncMs
    )
    verdict(
      `history bytes per message with encryption within 10 % of without, N = ${k(n)}: ${fmt(t.bytesPerMessage, 1)} vs ${fmt(p.bytesPerMessage, 1)} B = ${fmt(t.bytesDown / p.bytesDown, 3)}×`,
      t.bytesDown <= 1.1 * p.bytesDown
    )
  }
}
if (online !== undefined && ok(online)) {
  const alone = online.find(r => r.online === 0)
  for (const r of online) {
    const vs = alone === undefined || r === alone ? '' : ` (${fmt(r.syncMs / alone.syncMs, 2)}× / ${fmt(r.bytesDown / alone.bytesDown, 2)}× of none online)`
    rows.push([
      `(1c) history to a new device with ${r.online} other device${r.online === 1 ? '' : 's'} of the account online (circuits through the relay), N = ${k(r.n)}: time / bytes down`,
      `${ms(r.syncMs)} / ${fmt(r.bytesDown / 2 ** 20, 2)} MiB${vs}; ${loadRange(r.loads)}`,
      '—',
      '—',
      'target ≤ 1.1× of none online'
    ])
    if (alone !== undefined && r !== alone)
      verdict(
        `history comes once with ${r.online} online (N = ${k(r.n)}): ${fmt(r.syncMs / alone.syncMs, 2)}× time, ${fmt(r.bytesDown / alone.bytesDown, 2)}× bytes of none online`,
        r.syncMs <= 1.1 * alone.syncMs && r.bytesDown <= 1.1 * alone.bytesDown
      )
  }
} else if (online !== undefined) rows.push(['(1c) history to a new device with other devices online', cell(online, () => ''), '—', '—', ''])
if (link !== undefined && ok(link)) {
  const both = (t: { newestMs: number; allMs: number }): string => `${ms(t.newestMs)} / ${ms(t.allMs)}`
  const none = 'no linking'
  rows.push([
    `(1d) a new device linked by code via the relay, N = ${k(link.n)}, median of ${link.runs}: the person confirms → newest message shown / all N`,
    `${both(link.code)}; ${loadRange(link.loads)}`,
    none,
    none,
    `by code / by grant: ${fmt(link.ratioNewest, 2)}× / ${fmt(link.ratioAll, 2)}× (no peer links devices)`
  ])
  rows.push([`    the same device joining by grant (acceptGrant: no code, nothing to confirm), same runs`, both(link.grant), '—', '—', ''])
  rows.push([
    `    confirm → the new device linked / the existing device's linkDevice resolved`,
    `${ms(link.code.linkedMs ?? Number.NaN)} / ${ms(link.code.linkDeviceMs ?? Number.NaN)}`,
    '—',
    '—',
    ''
  ])
  const conn = (x: number): string => (x < 0 ? `${ms(-x)} before` : Number.isNaN(x) ? 'not seen' : ms(x))
  rows.push([
    `    the new device's store connection to the relay, from the start: by code / by grant; the backfill (entries, bytes)`,
    `${conn(link.code.relayMs)} / ${conn(link.grant.relayMs)}; ${fmt(link.code.entries)} entries, ${fmt(link.code.bytes / 2 ** 20, 2)} MiB`,
    '—',
    '—',
    ''
  ])
} else if (link !== undefined) rows.push(['(1d) a new device linked by code via the relay', cell(link, () => ''), '—', '—', ''])
for (const [n, r] of browserHistory) {
  rows.push([
    `(1b) history sync to a browser device (Chromium, WebSockets) beside a Node device, N = ${k(n)}, median of ${plan.browserRuns}`,
    cell(r, (x: BrowserHistoryResult) => `${ms(x.browserMs)} browser / ${ms(x.nodeMs)} Node`),
    '—',
    '—',
    'target browser ≤ 1.5× Node'
  ])
  if (ok(r)) verdict(`history to a browser device within 1.5× of a Node device, N = ${k(n)}: ${fmt(r.ratio, 2)}× (${ms(r.browserMs)} vs ${ms(r.nodeMs)})`, r.ratio <= 1.5)
}
if (appLoad !== undefined) {
  rows.push([
    `(1e) the chat app (apps/chat) loaded on a browser device holding ${k(plan.app)} messages: chat list shown from navigation / the chat's newest 50 from the click / each next 50 scrolled back, 20 pages (slowest; longest task meanwhile) / a key pressed at each page: its wait for the page (longest), median of ${plan.appRuns}`,
    cell(appLoad, (x: AppLoadResult) => `${ms(x.listMs)} / ${ms(x.chatMs)} / ${ms(x.olderMs)} (${ms(x.olderMaxMs)}; ${ms(x.longestTaskMs)}) / ${ms(x.keyMs)} (${ms(x.keyMaxMs)})`),
    '—',
    '—',
    'target list ≤ 1 s'
  ])
  if (ok(appLoad)) verdict(`the chat app interactive within 1 s on a device holding ${k(plan.app)} messages: ${ms(appLoad.listMs)}`, appLoad.listMs <= 1_000)
}
if (screen !== undefined) {
  const n = plan.screen
  const sc = (c: ScreenCase): ScreenCaseResult | { error: string } | undefined => (ok(screen) ? screen.cases[c] : screen)
  const [t, tr, y, a] = (['tandem', 'tandem-recent', 'yws', 'am'] as const).map(sc)
  const amCell = (f: (r: ScreenCaseResult) => string): string => (screenAm ? cell(a, f) : `not run at ${k(n)}`)
  const count = ok(screen) ? screen.screen : 50
  const settleS = ok(screen) ? fmt(screen.settleMs / 1000) : '2'
  const scaled = n < 1_000_000 ? " (quick: scaled down from the issue's 1M, --full for it)" : ''
  const first = (r: ScreenCaseResult): string => ms(r.screenMs)
  rows.push([
    `(11) newest ${count} messages on screen on a new device from the server alone, chat of ${k(n)}${scaled}, median of ${plan.screenRuns}${screenAm && plan.screenAmRuns !== plan.screenRuns ? ` (automerge-repo ${plan.screenAmRuns})` : ''}: Tandem join → wait-screen (all N in brackets); the peers have no partial history: their first screen is the whole sync (all N)`,
    cell(t, r => `${first(r)} (all ${r.allMs === undefined ? '?' : ms(r.allMs)})`),
    cell(y, first),
    amCell(first),
    joined('target ≤ 100 ms', ok(t) && ok(y) ? `Tandem/y-ws ${fmt(t.screenMs / y.screenMs, 3)}×` : '')
  ])
  rows.push([
    `    Tandem --history recent (a metered device: only the newest two segments by itself): first screen / those two in (segments fetched of the chat's, messages held)`,
    cell(tr, r => `${first(r)} / ${r.historyMs === undefined ? '?' : ms(r.historyMs)} (${r.segmentsFetched ?? '?'} of ${r.segments ?? '?'}, ${fmt(r.count)} msgs)`),
    '—',
    '—',
    ''
  ])
  rows.push([
    `    Tandem: where the first screen's time went, ms from join (median): accept-grant answered / store connection to the relay up / backfills caught up: account doc, chat doc (the segment index), newest segment`,
    cell(t, r => (r.phases === undefined ? '?' : [r.phases.joinedMs, r.phases.relayMs, ...r.phases.caughtUpMs].map(x => (x === undefined ? '?' : fmt(x))).join(' / '))),
    '—',
    '—',
    ''
  ])
  const mem = (r: ScreenCaseResult): string => `${fmt(r.rssMiB)} / ${fmt(r.peakMiB)}`
  rows.push([
    `(12) the new device's RSS holding the chat of ${k(n)}, showing the newest: ${settleS} s after the whole history is in (Tandem: the history event with every segment fetched, and wait-messages N) / peak RSS (MiB)`,
    cell(t, mem),
    cell(y, mem),
    amCell(mem),
    joined(`target ≤ 150 MB (143 MiB)${n < 1_000_000 ? ' at 1M' : ''}`, 'peers: the client, no local store')
  ])
  rows.push([`    Tandem --history recent: RSS ${settleS} s after its two segments are in / peak (MiB)`, cell(tr, mem), '—', '—', ''])
  const slo = (r: ScreenCaseResult): string => loadRange(r.loads)
  rows.push([`    load average (1 min) before the runs (Tandem; --history recent)`, `${cell(t, slo)}; ${cell(tr, slo)}`, cell(y, slo), amCell(slo), 'runs interleaved'])
  const scaledNote = n < 1_000_000 ? ' — scaled down, run --full for 1M' : ''
  if (ok(t)) {
    verdict(
      `newest ${count} messages on screen on a new device ≤ 100 ms, chat of ${k(n)} (issue 15): ${ms(t.screenMs)} (${fmt(t.screenMs / 100, 2)}×)${scaledNote}`,
      t.screenMs <= 100
    )
    verdict(
      `device RSS ≤ 150 MB holding a chat of ${k(n)}, showing the newest (issue 15): ${fmt(t.rssMiB * 1.048576)} MB (${fmt((t.rssMiB * 1.048576) / 150, 2)}×; peak ${fmt(t.peakMiB * 1.048576)} MB${ok(tr) ? `; --history recent ${fmt(tr.rssMiB * 1.048576)} MB, peak ${fmt(tr.peakMiB * 1.048576)} MB` : ''})${scaledNote}`,
      t.rssMiB * 1.048576 <= 150
    )
  }
}
if (want('latency')) {
  const lt = (r: LatencyResult): string => `${ms(r.p50)} / ${ms(r.p99)}${r.runs > 1 ? ` (p50 ${fmt(Math.min(...r.p50s), 2)}–${fmt(Math.max(...r.p50s), 2)})` : ''}`
  const [lr, lp] = [latency.get('tandem:server'), latency.get('tandem-plain:server')]
  push(
    [
      `(2) latency via the server, p50 / p99, median of ${plan.latencyRuns} runs (${plan.latency} msgs; automerge ${plan.latencyAm}, 1 run)`,
      cell(lr, lt),
      cell(latency.get('yws:server'), lt),
      cell(latency.get('am:server'), lt),
      joined(
        'target ≤ 1.0 / 5 ms and p50 ≤ y-websocket (issue 15; ≤ 2 / 10 ms: issue 14)',
        ok(lr) && ok(latency.get('yws:server')) ? `Tandem/y-ws p50 ${fmt(lr.p50 / (latency.get('yws:server') as LatencyResult).p50, 2)}×` : '',
        ok(lr) && ok(lp) ? `sealed/plain p50 ${fmt(lr.p50 / lp.p50, 2)}×, p99 ${fmt(lr.p99 / lp.p99, 2)}×` : ''
      )
    ],
    cell(lp, lt)
  )
  rows.push([`    Tandem direct on loopback, p50 / p99`, cell(latency.get('tandem:direct'), lt), '—', '—', 'target p50 ≤ 1 ms'])
  const cpuAll = (r: LatencyResult): number => r.cpuMsPerMsg.sender + r.cpuMsPerMsg.receiver + r.cpuMsPerMsg.server
  const lcpu = (r: LatencyResult): string => `${fmt(cpuAll(r), 2)} (${fmt(r.cpuMsPerMsg.sender, 2)} / ${fmt(r.cpuMsPerMsg.receiver, 2)} / ${fmt(r.cpuMsPerMsg.server, 2)})`
  const ly = latency.get('yws:server')
  push(
    [
      `(10) CPU ms per message sent one at a time via the server, all processes (sender / receiver / server): user + system from /proc over the counted messages of (2), control pipes included`,
      cell(lr, lcpu),
      cell(ly, lcpu),
      cell(latency.get('am:server'), lcpu),
      joined('target ≤ 1.1 ms', ok(lr) && ok(ly) ? `Tandem/y-ws ${fmt(cpuAll(lr) / cpuAll(ly), 2)}×` : '')
    ],
    cell(lp, lcpu)
  )
  if (ok(lr)) verdict(`CPU per message sent one at a time, all processes ≤ 1.1 ms: ${fmt(cpuAll(lr), 2)} ms (${fmt(cpuAll(lr) / 1.1, 2)}×)`, cpuAll(lr) <= 1.1)
  const llo = (r: LatencyResult): string => loadRange(r.loads)
  push(
    [
      `    load average (1 min) before the runs`,
      cell(lr, llo),
      cell(latency.get('yws:server'), llo),
      cell(latency.get('am:server'), llo),
      interleave && ok(lp) ? 'Tandem runs interleaved' : ''
    ],
    cell(lp, llo)
  )
  const r = latency.get('tandem:server')
  const d = latency.get('tandem:direct')
  if (ok(r)) {
    verdict(`latency via relay p50 ≤ 2 ms: ${ms(r.p50)} (${fmt(r.p50 / 2, 2)}× the target)`, r.p50 <= 2)
    verdict(`latency via relay p99 ≤ 10 ms: ${ms(r.p99)} (${fmt(r.p99 / 10, 2)}×)`, r.p99 <= 10)
    verdict(`latency via relay p50 / p99 ≤ 1.0 / 5 ms (issue 15): ${ms(r.p50)} / ${ms(r.p99)}`, r.p50 <= 1 && r.p99 <= 5)
    const y = latency.get('yws:server')
    if (ok(y)) verdict(`latency via relay p50 ≤ y-websocket's (issue 15): ${ms(r.p50)} vs ${ms(y.p50)} (${fmt(r.p50 / y.p50, 2)}×)`, r.p50 <= y.p50)
  }
  if (ok(d)) verdict(`latency direct p50 ≤ 1 ms: ${ms(d.p50)} (${fmt(d.p50, 2)}×)`, d.p50 <= 1)
}
if (want('throughput')) {
  const tp = (r: ThroughputResult): string => `${fmt(r.msgPerSec)} msg/s`
  const [tr, tpl] = [throughput.get('tandem:server'), throughput.get('tandem-plain:server')]
  push(
    [
      `(3) throughput to 2 other devices via the server (${k(plan.throughput)} msgs; automerge ${k(plan.throughputAm)})`,
      cell(tr, tp),
      cell(throughput.get('yws:server'), tp),
      cell(throughput.get('am:server'), tp),
      joined('target ≥ 20,000 msg/s', ok(tr) && ok(tpl) ? `sealed/plain ${fmt(tr.msgPerSec / tpl.msgPerSec, 2)}×` : '')
    ],
    cell(tpl, tp)
  )
  rows.push([`    Tandem direct (LAN mesh on loopback)`, cell(throughput.get('tandem:direct'), tp), '—', '—', ''])
  const cpu = (r: ThroughputResult): string => `${fmt(r.cpuMsPer1k.total)} (${fmt(r.cpuMsPer1k.sender)} / ${fmt(r.cpuMsPer1k.receivers)} / ${fmt(r.cpuMsPer1k.server)})`
  push(
    [
      `    CPU ms per 1,000 msgs via the server: all (sender / 2 receivers / server)`,
      cell(throughput.get('tandem:server'), cpu),
      cell(throughput.get('yws:server'), cpu),
      cell(throughput.get('am:server'), cpu),
      ''
    ],
    cell(tpl, cpu)
  )
  const tlo = (r: ThroughputResult): string => loadRange(r.loads)
  push(
    [
      `    load average (1 min) before the runs`,
      cell(tr, tlo),
      cell(throughput.get('yws:server'), tlo),
      cell(throughput.get('am:server'), tlo),
      interleave && ok(tpl) ? 'Tandem runs interleaved' : ''
    ],
    cell(tpl, tlo)
  )
  for (const [key, label] of [
    ['tandem:server', 'via relay'],
    ['tandem:direct', 'direct']
  ] as const) {
    const r = throughput.get(key)
    if (ok(r)) verdict(`throughput ≥ 20,000 msg/s to two devices, ${label}: ${fmt(r.msgPerSec)} msg/s (${fmt(r.msgPerSec / 20_000, 3)}× the target)`, r.msgPerSec >= 20_000)
  }
}
if (want('merge')) {
  const mg = (r: MergeResult): string => ms(r.ms) + (r.fromRestoreMs !== undefined ? ` (${ms(r.fromRestoreMs)} from restore)` : '')
  rows.push([
    `(5) offline merge ${k(plan.merge)} + ${k(plan.merge)} (automerge ${k(plan.mergeAm)} each): time to converge via the server`,
    cell(merge.get('tandem:server'), mg),
    cell(merge.get('yws:server'), mg),
    cell(merge.get('am:server'), mg),
    ''
  ])
  rows.push([`    Tandem direct (dial)`, cell(merge.get('tandem:direct'), mg), '—', '—', ''])
  // issue 15: from the network's return, every system's own reconnect included
  const [mt, my, ma] = [merge.get('tandem:server'), merge.get('yws:cut'), merge.get('am:cut')]
  const restore = (r: MergeResult): string => ms(r.fromRestoreMs ?? r.ms)
  rows.push([
    `    the same through a network cut (a proxy closes every connection, then lets them back): from the network's return, each client's reconnect included (automerge ${plan.mergeAmCutRuns === 1 ? '1 run' : `median of ${plan.mergeAmCutRuns}`})`,
    cell(mt, restore),
    cell(my, restore),
    cell(ma, restore),
    joined(
      'target Tandem ≤ y-websocket',
      ok(mt) && ok(my) && mt.fromRestoreMs !== undefined ? `Tandem/y-ws ${fmt(mt.fromRestoreMs / my.ms, 2)}×` : '',
      ok(mt) && ok(merge.get('yws:server')) && mt.fromRestoreMs !== undefined
        ? `against y-ws reconnecting on command (row 5): ${fmt(mt.fromRestoreMs / (merge.get('yws:server') as MergeResult).ms, 2)}×`
        : ''
    )
  ])
  const mlo = (r: MergeResult): string => loadRange(r.loads)
  rows.push([`    load average (1 min) before the runs (the cut runs for the peers)`, cell(mt, mlo), cell(my, mlo), cell(ma, mlo), ''])
  if (ok(mt) && ok(my) && mt.fromRestoreMs !== undefined)
    verdict(
      `offline merge ${k(plan.merge)} + ${k(plan.merge)} through the relay from the network's return ≤ y-websocket's: ${ms(mt.fromRestoreMs)} vs ${ms(my.ms)} (${fmt(mt.fromRestoreMs / my.ms, 2)}×)`,
      mt.fromRestoreMs <= my.ms
    )
}
if (idle !== undefined) {
  const kb = (r: IdleResult): string => `${fmt(r.bytesPerMin / 1000, 2)} KB (${fmt(r.up)} ↑ / ${fmt(r.down)} ↓ B, ${fmt(r.readsPerMin, 1)} reads/min)`
  const at =
    (c: IdleCase) =>
    (r: Partial<Record<IdleCase, IdleResult>>): IdleResult | { error: string } =>
      r[c] ?? { error: 'not measured' }
  const ic = (c: IdleCase): IdleResult | { error: string } => (ok(idle) ? at(c)(idle) : (idle as { error: string }))
  const window = ok(idle) ? Object.values(idle)[0]?.windowS : undefined
  push(
    [
      `(9) an idle client's traffic with its server, per minute: TCP payload both ways over ${window !== undefined ? `${fmt(window)} s` : 'the window'} (beside the other sections), nothing sent or received`,
      cell(ic('tandem'), kb),
      cell(ic('yws'), kb),
      cell(ic('am'), kb),
      joined(
        'target ≤ 1 KB',
        ok(idle) && ok(ic('tandem')) && ok(ic('yws')) ? `Tandem/y-ws ${fmt((ic('tandem') as IdleResult).bytesPerMin / (ic('yws') as IdleResult).bytesPerMin, 2)}×` : ''
      )
    ],
    cell(ic('tandem-plain'), kb)
  )
  push(
    [`    Tandem with a second device of the account online (a sync session through the relay's circuit on the same connection)`, cell(ic('tandem+1'), kb), '—', '—', ''],
    cell(ic('tandem-plain+1'), kb)
  )
  const ilo = (r: IdleResult): string => `${fmt(r.cpuMsPerMin, 1)} ms; load ${fmt(r.load, 1)} → ${fmt(r.loadAtEnd, 1)}`
  push(
    [
      `    CPU of the case's processes per minute of the window (server, clients, proxy); load average (1 min) at its start → end`,
      cell(ic('tandem'), ilo),
      cell(ic('yws'), ilo),
      cell(ic('am'), ilo),
      'one window for all'
    ],
    cell(ic('tandem-plain'), ilo)
  )
  const t = ic('tandem')
  if (ok(t))
    verdict(`an idle device's traffic with its relay ≤ 1 KB a minute: ${fmt(t.bytesPerMin)} B over ${fmt(t.windowS)} s (${fmt(t.bytesPerMin / 1000, 3)}×)`, t.bytesPerMin <= 1000)
}
if (want('cold')) {
  const [t, y, a] = (['tandem', 'yws', 'am'] as const).map(s => cold.get(s))
  const c = plan.cold
  rows.push([
    `(4) cold start, ${k(c.chats * c.perChat)} msgs in ${k(c.chats)} chats: start → one chat's history served`,
    cell(t, (r: ColdStartResult) => ms(r.firstHistoryMs)),
    cell(y, (r: ColdStartResult) => ms(r.firstHistoryMs)),
    cell(a, (r: ColdStartResult) => ms(r.firstHistoryMs)),
    'target ≤ 1 s'
  ])
  rows.push([
    `    process start → listening`,
    cell(t, (r: ColdStartResult) => ms(r.readyMs)),
    cell(y, (r: ColdStartResult) => ms(r.readyMs)),
    cell(a, (r: ColdStartResult) => ms(r.readyMs)),
    ''
  ])
  rows.push([
    `    server RSS after start / after serving (MiB)`,
    cell(t, (r: ColdStartResult) => `${fmt(r.rssReadyMiB)} / ${fmt(r.rssAfterMiB)}`),
    cell(y, (r: ColdStartResult) => `${fmt(r.rssReadyMiB)} / ${fmt(r.rssAfterMiB)}`),
    cell(a, (r: ColdStartResult) => `${fmt(r.rssReadyMiB)} / ${fmt(r.rssAfterMiB)}`),
    'target ≤ 150 MB (1M msgs)'
  ])
  if (ok(t)) {
    verdict(
      `cold start: relay serves first history within 1 s of start (${k(c.chats * c.perChat)} msgs): ${ms(t.firstHistoryMs)} (${fmt(t.firstHistoryMs / 1000, 2)}×)`,
      t.firstHistoryMs <= 1000
    )
    verdict(
      `relay RSS ≤ 150 MB with ${k(c.chats * c.perChat)} stored messages: ${fmt(t.rssAfterMiB * 1.048576)} MB after serving (${fmt((t.rssAfterMiB * 1.048576) / 150, 2)}×)${c.chats * c.perChat < 1_000_000 ? ' — scaled down, run --full for 1M' : ''}`,
      t.rssAfterMiB * 1.048576 <= 150
    )
  }
}
if (scale !== undefined) {
  rows.push([
    `(6) relay with ${ok(scale) ? fmt(scale.connected) : '?'} of ${fmt(plan.scale.devices)} devices connected, idle: RSS / CPU`,
    cell(scale, (r: ScaleResult) => `${fmt(r.idleRssMiB)} MiB / ${fmt(r.idleCpuPct, 1)} %`),
    '—',
    '—',
    'target ≤ 1 GB'
  ])
  rows.push([
    `    with ${plan.scale.active} of them sending 1 msg/s each: RSS / CPU`,
    cell(scale, (r: ScaleResult) => `${fmt(r.activeRssMiB)} MiB / ${fmt(r.activeCpuPct, 1)} % (${fmt(r.acked)}/${fmt(r.sent)} acked)`),
    '—',
    '—',
    ''
  ])
  if (ok(scale))
    verdict(
      `relay RSS ≤ 1 GB with ${fmt(scale.connected)} connected devices: ${fmt(Math.max(scale.idleRssMiB, scale.activeRssMiB) * 1.048576)} MB (${fmt((Math.max(scale.idleRssMiB, scale.activeRssMiB) * 1.048576) / 1000, 2)}×)`,
      Math.max(scale.idleRssMiB, scale.activeRssMiB) * 1.048576 <= 1000
    )
}
if (want('limits')) {
  const tcp = limits.tcp as { mbPerSec: number } | { error: string }
  rows.push([`(7) limit: raw TCP on loopback, one connection`, cell(tcp, r => `${fmt(r.mbPerSec)} MB/s`), '', '', ''])
  for (const n of plan.yjs) {
    const y = limits[`yjs${n}`] as ReturnType<typeof benchYjs> | { error: string }
    rows.push([`    Yjs in-process, ${k(n)} Tandem messages: encode / apply`, cell(y, r => `${ms(r.encodeMs)} / ${ms(r.applyMs)}`), '', '', ''])
    rows.push([
      `    Yjs bytes/msg: Tandem record v1 (v2) / deflated / brotli q4; peers' record v1`,
      cell(
        y,
        r =>
          `${fmt(r.bytesPerMessageV1)} (${fmt(r.bytesPerMessageV2)}) / ${fmt(r.bytesPerMessageDeflated)} / ${fmt(r.bytesPerMessageBrotli)} B; ${fmt(r.peerShapeBytesPerMessage)} B`
      ),
      '',
      '',
      ''
    ])
  }
}
if (ok(results.store as object)) {
  const s = results.store as { sequentialFsyncPerSec: number; concurrentFsyncPerSec: number; concurrentNoFsyncPerSec: number }
  rows.push([
    'Tandem store: sendMessage awaited / 256 in flight (fsync on) / 256 in flight (fsync off)',
    `${fmt(s.sequentialFsyncPerSec)} / ${fmt(s.concurrentFsyncPerSec)} / ${fmt(s.concurrentNoFsyncPerSec)} msg/s`,
    '',
    '',
    ''
  ])
}

if (sealing !== undefined && ok(sealing)) {
  const us = (x: number): string => (x >= 1000 ? `${fmt(x / 1000, x >= 10_000 ? 1 : 2)} ms` : x >= 100 ? `${fmt(x)} µs` : `${fmt(x, x >= 10 ? 1 : 2)} µs`)
  for (const c of sealing.cases) {
    const per = (x: number): string => (c.messages === 1 ? us(x) : `${us(x)} (${us(x / c.messages)}/msg)`)
    rows.push([
      `(8) sealing in-process, ${c.label}: update / envelope (compressed) / sealed bytes`,
      `${fmt(c.updateBytes)} / ${fmt(c.envelopeBytes)} / ${fmt(c.sealedBytes)} B (+${fmt(c.sealedBytes - c.envelopeBytes)} B${c.messages === 1 ? `, +${fmt((100 * (c.sealedBytes - c.envelopeBytes)) / c.envelopeBytes)} %` : ''})`,
      '',
      '',
      `median of ${c.rounds} rounds of ${c.iterations}; load ${loadCell('seal')}`
    ])
    for (const t of c.timings) {
      const name = t.signatures === 'webcrypto' ? 'WebCrypto Ed25519' : 'noble Ed25519'
      rows.push([`    ${name}: seal / open per blob (per message)`, `${per(t.us.seal)} / ${per(t.us.open)}`, '', '', `sign ${us(t.us.sign)} / verify ${us(t.us.verify)} of it`])
      rows.push([
        `    ${name}: BlobCodec encode / decode, and 4e8b2c9's (compress + envelope / inflate)`,
        `${per(t.us.encode)} / ${per(t.us.decode)}; plain ${us(t.us.plainEncode)} / ${us(t.us.plainDecode)}`,
        '',
        '',
        `sealed/plain ${fmt(t.us.encode / t.us.plainEncode, 2)}× / ${fmt(t.us.decode / t.us.plainDecode, 2)}×`
      ])
    }
  }
  if (!sealing.native) rows.push(['    (nativeSignatures() gave noble here: no WebCrypto Ed25519 in this runtime)', '', '', '', ''])
} else if (sealing !== undefined) rows.push(['(8) sealing in-process', cell(sealing, () => ''), '', '', ''])

if (ticks !== undefined) {
  rows.push([
    `(11) read tick on the account's other device via a relay (processes), ${ok(ticks) ? ticks.count : plan.ticks} reads: p50 / p99`,
    cell(ticks, t => `${ms(t.p50)} / ${ms(t.p99)} (max ${ms(t.max)})`),
    '',
    '',
    `target p99 ≤ 50 ms; load ${loadCell('ticks')}`
  ])
  if (ok(ticks)) verdict(`read ticks on the account's other device within 50 ms at p99: ${ms(ticks.p99)}`, ticks.p99 <= 50)
}
if (people !== undefined) {
  const n = ok(people) ? people.count : plan.people
  rows.push([
    `(14) Alice's send → Bob's device, another account, via a relay (processes), ${n} messages: p50 / p99`,
    cell(people, r => `${ms(r.send.p50)} / ${ms(r.send.p99)} (max ${ms(r.send.max)}; pipe RTT ${ms(r.pipeRttMs)})`),
    '',
    '',
    `target p50 ≤ 2 ms, p99 ≤ 10 ms; load ${loadCell('people')}`
  ])
  rows.push([
    "    delivered tick on Alice's other device, from Bob's device showing it: p50 / p99",
    cell(people, r => `${ms(r.delivered.p50)} / ${ms(r.delivered.p99)} (max ${ms(r.delivered.max)})`),
    '',
    '',
    'target p99 ≤ 50 ms'
  ])
  rows.push([
    "    read tick on Alice's other device, from Bob's markRead: p50 / p99",
    cell(people, r => `${ms(r.read.p50)} / ${ms(r.read.p99)} (max ${ms(r.read.max)})`),
    '',
    '',
    'target p99 ≤ 50 ms'
  ])
  if (ok(people)) {
    verdict(`send to another account's device via the relay: p50 ${ms(people.send.p50)} ≤ 2 ms, p99 ${ms(people.send.p99)} ≤ 10 ms`, people.send.p50 <= 2 && people.send.p99 <= 10)
    verdict(
      `delivered and read ticks on the sender's other device within 50 ms at p99: ${ms(people.delivered.p99)} / ${ms(people.read.p99)}`,
      people.delivered.p99 <= 50 && people.read.p99 <= 50
    )
  }
}
if (group !== undefined) {
  const g = plan.group
  rows.push([
    `(15) a group of ${g.accounts} accounts × 2 devices (${g.processes} processes), one relay: relay CPU per message, median (from idle to idle: its fan-out and the delivered watermarks back included)`,
    cell(group, r => `${ms(r.relayCpuMsPerMsg)} (${r.messages} messages; setup ${fmt(r.setupS, 1)} s)`),
    '',
    '',
    `load ${loadCell('group')}`
  ])
  rows.push([
    `    fan-out: send → first / last of the ${2 * g.accounts - 1} other devices showing it, p50 (p99)`,
    cell(
      group,
      r =>
        `${ms(r.firstArrival.p50)} (${ms(r.firstArrival.p99)}) / ${r.fanOut === null ? 'never all' : `${ms(r.fanOut.p50)} (${ms(r.fanOut.p99)})`}; ${r.notEverywhere} not on all within 60 s`
    ),
    '',
    '',
    'every device a real engine on 2 shared cores'
  ])
  rows.push([
    `    send → the sender shows it delivered to all ${g.accounts - 1} other accounts, p50 (p99)`,
    cell(group, r => (r.deliveredAll === null ? `none within 60 s` : `${ms(r.deliveredAll.p50)} (${ms(r.deliveredAll.p99)}); ${r.deliveredCount}/${r.messages} within 60 s`)),
    '',
    '',
    ''
  ])
}
if (search !== undefined && ok(search)) {
  const r = search
  const mib = (b: number): string => `${fmt(b / 2 ** 20, 1)} MiB`
  rows.push([
    `(13) search over ${k(r.messages)} messages of one chat (MiniSearch, in-process, classic-level): engine.searchMessages, limit 50, ${r.query.count} queries (one word / two)`,
    `p50 ${ms(r.query.p50Ms)}, p99 ${ms(r.query.p99Ms)} (one word ${ms(r.query.oneWordP50Ms)} / two ${ms(r.query.twoWordP50Ms)}; ${fmt(r.query.meanHits, 1)} hits)`,
    '',
    '',
    `load ${loadCell('search')}`
  ])
  rows.push([
    '    index build: sending them all (indexed as they go) / the index catching up after the last send / a start, to the first answer (index built from the store; createEngine alone; event-loop delay during the build p99 / max)',
    `${ms(r.seedMs)} / ${ms(r.catchUpMs)} / ${ms(r.firstQueryMs)} (${ms(r.openMs)}; ${ms(r.buildLoopDelay.p99Ms)} / ${ms(r.buildLoopDelay.maxMs)})`,
    '',
    '',
    ''
  ])
  rows.push([
    '    not taken, a saved index (MiniSearch, same texts): bytes / build / save (JSON) / load, sync and async',
    `${mib(r.saved.bytes)} / ${ms(r.saved.buildMs)} / ${ms(r.saved.saveMs)} / ${ms(r.saved.loadMs)}, ${ms(r.saved.loadAsyncMs)}`,
    '',
    '',
    ''
  ])
} else if (search !== undefined) rows.push(['(13) search', cell(search, () => ''), '', '', ''])

const header: Row = ['measure', 'Tandem', 'y-websocket', 'automerge-repo', 'target / ratio']
/** With tandem-plain, its column comes second. */
const shown = (r: Row): string[] => (showPlain ? [r[0], r[1], plainCells.get(r) ?? (r === header ? `${SYSTEM_NAMES['tandem-plain']}` : ''), ...r.slice(2)] : r)
const md = [
  `| ${shown(header).join(' | ')} |`,
  `| ${shown(header)
    .map(() => '---')
    .join(' | ')} |`,
  ...rows.map(
    r =>
      `| ${shown(r)
        .map(c => c.replace(/\|/g, '\\|'))
        .join(' | ')} |`
  )
].join('\n')
const title = `Tandem bench (${full ? 'full' : 'quick'}), ${started.toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; medians; load average at start ${String(results.loadavgAtStart).split(' ').slice(0, 3).join(' ')}`
console.log(`\n${title}\n\n${md}\n\nTargets:\n${verdicts.map(v => `  ${v}`).join('\n')}\n`)
await writeFile(new URL('latest.md', resultsDir), `${title}\n\n${md}\n\nTargets:\n\n${verdicts.map(v => `- ${v}`).join('\n')}\n`)
const stamp = started.toISOString().replace(/[:.]/g, '-')
await writeFile(new URL(`${full ? 'full' : 'quick'}-${stamp}.json`, resultsDir), JSON.stringify({ ...results, verdicts }, null, 2))
await writeFile(new URL(`${full ? 'full' : 'quick'}-${stamp}.md`, resultsDir), `${title}\n\n${md}\n\nTargets:\n\n${verdicts.map(v => `- ${v}`).join('\n')}\n`)
process.exit(0)
