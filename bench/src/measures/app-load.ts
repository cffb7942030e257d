import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DeviceOffer } from '@tandem/engine'
import type { Page } from 'playwright-core'
import { build, preview } from 'vite'
import { tempDir } from '../proc.js'
import { median } from '../stats.js'
import { startServer, terminate, type TandemRef } from '../systems.js'
import { CHAT_APP, launchChromium, pageAt } from '../tools/chromium.js'
import { seed } from './history.js'

export interface AppLoadResult {
  n: number
  runs: number
  /** ms from the page's navigation to its chat list shown (the app interactive), median, and each run's. */
  listMs: number
  listAllMs: number[]
  /** ms from the click on the chat to its newest messages shown, median. */
  chatMs: number
  chatAllMs: number[]
  /** Scrolling back SCROLL_PAGES pages of 50: ms from scrolling to the top to the older page shown, median and slowest of every page of every run. */
  olderMs: number
  olderMaxMs: number
  /** The longest main-thread task (Long Tasks API: ≥ 50 ms, else 0) while an older page loaded, in any run: what typing would wait for. */
  longestTaskMs: number
  /** A key pressed in the message field as each older page was asked for: how long it waited for the page's main thread (its keydown handler's time less the event's), median and longest. */
  keyMs: number
  keyMaxMs: number
}

/** What the page records, on its own clock (ms since its navigation started). */
interface Marks {
  list?: number
  click?: number
  chat?: number
  /** The bench scrolled the chat to its top, wanting `want` messages shown; and when they were. */
  scroll?: number
  want?: number
  older?: number
  tasks: Array<{ start: number; ms: number }>
  /** Each key's wait: from the event's creation (its timeStamp) to its keydown handler. */
  keys: number[]
}

/** Pages of 50 scrolled back per run: 1,050 messages shown at the end, past the newest segment (1,000 messages). */
const SCROLL_PAGES = 20
/** The device is done starting when no long task came for this long. */
const QUIET_MS = 1_000

const BENCH_PAGE = fileURLToPath(new URL('../../browser-page/', import.meta.url))
/**
 * In every page of the profile, before the app runs: when the chat list first shows, when
 * the person clicks, when the open chat first holds a page of messages (the app's page: 50, in
 * apps/chat/src/ui/conversation.tsx; its list draws those near the view), when scrolling back added the next 50, and every
 * long task. The page's own clock, so the DevTools protocol's round trips are not counted.
 */
function recordMarks(): void {
  const marks: Marks = { tasks: [], keys: [] }
  ;(window as unknown as { appMarks: Marks }).appMarks = marks
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) marks.tasks.push({ start: e.startTime, ms: e.duration })
  }).observe({ type: 'longtask', buffered: true })
  document.addEventListener(
    'keydown',
    e => {
      marks.keys.push(performance.now() - e.timeStamp)
    },
    true
  )
  document.addEventListener(
    'click',
    () => {
      marks.click ??= performance.now()
    },
    true
  )
  new MutationObserver(() => {
    if (marks.list === undefined && document.querySelector('[data-testid="chat-item"]') !== null) marks.list = performance.now()
    // the list is windowed: it draws the bubbles near the view, and says how many it holds
    const shown = Number(document.querySelector('#messages [data-loaded]')?.getAttribute('data-loaded') ?? 0)
    if (marks.click !== undefined && marks.chat === undefined && shown >= 50) marks.chat = performance.now()
    if (marks.want !== undefined && marks.older === undefined && shown >= marks.want) marks.older = performance.now()
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-loaded'] })
}

const marksOf = async (tab: Page): Promise<Marks> => await tab.evaluate(() => (window as unknown as { appMarks: Marks }).appMarks)

/**
 * The "interactive within 1 second of load on a device that already holds 100,000
 * messages": a browser device (Chromium, IndexedDB) of the chat app's origin is filled with a
 * chat of N messages from the relay (by the bench's device page, built into the app's folder
 * so it shares the origin and so the store), then the chat app is loaded on it `runs` times
 * (after one warm-up): chat list shown, the chat opened, one page scrolled back.
 */
export async function benchAppLoad(n: number, runs: number): Promise<AppLoadResult> {
  const dataDir = await tempDir('tandem-app-load')
  const ref = (await seed('tandem', n, dataDir)) as TandemRef
  const server = await startServer('tandem', dataDir, { extra: ['--listen', '/ip4/127.0.0.1/tcp/0/ws'] })
  const outDir = await tempDir('bench-app')
  await build({ ...CHAT_APP, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
  await build({ ...pageAt(BENCH_PAGE), base: './', logLevel: 'warn', build: { outDir: join(outDir, 'bench'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048 } })
  const site = await preview({ ...CHAT_APP, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } })
  const address = site.httpServer.address()
  const browser = await launchChromium()
  try {
    if (address === null || typeof address === 'string') throw new Error('the app server has no TCP address')
    const url = `http://127.0.0.1:${address.port}/`
    const relayWs = server.multiaddrs!.find(a => a.includes('/ws/'))!
    const context = await browser.newContext()
    await context.addInitScript(recordMarks)
    const tab = await context.newPage()
    // fill the device: the bench page joins it to the account, and it syncs the whole chat
    await tab.goto(`${url}bench/`)
    await tab.waitForSelector('body[data-ready="true"]', { state: 'attached' })
    type Bench = {
      start(s: string, r: string): Promise<void>
      offer(): Omit<DeviceOffer, 'agreementKey'> & { agreementKey: number[] }
      join(g: unknown, c: string, n: number, t: number): Promise<number>
      stop(): Promise<void>
    }
    await tab.evaluate(relay => (window as unknown as { benchDevice: Bench }).benchDevice.start('app-bench', relay), relayWs)
    const offer = await tab.evaluate(() => (window as unknown as { benchDevice: Bench }).benchDevice.offer())
    const granted = await ref.granter.grant({ ...offer, agreementKey: new Uint8Array(offer.agreementKey) })
    const grant = { accountId: granted.accountId, chain: [...granted.chain], keyMaterial: [...granted.keyMaterial] }
    await tab.evaluate(a => (window as unknown as { benchDevice: Bench }).benchDevice.join(a.grant, a.chatId, a.n, a.timeoutMs), {
      grant,
      chatId: ref.chatId,
      n,
      timeoutMs: Math.max(120_000, n * 2)
    })
    await tab.evaluate(() => (window as unknown as { benchDevice: Bench }).benchDevice.stop())

    const list: number[] = []
    const chat: number[] = []
    const older: number[] = []
    const keys: number[] = []
    let longest = 0
    for (let i = -1; i < runs; i++) {
      await tab.goto(`${url}?device=app-bench&relay=${encodeURIComponent(relayWs)}`)
      await tab.waitForSelector(`[data-testid="chat-item"][data-chat-id="${ref.chatId}"]`, { timeout: 60_000 })
      await tab.click(`[data-testid="chat-item"][data-chat-id="${ref.chatId}"]`)
      await tab.waitForFunction(() => (window as unknown as { appMarks: Marks }).appMarks.chat !== undefined, undefined, { timeout: 60_000 })
      // scrolling back, once the device is done with its start (relay connected, no long task for a second):
      // page after page, past the segments the device keeps in memory into those it reads from IndexedDB
      await tab.waitForSelector('#status[data-relay="connected"]', { timeout: 60_000 })
      await tab.waitForFunction(
        quietMs => {
          const last = (window as unknown as { appMarks: Marks }).appMarks.tasks.at(-1)
          return performance.now() - (last === undefined ? 0 : last.start + last.ms) > quietMs
        },
        QUIET_MS,
        { timeout: 60_000, polling: 100 }
      )
      const m = await marksOf(tab)
      // the person types while scrolling back: a key in the message field at each page
      await tab.focus('#message')
      if (i >= 0) list.push(m.list!)
      if (i >= 0) chat.push(m.chat! - m.click!)
      for (let page = 2; page <= SCROLL_PAGES + 1; page++) {
        await tab.evaluate(want => {
          const marks = (window as unknown as { appMarks: Marks }).appMarks
          marks.older = undefined
          marks.want = want
          marks.scroll = performance.now()
          document.querySelector('#messages')!.scrollTop = 0
          marks.keys = []
        }, page * 50)
        await tab.keyboard.press('x')
        await tab.waitForFunction(() => (window as unknown as { appMarks: Marks }).appMarks.older !== undefined, undefined, { timeout: 60_000 })
        const p = await marksOf(tab)
        if (i < 0) continue // the warm-up: Chromium's code cache, the relay's
        older.push(p.older! - p.scroll!)
        keys.push(...p.keys)
        for (const t of p.tasks) if (t.start >= p.scroll! && t.start <= p.older!) longest = Math.max(longest, t.ms)
      }
    }
    return {
      n,
      runs,
      listMs: median(list),
      listAllMs: list,
      chatMs: median(chat),
      chatAllMs: chat,
      olderMs: median(older),
      olderMaxMs: Math.max(...older),
      longestTaskMs: longest,
      keyMs: median(keys),
      keyMaxMs: Math.max(...keys)
    }
  } finally {
    await browser.close()
    await site.close()
    await terminate(server.proc)
  }
}
