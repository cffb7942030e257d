import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'

// Drives the demo chat app (apps/chat) in a Chromium tab as its person would: through the
// page's labels and test ids, never its internals. Each wait is for something shown.

const WAIT = { timeout: 60_000 }

/** The page of in-page device `name` in a new browser context (its own profile), started. */
export async function openDevicePage(browser: Browser, appUrl: string, name: string, relayWs: string, viewport = { width: 1100, height: 760 }): Promise<Page> {
  const context = await browser.newContext({ viewport, acceptDownloads: true })
  const tab = await context.newPage()
  await tab.goto(`${appUrl}?device=${name}&relay=${encodeURIComponent(relayWs)}`)
  await tab.waitForSelector('body[data-ready="true"]', WAIT)
  return tab
}

/** This device's peer id, as its status line carries it. */
export const peerIdOf = async (tab: Page): Promise<string> => (await tab.getAttribute('#status', 'data-peer-id'))!

/** Creates an account on a page in setup; resolves once its chat list shows. */
export async function createAccount(tab: Page, name: string): Promise<void> {
  await tab.fill('#account-name', name)
  await tab.click('#create-account button[type=submit]')
  await tab.waitForSelector('[data-testid="chat-list"]', WAIT)
}

/** The link code a page in setup shows (what its person types into a device of the account). */
export async function shownLinkCode(tab: Page): Promise<string> {
  await tab.waitForFunction(() => ((document.querySelector('[data-testid="link-code"]') as HTMLTextAreaElement | null)?.value ?? '') !== '', undefined, WAIT)
  return await tab.inputValue('[data-testid="link-code"]')
}

/** The six digits a page shows once linking is under way: the new device's, or the existing one's dialog. */
export async function shownDigits(tab: Page, testId: 'link-digits' | 'link-confirm-digits'): Promise<string> {
  await tab.waitForFunction(id => /^\d{6}$/.test(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''), testId, WAIT)
  return (await tab.textContent(`[data-testid="${testId}"]`))!
}

export async function openChat(tab: Page, title: string): Promise<void> {
  await tab.click(`[data-testid="chat-item"][data-title="${title}"]`, WAIT)
  await tab.waitForFunction(t => document.querySelector('#chat-name')?.textContent === t, title, WAIT)
}

export async function send(tab: Page, text: string): Promise<void> {
  await tab.fill('#message', text)
  await tab.press('#message', 'Enter')
}

/** The texts of the open chat's bubbles, in order. */
export const shownTexts = async (tab: Page): Promise<string[]> => await tab.$$eval('[data-testid="message"]', items => items.map(li => li.getAttribute('data-text') ?? ''))

/** How many messages the open chat's list holds (it draws only those near the view). */
export const loadedCount = async (tab: Page): Promise<number> => Number(await tab.getAttribute('#messages [data-loaded]', 'data-loaded'))

/**
 * The texts of every message the open chat's list holds, in order, read by scrolling it from
 * the top to the bottom half a view at a time (it draws only the bubbles near the view).
 */
export async function textsScrollingThrough(tab: Page): Promise<string[]> {
  return await tab.evaluate(async () => {
    const list = document.querySelector('#messages')!
    const frame = () => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)))
    const seen = new Map<number, string>()
    list.scrollTop = 0
    for (;;) {
      await frame()
      for (const li of list.querySelectorAll('[data-testid="message"]')) seen.set(Number(li.getAttribute('data-index')), li.getAttribute('data-text') ?? '')
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break
      list.scrollTop += list.clientHeight / 2
    }
    return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text)
  })
}

/** Waits until the open chat shows every one of `texts`. */
export async function untilShown(tab: Page, texts: string[]): Promise<void> {
  await tab.waitForFunction(
    wanted => {
      const shown = [...document.querySelectorAll('[data-testid="message"]')].map(li => li.getAttribute('data-text'))
      return wanted.every(t => shown.includes(t))
    },
    texts,
    WAIT
  )
}

/** Waits until the bubble of `text` in the open chat has tick `status` (pending, sent, delivered, read). */
export async function untilStatus(tab: Page, text: string, status: string): Promise<void> {
  await tab.waitForFunction(
    ([t, s]) => [...document.querySelectorAll('[data-testid="message"]')].some(li => li.getAttribute('data-text') === t && li.getAttribute('data-status') === s),
    [text, status] as const,
    WAIT
  )
}

/** Screenshots of a test's steps, numbered in order, in one folder (printed once). */
export class Screenshots {
  private step = 0
  constructor(readonly dir: string) {
    console.log(`screenshots: ${dir}`)
  }

  async take(tab: Page, name: string): Promise<void> {
    this.step++
    await tab.screenshot({ path: join(this.dir, `${String(this.step).padStart(2, '0')}-${name}.png`), fullPage: true })
  }
}

/** Opens the actions of the bubble of `text` in the open chat and presses `action` (Reply, Edit, Delete for me, React 👍…). */
export async function messageAction(tab: Page, text: string, action: string): Promise<void> {
  const bubble = tab.locator(`[data-testid="message"][data-text="${text}"]`)
  await bubble.locator('summary').click()
  await bubble.getByRole('button', { name: action, exact: true }).click()
}

/** Waits until the open chat shows no bubble of `text`. */
export async function untilGone(tab: Page, text: string): Promise<void> {
  await tab.waitForSelector(`[data-testid="message"][data-text="${text}"]`, { state: 'detached', ...WAIT })
}
