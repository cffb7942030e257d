import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { tempDir } from '../proc.js'
import { median } from '../stats.js'
import { startServer, terminate, type TandemRef } from '../systems.js'
import type { DeviceGrant, DeviceOffer } from '@tandem/engine'
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

/** Byte fields as number arrays: what page.evaluate carries both ways. */
type Plain<T> = { [K in keyof T]: T[K] extends Uint8Array ? number[] : T[K] }

interface BenchDevice {
  start(storeName: string, relay: string): Promise<void>
  offer(): Plain<DeviceOffer>
  join(grant: Plain<DeviceGrant>, chatId: string, n: number, timeoutMs: number): Promise<number>
  stop(): Promise<void>
}

/** One fresh browser device (a new profile: empty IndexedDB) joins and syncs the whole chat. */
async function browserRun(browser: Browser, url: string, relayWs: string, ref: TandemRef, n: number, i: number, timeoutMs: number): Promise<number> {
  const context = await browser.newContext()
  try {
    const tab = await context.newPage()
    await tab.goto(url)
    await tab.waitForSelector('body[data-ready="true"]', { state: 'attached' })
    await tab.evaluate(({ relay, i }) => (window as unknown as { benchDevice: BenchDevice }).benchDevice.start(`bench-${i}`, relay), { relay: relayWs, i })
    // listed by the account's writer store (offline) before the clock starts, as for a Node device
    const offer = await tab.evaluate(() => (window as unknown as { benchDevice: BenchDevice }).benchDevice.offer())
    const granted = await ref.granter.grant({ ...offer, agreementKey: new Uint8Array(offer.agreementKey) })
    const grant = { accountId: granted.accountId, chain: [...granted.chain], keyMaterial: [...granted.keyMaterial] }
    const ms = await tab.evaluate(({ grant, chatId, n, timeoutMs }) => (window as unknown as { benchDevice: BenchDevice }).benchDevice.join(grant, chatId, n, timeoutMs), {
      grant,
      chatId: ref.chatId,
      n,
      timeoutMs
    })
    await tab.evaluate(() => (window as unknown as { benchDevice: BenchDevice }).benchDevice.stop())
    await ref.granter.revoke?.(offer.peerId) // (an account lists at most 10 devices)
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
  const ref = (await seed('tandem', n, dataDir)) as TandemRef
  const server = await startServer('tandem', dataDir, { extra: ['--listen', '/ip4/127.0.0.1/tcp/0/ws'] })
  const page = await servePage(PAGE, await tempDir('bench-page'))
  const browser = await launchChromium()
  try {
    const relayWs = server.multiaddrs!.find(a => a.includes('/ws/'))!
    const browserMs: number[] = []
    const nodeMs: number[] = []
    // a warm-up of each (the relay's caches, Chromium's code cache), not counted
    await browserRun(browser, page.url, relayWs, ref, n, -1, timeoutMs)
    await oneRun('tandem', server, ref, n, timeoutMs)
    for (let i = 0; i < runs; i++) {
      nodeMs.push((await oneRun('tandem', server, ref, n, timeoutMs)).ms)
      browserMs.push(await browserRun(browser, page.url, relayWs, ref, n, i, timeoutMs))
    }
    return { n, runs, browserMs: median(browserMs), browserAllMs: browserMs, nodeMs: median(nodeMs), nodeAllMs: nodeMs, ratio: median(browserMs) / median(nodeMs) }
  } finally {
    await browser.close()
    await page.close()
    await terminate(server.proc)
  }
}
