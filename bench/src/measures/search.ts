// (13) Search over the local history (issue 16), in-process on a real classic-level store: one
// chat of N messages sent through the engine (indexed as they go), then queries through
// `engine.searchMessages` (the index, then each hit read as the API shows it), and the time
// from opening the store to the first answer (the index built from every segment on disk).
// Beside it, the road not taken: the same messages in a MiniSearch index with the engine's
// options, saved as JSON and loaded back (what a persisted index would cost in bytes and time).
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createEngine, type Engine } from '@tandem/engine'
import { INDEX_OPTIONS, type IndexedDoc } from '@tandem/engine/internal'
import MiniSearch from 'minisearch'
import { tempDir } from '../proc.js'
import { percentile } from '../stats.js'
import { messageText } from '../text.js'

export interface SearchBenchResult {
  messages: number
  /** Sending them all (32 at a time, no fsync), the index following as they go. */
  seedMs: number
  /** After the last send resolved, until the index held every message (what it lagged behind). */
  catchUpMs: number
  /** Queries through engine.searchMessages, limit 50: one word, and two words (every word a prefix). */
  query: { count: number; p50Ms: number; p99Ms: number; oneWordP50Ms: number; twoWordP50Ms: number; meanHits: number }
  /** engine.stop(). */
  stopMs: number
  /** createEngine on the store until it resolved (the first screen does not wait for the index), and until the first query answered (the index built from the store). */
  openMs: number
  firstQueryMs: number
  /** The event loop's delay while that first query built the index (p99 and max, ms): how long a send arriving then could wait. */
  buildLoopDelay: { p99Ms: number; maxMs: number }
  /** A saved index instead (MiniSearch alone, the engine's options, the same texts). */
  saved: { bytes: number; buildMs: number; saveMs: number; loadMs: number; loadAsyncMs: number }
}

async function open(dir: string): Promise<Engine> {
  return await createEngine({ dataDir: dir, deviceName: 'bench', network: false, storeOptions: { sync: false } })
}

/** Words of the workload's texts: queries that find something (lower case; two-word ones from one message). */
function queries(n: number, count: number): string[] {
  const out: string[] = []
  for (let q = 0; q < count; q++) {
    const words = messageText(1, (q * 7_919) % n)
      .toLowerCase()
      .replace(/[.?]/g, '')
      .split(' ')
    const a = words[(q * 3) % words.length]!
    const b = words[(q * 5 + 1) % words.length]!
    out.push(q % 2 === 0 ? a : `${a} ${b.slice(0, Math.max(3, b.length - 1))}`)
  }
  return out
}

export async function benchSearch(n: number, queryCount: number): Promise<SearchBenchResult> {
  const dir = await tempDir('search')
  let e = await open(dir)
  await e.createAccount({ name: 'Bench', recovery: false })
  const { chatId } = await e.createChat({ title: 'search' })
  await e.searchMessages('zzzzzz') // (the index starts with the first query: from here on it follows every send)
  const t0 = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) await e.sendMessage(chatId, messageText(1, next++))
    })
  )
  const seeded = performance.now()
  await e.searchMessages('zzzzzz') // waits for the index to hold every change before it
  const caughtUp = performance.now()

  const times: number[] = []
  const one: number[] = []
  const two: number[] = []
  let hits = 0
  for (const q of queries(n, queryCount)) {
    const s = performance.now()
    hits += (await e.searchMessages(q, { limit: 50 })).length
    const ms = performance.now() - s
    times.push(ms)
    ;(q.includes(' ') ? two : one).push(ms)
  }
  const s0 = performance.now()
  await e.stop()
  const stopMs = performance.now() - s0

  const o0 = performance.now()
  e = await open(dir)
  const openMs = performance.now() - o0
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  await e.searchMessages(queries(n, 1)[0]!)
  const firstQueryMs = performance.now() - o0
  delay.disable()
  await e.stop()

  return {
    messages: n,
    seedMs: seeded - t0,
    catchUpMs: caughtUp - seeded,
    query: {
      count: times.length,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      oneWordP50Ms: percentile(one, 50),
      twoWordP50Ms: percentile(two, 50),
      meanHits: hits / times.length
    },
    stopMs,
    openMs,
    firstQueryMs,
    buildLoopDelay: { p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 },
    saved: await savedIndex(n, chatId)
  }
}

/** A MiniSearch index of the same messages, saved as JSON and loaded back, synchronously and with MiniSearch's async loader. */
async function savedIndex(n: number, chatId: string): Promise<SearchBenchResult['saved']> {
  const b0 = performance.now()
  const index = new MiniSearch<IndexedDoc>(INDEX_OPTIONS)
  for (let i = 0; i < n; i++)
    index.add({ k: `${chatId}/${1 + Math.floor(i / 1000)}.${i.toString(16).padStart(24, '0')}`, t: messageText(1, i), c: chatId, w: 1_765_000_000_000 + i, n: 0 })
  const buildMs = performance.now() - b0
  const s0 = performance.now()
  const json = JSON.stringify(index)
  const saveMs = performance.now() - s0
  const l0 = performance.now()
  MiniSearch.loadJSON(json, INDEX_OPTIONS)
  const loadMs = performance.now() - l0
  const a0 = performance.now()
  await MiniSearch.loadJSONAsync(json, INDEX_OPTIONS)
  const loadAsyncMs = performance.now() - a0
  return { bytes: Buffer.byteLength(json), buildMs, saveMs, loadMs, loadAsyncMs }
}
