import { loadAvg, tempDir } from '../proc.js'
import { median } from '../stats.js'
import { type Client, info, startClient, startServer, terminate, type TandemRef, waitUploaded } from '../systems.js'
import { processGranter } from '../tools/grants.js'
import { seed } from './history.js'

/** One way in for a new device: by code (show, link, confirm) or by grant (acceptGrant, nothing to confirm). */
export type JoinWay = 'code' | 'grant'

export interface JoinTimes {
  /** ms from the start (by code: the person confirms; by grant: accept-grant) to the new device showing the chat's newest message (median). */
  newestMs: number
  /** … to the new device holding all N (median). */
  allMs: number
  newestAllMs: number[]
  allAllMs: number[]
  /** By code: ms from confirming to the new device's `linked` event, and to the existing device's `link-device` resolving (medians). */
  linkedMs?: number
  linkDeviceMs?: number
  /** ms from the start to the new device's store connection to the relay (its `relay` event; median). */
  relayMs: number
  /** Relay entries (blobs) and bytes the new device's backfill announced, first counted run. */
  entries: number
  bytes: number
}

export interface LinkResult {
  n: number
  runs: number
  code: JoinTimes
  grant: JoinTimes
  /** code / grant: what linking by code itself costs. */
  ratioNewest: number
  ratioAll: number
  /** 1-minute load average before each counted run. */
  loads: number[]
  peers: string
}

/** Every device reaches the others only through the relay (its circuit), as in (1c). */
const FLAGS = ['--no-sync', '--no-direct']

interface Setup {
  existing: Client
  chatId: string
  newestId: string
  n: number
  timeoutMs: number
}

/** Resolves with the time the reply came. */
const at = (p: Promise<unknown>): Promise<number> => p.then(() => performance.now())

/** A promise awaited later, or never if an earlier step fails: its rejection is not left unhandled. */
const later = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => {})
  return p
}

/** The new device's waits for the newest message and for all N, sent before the clock starts (the chat is not there yet). */
function waits(fresh: Client, s: Setup): { newest: Promise<number>; all: Promise<number> } {
  return {
    newest: later(at(fresh.proc.request('wait-newest', { chatId: s.chatId, messageId: s.newestId }, s.timeoutMs))),
    all: later(at(fresh.proc.request('wait-messages', { chatId: s.chatId, count: s.n }, s.timeoutMs)))
  }
}

interface Run {
  t0: number
  newestMs: number
  allMs: number
  linkedMs?: number
  linkDeviceMs?: number
}
interface Watched extends Run {
  relayMs: number
  entries: number
  bytes: number
}

/**
 * A fresh device (no account) shows a link code; the existing device reads it (`link-device`
 * with `confirm: 'ask'`); both show the same digits; the clock starts as the bench confirms
 * (`confirm-link`, what the person's yes resolves `confirm` with).
 */
async function byCode(fresh: Client, s: Setup): Promise<Run & { peerId: string }> {
  const { text } = await fresh.proc.request<{ text: string }>('show-link-code', {}, 60_000)
  const asked = later(s.existing.proc.next(e => e.event === 'link-confirm', 60_000))
  const shown = later(fresh.proc.next(e => e.event === 'link-confirmation', 60_000))
  const linked = later(fresh.proc.next(e => e.event === 'linked' || e.event === 'link-failed', s.timeoutMs))
  const linking = later(s.existing.proc.request<{ peerId: string }>('link-device', { code: text, confirm: 'ask' }, s.timeoutMs))
  const [question, digits] = await Promise.all([asked, shown])
  if (question.digits !== digits.digits) throw new Error(`link: the devices show different digits (${String(question.digits)} vs ${String(digits.digits)})`)
  const w = waits(fresh, s)
  const t0 = performance.now()
  await s.existing.proc.request('confirm-link', { accept: true })
  const linkedAt = linked.then(e => {
    if (e.event === 'link-failed') throw new Error(`link failed on the new device: ${String(e.code)}: ${String(e.message)}`)
    return performance.now()
  })
  const [linkDoneAt, linkedEventAt, newestAt, allAt] = await Promise.all([at(linking), linkedAt, w.newest, w.all])
  return { t0, newestMs: newestAt - t0, allMs: allAt - t0, linkedMs: linkedEventAt - t0, linkDeviceMs: linkDoneAt - t0, peerId: (await linking).peerId }
}

/** The same fresh device joins by a grant the existing device signed before the clock (add-device): no code, nothing to confirm. */
async function byGrant(fresh: Client, s: Setup): Promise<Run & { peerId: string }> {
  const ref: TandemRef = { chatId: s.chatId, granter: processGranter(s.existing.proc) }
  const { peerId } = await info(fresh)
  await fresh.prepareJoin(ref)
  const w = waits(fresh, s)
  const t0 = performance.now()
  await fresh.join(ref)
  const [newestAt, allAt] = await Promise.all([w.newest, w.all])
  return { t0, newestMs: newestAt - t0, allMs: allAt - t0, peerId }
}

/** One fresh device, one way in; it is revoked by the existing device after (an account lists at most 10). */
async function oneJoin(way: JoinWay, server: Parameters<typeof startClient>[2], s: Setup): Promise<Watched> {
  const fresh = await startClient('tandem', `link-new-${way}`, server, { deviceFlags: FLAGS })
  let peerId: string | null = null
  // when its store connection to the relay came up, and what the backfill announced
  let relayAt = Number.NaN
  let entries = 0
  let bytes = 0
  const off = fresh.proc.on(e => {
    if (e.event === 'relay' && e.connected === true && Number.isNaN(relayAt)) relayAt = performance.now()
    if (e.event === 'progress') {
      entries = Math.max(entries, Number(e.entriesTotal))
      bytes = Math.max(bytes, Number(e.bytesTotal))
    }
  })
  try {
    await fresh.ready()
    const r = way === 'code' ? await byCode(fresh, s) : await byGrant(fresh, s)
    peerId = r.peerId
    return { ...r, relayMs: relayAt - r.t0, entries, bytes }
  } finally {
    off()
    await fresh.stop()
    if (peerId !== null) await s.existing.proc.request('revoke', { peerId })
  }
}

function summary(runs: Watched[]): JoinTimes {
  const newest = runs.map(r => r.newestMs)
  const all = runs.map(r => r.allMs)
  const out: JoinTimes = {
    newestMs: median(newest),
    allMs: median(all),
    newestAllMs: newest,
    allAllMs: all,
    relayMs: median(runs.map(r => r.relayMs)),
    entries: runs[0]!.entries,
    bytes: runs[0]!.bytes
  }
  if (runs.every(r => r.linkedMs !== undefined)) out.linkedMs = median(runs.map(r => r.linkedMs!))
  if (runs.every(r => r.linkDeviceMs !== undefined)) out.linkDeviceMs = median(runs.map(r => r.linkDeviceMs!))
  return out
}

/**
 * (1d) Linking a new device by code, via the relay (issue 13): the relay holds one chat of N
 * messages; the device that wrote them is online and holds them all; a fresh device with no
 * account shows a link code and the existing device links it. The clock runs from the
 * person's confirmation to the new device showing the chat's newest message, and to all N.
 * No peer system has linking, so the comparison is the same fresh device joining by a grant
 * (acceptGrant: no code, no confirmation), interleaved run by run: the ratio is what linking
 * by code costs.
 */
export async function benchLink(n: number, runs: number): Promise<LinkResult> {
  const dataDir = await tempDir('tandem-link')
  const ref = (await seed('tandem', n, dataDir)) as TandemRef
  const server = await startServer('tandem', dataDir)
  const existing = await startClient('tandem', 'link-existing', server, { dataDir: ref.writerDir!, deviceFlags: FLAGS })
  try {
    await existing.ready()
    existing.use(ref)
    await waitUploaded(existing)
    const [newest] = await existing.proc.request<Array<{ id: string }>>('list-messages', { chatId: ref.chatId, limit: 1 })
    const held = await existing.waitMessages(n, 60_000)
    if (newest === undefined || held !== n) throw new Error(`link: the existing device holds ${held} messages, not ${n}`)
    const s: Setup = { existing, chatId: ref.chatId, newestId: newest.id, n, timeoutMs: Math.max(120_000, n * 2) }
    // a warm-up of each (the relay's caches after its restart), not counted
    await oneJoin('grant', server, s)
    await oneJoin('code', server, s)
    const code: Watched[] = []
    const grant: Watched[] = []
    const loads: number[] = []
    for (let i = 0; i < runs; i++) {
      loads.push((await loadAvg())[0]!)
      // alternate which goes first, so neither always follows the other's revocation
      for (const way of i % 2 === 0 ? (['code', 'grant'] as const) : (['grant', 'code'] as const)) (way === 'code' ? code : grant).push(await oneJoin(way, server, s))
    }
    const c = summary(code)
    const g = summary(grant)
    return {
      n,
      runs,
      code: c,
      grant: g,
      ratioNewest: c.newestMs / g.newestMs,
      ratioAll: c.allMs / g.allMs,
      loads,
      peers: 'y-websocket and automerge-repo have no device linking: compared with the same device joining by grant'
    }
  } finally {
    await existing.stop()
    await terminate(server.proc)
  }
}
