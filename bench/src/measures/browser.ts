import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { tempDir } from '../proc.js'
import { median } from '../stats.js'
import { startServer, terminate, type ChatRef } from '../systems.js'
import { launchChromium, pageAt, servePage } from '../tools/chromium.js'
import { oneRun, seed } from './history.js'

export interface BrowserHistoryResult {
  n: number
  runs: number
  /** ms from "join the account" to holding all N, median: a fresh browser device (Chromium, WebSockets). */
  browserMs: number
  browserAllMs: number[]
  /** The same for a fresh Node device (tandem-device over TCP), in the same runs, interleaved. */
  nodeMs: number
  nodeAllMs: number[]
  /** browserMs / nodeMs: the target is ≤ 1.5. */
  ratio: number
}

const PAGE = pageAt(fileURLToPath(new URL('../../browser-page/', import.meta.url)))

interface BenchDevice {
  start(storeName: string, relay: string): Promise<void>
  join(credentials: string, chatId: string, n: number, timeoutMs: number): Promise<number>
  stop(): Promise<void>
}

/** One fresh browser device (a new profile: empty IndexedDB) joins and syncs the whole chat. */
async function browserRun(browser: Browser, url: string, relayWs: string, ref: { credentials: string; chatId: string }, n: number, i: number, timeoutMs: number): Promise<number> {
  const context = await browser.newContext()
  try {
    const tab = await context.newPage()
    await tab.goto(url)
    await tab.waitForSelector('body[data-ready="true"]', { state: 'attached' })
    await tab.evaluate(({ relay, i }) => (window as unknown as { benchDevice: BenchDevice }).benchDevice.start(`bench-${i}`, relay), { relay: relayWs, i })
    const ms = await tab.evaluate(
      ({ credentials, chatId, n, timeoutMs }) => (window as unknown as { benchDevice: BenchDevice }).benchDevice.join(credentials, chatId, n, timeoutMs),
      { credentials: ref.credentials, chatId: ref.chatId, n, timeoutMs }
    )
    await tab.evaluate(() => (window as unknown as { benchDevice: BenchDevice }).benchDevice.stop())
    return ms
  } finally {
    await context.close()
  }
}

/**
 * History sync to a browser device beside a Node device: the relay holds one chat of N
 * messages (written by a real device), and fresh devices of the account join, alternating
 * Node and browser so both see the same machine.
 */
export async function benchBrowserHistory(n: number, runs: number): Promise<BrowserHistoryResult> {
  const dataDir = await tempDir('tandem-browser-hist')
  const timeoutMs = Math.max(120_000, n * 2)
  const ref = (await seed('tandem', n, dataDir)) as { credentials: string; chatId: string }
  const server = await startServer('tandem', dataDir, { extra: ['--listen', '/ip4/127.0.0.1/tcp/0/ws'] })
  const page = await servePage(PAGE, await tempDir('bench-page'))
  const browser = await launchChromium()
  try {
    const relayWs = server.multiaddrs!.find(a => a.includes('/ws/'))!
    const browserMs: number[] = []
    const nodeMs: number[] = []
    // a warm-up of each (the relay's caches, Chromium's code cache), not counted
    await browserRun(browser, page.url, relayWs, ref, n, -1, timeoutMs)
    await oneRun('tandem', server, ref as ChatRef, n, timeoutMs)
    for (let i = 0; i < runs; i++) {
      nodeMs.push((await oneRun('tandem', server, ref as ChatRef, n, timeoutMs)).ms)
      browserMs.push(await browserRun(browser, page.url, relayWs, ref, n, i, timeoutMs))
    }
    return { n, runs, browserMs: median(browserMs), browserAllMs: browserMs, nodeMs: median(nodeMs), nodeAllMs: nodeMs, ratio: median(browserMs) / median(nodeMs) }
  } finally {
    await browser.close()
    await page.close()
    await terminate(server.proc)
  }
}
