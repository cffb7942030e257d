import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAT_APP, launchChromium, servePage } from '@tandem/bench/chromium'
import { Rig } from '../relay/relay-helpers.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { createAccount, openChat, openDevicePage, peerIdOf, Screenshots, send, shownDigits, shownLinkCode, shownTexts, untilShown } from './chat-page.js'

// The demo chat app as people use it, in real Chromium, each device its own browser context
// (its own IndexedDB) and the engine in the page, through a real relay process over
// WebSockets: Alice and Bob meet by invite, chat and watch the ticks and the typing; Alice
// links a third device through the link screen, which fills with the history, and then
// revokes it. A screenshot of each step goes to the folder printed at the start.

const rig = new Rig()
let relay: RelayProcess
let relayWs: string
let app: { url: string; close(): Promise<void> }
let browser: Browser
let shots: Screenshots
let alice: Page
let bob: Page
let tablet: Page
let tabletId: string

/** Records every tick each bubble of the page shows, in order (the statuses move too fast to poll for each). */
async function recordTicks(tab: Page): Promise<void> {
  await tab.evaluate(() => {
    const seen: Record<string, string[]> = {}
    ;(window as unknown as { seenTicks: typeof seen }).seenTicks = seen
    const note = (el: Element) => {
      const text = el.getAttribute('data-text')
      const status = el.getAttribute('data-status')
      if (text === null || status === null) return
      const list = seen[text] ?? []
      seen[text] = list
      if (list.at(-1) !== status) list.push(status)
    }
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid="message"]')) note(el)
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] })
  })
}

const ticksSeen = async (tab: Page, text: string): Promise<string[]> =>
  await tab.evaluate(t => (window as unknown as { seenTicks: Record<string, string[]> }).seenTicks[t] ?? [], text)

async function untilTick(tab: Page, text: string, status: string): Promise<void> {
  await tab.waitForFunction(([t, s]) => ((window as unknown as { seenTicks: Record<string, string[]> }).seenTicks[t] ?? []).includes(s), [text, status] as const, {
    timeout: 60_000
  })
}

beforeAll(async () => {
  relay = await rig.relay(undefined, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'])
  relayWs = relay.multiaddrs.find(a => a.includes('/ws/'))!
  app = await servePage(CHAT_APP, await rig.dir('chat-app'))
  browser = await launchChromium()
  // outside the rig: the screenshots stay for a person to look at
  shots = new Screenshots(await mkdtemp(join(tmpdir(), 'tandem-chat-app-screens-')))
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await rig.cleanup()
})

describe('the demo chat app in Chromium', () => {
  it('Alice and Bob create accounts, and Bob starts a chat from the invite text read off Alice’s page', async () => {
    alice = await openDevicePage(browser, app.url, 'alice-laptop', relayWs)
    bob = await openDevicePage(browser, app.url, 'bob-phone', relayWs)
    await shots.take(alice, 'setup')
    await createAccount(alice, 'Alice')
    await createAccount(bob, 'Bob')
    await alice.click('[data-testid="nav-new-chat"]')
    await alice.waitForFunction(() => ((document.querySelector('[data-testid="my-invite"]') as HTMLTextAreaElement | null)?.value ?? '').startsWith('tandeminvite'))
    await shots.take(alice, 'alice-invite')
    const invite = await alice.inputValue('[data-testid="my-invite"]')
    await bob.click('[data-testid="nav-new-chat"]')
    await bob.fill('[data-testid="their-invite"]', invite)
    await bob.click('[data-testid="accept-invite"]')
    await bob.waitForFunction(() => document.querySelector('#chat-name')?.textContent === 'Alice', undefined, { timeout: 60_000 })
    // Alice's list gets the chat, named after Bob
    await alice.waitForSelector('[data-testid="chat-item"][data-title="Bob"]', { timeout: 60_000 })
    await shots.take(bob, 'bob-chat-opened')
  })

  it('Alice’s message shows sent while Bob is away, delivered once his device is back (an unread badge there), read once he opens the chat', async () => {
    await openChat(alice, 'Bob')
    await recordTicks(alice)
    // Bob closes his page: his device is off the network (its engine stops on pagehide)
    const bobAt = bob.url()
    const bobProfile = bob.context()
    await bob.close()
    await send(alice, 'Hi Bob')
    await untilTick(alice, 'Hi Bob', 'sent')
    await shots.take(alice, 'alice-sent')
    // Bob's device comes back (the same profile: the same device) and gets it from the relay, unread
    bob = await bobProfile.newPage()
    await bob.goto(bobAt)
    await bob.waitForSelector('body[data-ready="true"]', { timeout: 60_000 })
    await untilTick(alice, 'Hi Bob', 'delivered')
    await bob.waitForFunction(
      () => document.querySelector('[data-testid="chat-item"][data-title="Alice"] [data-testid="unread"]')?.textContent?.startsWith('1') === true,
      undefined,
      {
        timeout: 60_000
      }
    )
    await shots.take(alice, 'alice-delivered')
    await shots.take(bob, 'bob-unread-badge')
    await openChat(bob, 'Alice')
    await untilShown(bob, ['Hi Bob'])
    await untilTick(alice, 'Hi Bob', 'read')
    // each step shown in turn, none skipped, none going back (the clock of pending may come and go between reads)
    expect((await ticksSeen(alice, 'Hi Bob')).filter(s => s !== 'pending')).toEqual(['sent', 'delivered', 'read'])
    expect(await alice.getAttribute('[data-testid="message"][data-text="Hi Bob"] [data-testid="tick"]', 'aria-label')).toBe('read')
    await shots.take(alice, 'alice-read')
  })

  it('Alice sees Bob online in the chat, then typing, then his answer, and the typing indicator goes', async () => {
    await alice.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.textContent === 'online', undefined, { timeout: 60_000 })
    await bob.fill('#message', '')
    await bob.type('#message', 'Hello Ali')
    await alice.waitForFunction(() => document.querySelector('[data-testid="typing"]')?.textContent?.includes('Bob typing') === true, undefined, { timeout: 60_000 })
    await shots.take(alice, 'alice-sees-bob-typing')
    await bob.type('#message', 'ce')
    await bob.press('#message', 'Enter')
    await untilShown(alice, ['Hello Alice'])
    await alice.waitForSelector('[data-testid="typing"]', { state: 'detached', timeout: 60_000 })
    expect(await shownTexts(alice)).toEqual(['Hi Bob', 'Hello Alice'])
    await shots.take(alice, 'alice-got-answer')
    // the same conversation at a phone's width: one column, with a way back to the chats
    await bob.setViewportSize({ width: 390, height: 800 })
    await bob.waitForSelector('.pane > .back', { state: 'visible' })
    await shots.take(bob, 'bob-at-phone-width')
  })

  it('a third device of Alice is linked through the link screen, both show the same digits, and it shows the history once it caught up', async () => {
    tablet = await openDevicePage(browser, app.url, 'alice-tablet', relayWs)
    tabletId = await peerIdOf(tablet)
    const code = await shownLinkCode(tablet)
    await shots.take(tablet, 'tablet-link-code')
    await alice.click('[data-testid="nav-devices"]')
    await alice.fill('[data-testid="link-code-input"]', code)
    await alice.click('[data-testid="link-submit"]')
    const onAlice = await shownDigits(alice, 'link-confirm-digits')
    const onTablet = await shownDigits(tablet, 'link-digits')
    expect(onTablet).toBe(onAlice)
    await shots.take(alice, 'alice-confirm-digits')
    await shots.take(tablet, 'tablet-confirm-digits')
    await alice.click('[data-testid="link-confirm-yes"]')
    await alice.waitForSelector('[data-testid="linked"]', { timeout: 60_000 })
    // the tablet joins, catches up from the relay (its progress bar, while there is a backlog) and lists the chat with Bob
    await tablet.waitForSelector('[data-testid="chat-item"][data-title="Bob"]', { timeout: 60_000 })
    await tablet.waitForSelector('[data-testid="sync-progress"]', { state: 'detached', timeout: 60_000 })
    await openChat(tablet, 'Bob')
    await untilShown(tablet, ['Hi Bob', 'Hello Alice'])
    expect(await shownTexts(tablet)).toEqual(['Hi Bob', 'Hello Alice'])
    await shots.take(tablet, 'tablet-history')
    await alice.waitForSelector(`[data-testid="device"][data-peer-id="${tabletId}"]`, { timeout: 60_000 })
    await shots.take(alice, 'alice-devices')
  })

  it('revoked from Alice’s devices screen, the third device’s page says it was signed out', async () => {
    await alice.click(`[data-testid="device"][data-peer-id="${tabletId}"] [data-testid="revoke"]`)
    await alice.click(`[data-testid="device"][data-peer-id="${tabletId}"] [data-testid="revoke-confirm"]`)
    await alice.waitForSelector(`[data-testid="device"][data-peer-id="${tabletId}"]`, { state: 'detached', timeout: 60_000 })
    await tablet.waitForSelector('[data-testid="signed-out"]', { timeout: 60_000 })
    expect(await tablet.textContent('[data-testid="signed-out"]')).toContain('Signed out')
    await shots.take(tablet, 'tablet-signed-out')
    await shots.take(alice, 'alice-after-revoke')
  })
})
