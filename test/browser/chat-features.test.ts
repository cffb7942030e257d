import { readFile } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAT_APP, launchChromium, servePage } from '@tandem/bench/chromium'
import { Rig } from '../relay/relay-helpers.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { createAccount, loadedCount, messageAction, openChat, openDevicePage, send, shownTexts, textsScrollingThrough, untilGone, untilShown } from './chat-page.js'

// The chat app's message and chat features between two people, in real Chromium through a
// real relay process: replies, reactions, edits, deletes; pin, mute, archive; a group with
// its members and safety numbers; search; export; scrolling back through a long chat; and
// the phone layout.

const rig = new Rig()
let relay: RelayProcess
let relayWs: string
let app: { url: string; close(): Promise<void> }
let browser: Browser
let alice: Page
let bob: Page

const chatItem = (title: string) => `[data-testid="chat-item"][data-title="${title}"]`

beforeAll(async () => {
  relay = await rig.relay(undefined, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'])
  relayWs = relay.multiaddrs.find(a => a.includes('/ws/'))!
  app = await servePage(CHAT_APP, await rig.dir('features-app'))
  browser = await launchChromium()
  alice = await openDevicePage(browser, app.url, 'alice', relayWs)
  bob = await openDevicePage(browser, app.url, 'bob', relayWs)
  await createAccount(alice, 'Alice')
  await createAccount(bob, 'Bob')
  await alice.click('[data-testid="nav-new-chat"]')
  await alice.waitForFunction(() => ((document.querySelector('[data-testid="my-invite"]') as HTMLTextAreaElement | null)?.value ?? '') !== '')
  await bob.click('[data-testid="nav-new-chat"]')
  await bob.fill('[data-testid="their-invite"]', await alice.inputValue('[data-testid="my-invite"]'))
  await bob.click('[data-testid="accept-invite"]')
  await alice.waitForSelector(chatItem('Bob'), { timeout: 60_000 })
  await openChat(alice, 'Bob')
  await openChat(bob, 'Alice')
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await rig.cleanup()
})

describe('the chat app’s features', () => {
  it('a reply shows the quote, a reaction its count, an edit its mark, on both sides', async () => {
    await send(alice, 'Lunch at noon?')
    await untilShown(bob, ['Lunch at noon?'])
    await messageAction(bob, 'Lunch at noon?', 'Reply')
    await bob.waitForSelector('[data-testid="composing-context"]')
    await send(bob, 'Yes!')
    await alice.waitForFunction(
      () => document.querySelector('[data-testid="message"][data-text="Yes!"] [data-testid="reply-quote"]')?.textContent?.includes('Lunch at noon?') === true,
      undefined,
      { timeout: 60_000 }
    )
    await messageAction(alice, 'Yes!', 'React 👍')
    await bob.waitForFunction(() => document.querySelector('[data-testid="message"][data-text="Yes!"] [data-testid="reaction"]')?.textContent === '👍 1', undefined, {
      timeout: 60_000
    })
    await messageAction(alice, 'Lunch at noon?', 'Edit')
    await alice.waitForFunction(() => (document.querySelector('#message') as HTMLTextAreaElement).value === 'Lunch at noon?')
    await alice.fill('#message', 'Lunch at one?')
    await alice.press('#message', 'Enter')
    await bob.waitForSelector('[data-testid="message"][data-text="Lunch at one?"] [data-testid="edited"]', { timeout: 60_000 })
    expect(await shownTexts(bob)).toEqual(['Lunch at one?', 'Yes!'])
  })

  it('deleted for everyone, a message leaves both pages; deleted for me, only mine', async () => {
    await send(alice, 'oops, wrong chat')
    await send(alice, 'just for me to forget')
    await untilShown(bob, ['oops, wrong chat', 'just for me to forget'])
    await messageAction(alice, 'oops, wrong chat', 'Delete for everyone')
    await untilGone(bob, 'oops, wrong chat')
    await untilGone(alice, 'oops, wrong chat')
    await messageAction(alice, 'just for me to forget', 'Delete for me')
    await untilGone(alice, 'just for me to forget')
    expect(await shownTexts(bob)).toContain('just for me to forget')
  })

  it('pinned, muted and archived from the chat info, the chat list shows it', async () => {
    await alice.click('[data-testid="chat-info-toggle"]')
    await alice.getByRole('button', { name: 'Pin', exact: true }).click()
    await alice.getByRole('button', { name: 'Mute', exact: true }).click()
    await alice.waitForFunction(t => {
      const item = document.querySelector(t)
      return item?.querySelector('[aria-label="pinned"]') != null && item.querySelector('[aria-label="muted"]') != null
    }, chatItem('Bob'))
    // pinned goes first
    expect(await alice.$$eval('[data-testid="chat-item"]', items => items.map(i => i.getAttribute('data-title')))).toEqual(['Bob', 'Notes to self'])
    await alice.getByRole('button', { name: 'Archive', exact: true }).click()
    await alice.waitForSelector(chatItem('Bob'), { state: 'detached' })
    await alice.getByRole('button', { name: 'Archived (1)' }).click()
    await alice.waitForSelector(chatItem('Bob'))
    await alice.getByRole('button', { name: 'Unarchive', exact: true }).click()
    await alice.getByRole('button', { name: '← All chats' }).click()
    await alice.waitForSelector(chatItem('Bob'))
  })

  it('a group with Bob: both see it, and each member’s safety number is the same on both pages', async () => {
    await alice.click('[data-testid="nav-new-chat"]')
    await alice.fill('#group-title', 'Trip')
    await alice.getByRole('checkbox', { name: 'Bob' }).check()
    await alice.getByRole('button', { name: 'Create group' }).click()
    await alice.waitForFunction(() => document.querySelector('#chat-name')?.textContent === 'Trip', undefined, { timeout: 60_000 })
    await bob.waitForSelector(chatItem('Trip'), { timeout: 60_000 })
    await openChat(bob, 'Trip')
    await send(bob, 'Where to?')
    await untilShown(alice, ['Where to?'])
    const safety = async (tab: Page, of: string) => {
      await tab.click('[data-testid="chat-info-toggle"]')
      await tab.locator('[data-testid="members"] li', { hasText: of }).getByRole('button', { name: 'Safety number' }).click()
      return (await tab.textContent('[data-testid="safety-number"] code'))!
    }
    const onAlice = await safety(alice, 'Bob')
    const onBob = await safety(bob, 'Alice')
    expect(onAlice.replace(/\s/g, '')).toMatch(/^\d{60}$/)
    expect(onBob).toBe(onAlice)
    // Bob removes Alice from the group: his page lists one member less
    await bob.locator('[data-testid="members"] li', { hasText: 'Alice' }).getByRole('button', { name: 'Remove' }).click()
    await bob.waitForFunction(() => document.querySelectorAll('[data-testid="members"] li').length === 1, undefined, { timeout: 60_000 })
  })

  it('search finds a message by a word’s beginning and opens its chat; the export downloads the chat as JSON', async () => {
    await alice.click('[data-testid="nav-search"]')
    await alice.fill('#search-query', 'lun')
    await alice.press('#search-query', 'Enter')
    await alice.waitForSelector('[data-testid="search-results"] button')
    expect(await alice.textContent('[data-testid="search-results"]')).toContain('Lunch at one?')
    await alice.click('[data-testid="search-results"] button')
    await alice.waitForFunction(() => document.querySelector('#chat-name')?.textContent === 'Bob')
    await alice.click('[data-testid="chat-info-toggle"]')
    const [download] = await Promise.all([alice.waitForEvent('download'), alice.click('[data-testid="export-json"]')])
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8')) as { format: string; messages: Array<{ text: string }> }
    expect(exported.format).toBe('tandem-chat-export')
    expect(exported.messages.map(m => m.text)).toContain('Lunch at one?')
  })

  it('a long chat holds its newest page but draws only the bubbles near the view, and scrolling back loads the older ones with the bubble being read kept in place', async () => {
    await openChat(alice, 'Notes to self')
    const texts = Array.from({ length: 120 }, (_, i) => `note ${i + 1}`)
    for (const t of texts) await send(alice, t)
    await untilShown(alice, ['note 120'])
    // reopened: the newest 50, the view at the bottom
    await openChat(alice, 'Bob')
    await openChat(alice, 'Notes to self')
    await untilShown(alice, ['note 120'])
    expect(await loadedCount(alice)).toBe(50)
    const drawn = await shownTexts(alice)
    expect(drawn.length).toBeLessThan(50)
    expect(drawn).toContain('note 120')
    for (const [count, first] of [
      [100, 'note 71'],
      [120, 'note 21']
    ] as const) {
      // scrolled to the top, where the oldest message held is read: the older page comes in above it, and the view stays on it
      await alice.evaluate(() => {
        document.querySelector('#messages')!.scrollTop = 0
      })
      await alice.waitForFunction(n => document.querySelector('#messages [data-loaded]')?.getAttribute('data-loaded') === String(n), count, { timeout: 60_000 })
      const view = await alice.evaluate(async text => {
        await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)))
        const list = document.querySelector('#messages')!
        const shown = list.getBoundingClientRect()
        const bubble = document.querySelector(`[data-testid="message"][data-text="${text}"]`)?.getBoundingClientRect()
        return { scrollTop: list.scrollTop, inView: bubble !== undefined && bubble.bottom > shown.top && bubble.top < shown.bottom }
      }, first)
      expect(view.inView).toBe(true)
      expect(view.scrollTop).toBeGreaterThan(0)
    }
    expect(await textsScrollingThrough(alice)).toEqual(texts)
  })

  it('by keyboard alone: a chat opens with Enter, its field has the focus, and Enter sends', async () => {
    await openChat(bob, 'Alice')
    await alice.focus(chatItem('Bob'))
    await alice.keyboard.press('Enter')
    await alice.waitForFunction(() => document.activeElement?.id === 'message', undefined, { timeout: 60_000 })
    await alice.keyboard.type('sent by keyboard')
    await alice.keyboard.press('Enter')
    await untilShown(alice, ['sent by keyboard'])
    await untilShown(bob, ['sent by keyboard'])
  })

  it('at a phone’s width the page shows the chat list or the open chat, with a way back', async () => {
    const phone = bob
    await phone.setViewportSize({ width: 390, height: 800 })
    await phone.getByRole('button', { name: '← Chats' }).click()
    await phone.waitForSelector('[data-testid="chat-list"]', { state: 'visible' })
    expect(await phone.isVisible('#message')).toBe(false)
    await phone.click(chatItem('Alice'))
    await phone.waitForSelector('#message', { state: 'visible' })
    expect(await phone.isVisible('[data-testid="chat-list"]')).toBe(false)
    await phone.getByRole('button', { name: '← Chats' }).click()
    await phone.waitForSelector('[data-testid="chat-list"]', { state: 'visible' })
    expect(await phone.isVisible('#message')).toBe(false)
  })
})
