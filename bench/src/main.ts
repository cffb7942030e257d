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
import { benchScreen, type ScreenCase, type ScreenResult } from './measures/screen.js'
import { ensurePlainBuild, PLAIN_COMMIT } from './plain.js'
import { removeTempDirs } from './proc.js'
import { benchStoreWrite } from './store-write.js'
import { isTandem as isTandemKey, SYSTEM_NAMES, type SystemKey } from './systems.js'
import { type Plan, planFor } from './plan.js'
import type { Measured } from './report/measured.js'
import { capacityRows } from './report/rows-capacity.js'
import { liveRows } from './report/rows-live.js'
import { peopleRows } from './report/rows-people.js'
import { syncRows } from './report/rows-sync.js'
import { ok, Report } from './report/table.js'

const argv = process.argv.slice(2)
const USAGE = `usage: npm run bench [-- options]
  --full                 the full plan (21–25 min) instead of the quick one (< 3 min)
  --only a,b             some sections: history, online, link, browser, app, screen, latency, throughput, merge, idle, cold, scale, limits, store, seal, ticks, search, people, group
  --systems a,b          the systems compared: tandem, yws (y-websocket), am (automerge-repo), tandem-plain, floor (Tandem's
                         libp2p stack and a sealed frame a message, nothing else: in latency only); default tandem,yws,am
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

let plan: Plan
try {
  plan = planFor(full, args['history-sizes'], args.runs)
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`)
  process.exit(2)
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
/** The systems that keep a history (the floor forwards and forgets: it is measured in latency only). */
const KEEPERS = SYSTEMS.filter(s => s !== 'floor')

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
  for (const s of KEEPERS) cases.push(...(isTandemKey(s) ? [s, `${s}+1` as IdleCase] : [s]))
  idleRun = await attempt('idle.setup', () => startIdle(cases, plan.idleWindowS))
  delete results['idle.setup']
}

const history = new Map<string, HistoryResult | { error: string }>()
if (want('history')) {
  for (const n of plan.history) {
    const runs = n >= 1_000_000 ? plan.millionRuns : plan.historyRuns
    if (interleave) {
      // every system seeded and warmed up first, then their timed runs in turns (history.ts)
      const r = await attempt(`history.${n}`, () => benchHistoryInterleaved(KEEPERS, n, runs))
      for (const s of KEEPERS) {
        const x = ok(r) ? (r.get(s) ?? { error: 'not measured' }) : r
        history.set(`${s}:${n}`, x)
        results[`history.${s}.${n}`] = x
      }
      delete results[`history.${n}`]
    } else for (const s of KEEPERS) history.set(`${s}:${n}`, await attempt(`history.${s}.${n}`, () => benchHistory(s, n, runs)))
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
  if (has('floor')) latency.set('floor:server', await attempt('latency.floor', () => benchLatency('floor', 'server', plan.latency, plan.latencyRuns)))
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
  for (const s of KEEPERS.filter(x => x !== 'tandem-plain')) cold.set(s, await attempt(`cold.${s}`, () => benchColdStart(s, plan.cold.chats, plan.cold.perChat, plan.coldRuns)))
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

const report = new Report(has('tandem-plain'), loads)
const measured: Measured = {
  plan,
  want,
  interleave,
  screenAm,
  history,
  online,
  link,
  browserHistory,
  appLoad,
  screen,
  latency,
  throughput,
  merge,
  idle,
  cold,
  scale,
  limits,
  store: results.store,
  sealing,
  ticks,
  people,
  group,
  search
}
syncRows(report, measured)
liveRows(report, measured)
capacityRows(report, measured)
peopleRows(report, measured)

const md = report.markdown(SYSTEM_NAMES['tandem-plain'])
const verdicts = report.verdicts
const title = `Tandem bench (${full ? 'full' : 'quick'}), ${started.toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; medians; load average at start ${String(results.loadavgAtStart).split(' ').slice(0, 3).join(' ')}`
console.log(`\n${title}\n\n${md}\n\nTargets:\n${verdicts.map(v => `  ${v}`).join('\n')}\n`)
await writeFile(new URL('latest.md', resultsDir), `${title}\n\n${md}\n\nTargets:\n\n${verdicts.map(v => `- ${v}`).join('\n')}\n`)
const stamp = started.toISOString().replace(/[:.]/g, '-')
await writeFile(new URL(`${full ? 'full' : 'quick'}-${stamp}.json`, resultsDir), JSON.stringify({ ...results, verdicts }, null, 2))
await writeFile(new URL(`${full ? 'full' : 'quick'}-${stamp}.md`, resultsDir), `${title}\n\n${md}\n\nTargets:\n\n${verdicts.map(v => `- ${v}`).join('\n')}\n`)
process.exit(0)
