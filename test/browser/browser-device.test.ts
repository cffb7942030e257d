import { createEngine, type Engine, type Message } from '@tandem/engine'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Rig } from '../relay/relay-helpers.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { CHAT_APP, launchChromium, servePage } from '@tandem/bench/chromium'
import { openChat, openDevicePage, peerIdOf, send, shownDigits, shownLinkCode, shownTexts, untilShown, untilStatus } from './chat-page.js'

// A browser device (the engine's browser assembly, in the demo chat app, in real Chromium)
// and a Node device of one account, through a real relay process: the browser over
// WebSockets. The Node device links the page by the code the page shows.

const rig = new Rig()
let relay: RelayProcess
let relayWs: string
let page: { url: string; close(): Promise<void> }
let browser: Browser
let node: Engine
let chatId: string

const texts = (engine: Engine): string[] => engine.listMessages(chatId).map((m: Message) => m.text)

/** The Node device links the page by the code it shows, the digits compared on both sides. */
async function linkByNode(tab: Page): Promise<void> {
  const code = await shownLinkCode(tab)
  await node.linkDevice(code, {
    confirm: async info => (await shownDigits(tab, 'link-digits')) === info.confirmation
  })
  await tab.waitForSelector('[data-testid="chat-list"]', { timeout: 60_000 })
}

beforeAll(async () => {
  relay = await rig.relay(undefined, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'])
  relayWs = relay.multiaddrs.find(a => a.includes('/ws/'))!
  page = await servePage(CHAT_APP, await rig.dir('page'))
  browser = await launchChromium()
  node = await createEngine({ dataDir: await rig.dir('node'), deviceName: 'node', network: { listen: ['/ip4/127.0.0.1/tcp/0'], relays: [relayWs] } })
  await node.start()
  await node.createAccount({ name: 'Ann', recovery: false })
  chatId = (await node.createChat({ title: 'Notes to self' })).chatId
  await node.sendMessage(chatId, 'hello from node')
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await page?.close()
  await node?.stop()
  await rig.cleanup()
})

describe('the engine in a Chromium tab', () => {
  let tab: Page
  let peerId: string

  it('a browser device is linked by a Node device through the relay over WebSockets, and they send to each other', async () => {
    tab = await openDevicePage(browser, page.url, 'laptop', relayWs)
    peerId = await peerIdOf(tab)
    expect(peerId).toMatch(/^12D3Koo/)
    await linkByNode(tab)
    await openChat(tab, 'Notes to self')
    await untilShown(tab, ['hello from node'])
    await send(tab, 'hello from the browser')
    await untilEngine(node, () => texts(node).includes('hello from the browser'), "the Node device has the browser's message", 30_000)
    // the relay holds it: the page shows it sent
    await untilStatus(tab, 'hello from the browser', 'sent')
    expect(node.listDevices().map(d => d.peerId)).toContain(peerId)
  })

  it('a reloaded page still has its history and its peer id', async () => {
    await tab.reload()
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    expect(await peerIdOf(tab)).toBe(peerId)
    // shown from IndexedDB before anything is fetched: the relay is not needed for it
    await openChat(tab, 'Notes to self')
    await untilShown(tab, ['hello from node', 'hello from the browser'])
    expect(await shownTexts(tab)).toEqual(['hello from node', 'hello from the browser'])
  })

  it('a browser device revoked by the Node device learns it, says it was signed out, and its data is erased', async () => {
    const tablet = await openDevicePage(browser, page.url, 'tablet', relayWs)
    const tabletId = await peerIdOf(tablet)
    await linkByNode(tablet)
    await openChat(tablet, 'Notes to self')
    await untilShown(tablet, ['hello from node'])
    await tablet.evaluate(() => {
      const w = window as unknown as { revokedEvents: number }
      w.revokedEvents = 0
      window.addEventListener('tandem:revoked', () => {
        w.revokedEvents++
      })
    })
    await node.revokeDevice(tabletId)
    await tablet.waitForSelector('[data-testid="signed-out"]', { timeout: 30_000 })
    expect(await tablet.textContent('[data-testid="signed-out"]')).toContain('data here is erased')
    expect(await tablet.evaluate(() => (window as unknown as { revokedEvents: number }).revokedEvents)).toBe(1)
    // its store is erased: opened again, it is a device with no account (and a new peer id)
    await tablet.reload()
    await tablet.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    expect(await tablet.isVisible('#setup')).toBe(true)
    expect(await peerIdOf(tablet)).not.toBe(tabletId)
    expect(node.listRevokedDevices()).toContain(tabletId)
    await tablet.context().close()
  })

  it('a link code with a typo gets a typed error on the devices screen, and the device goes on serving', async () => {
    await tab.click('[data-testid="nav-devices"]')
    await tab.fill('[data-testid="link-code-input"]', 'not a link code')
    await tab.click('[data-testid="link-submit"]')
    await tab.waitForSelector('#error:not([hidden])')
    expect(await tab.textContent('#error')).toContain('(ERR_INVALID_LINK_CODE)')
    await tab.click('[data-testid="chat-item"][data-title="Notes to self"]')
    await send(tab, 'still here')
    await untilEngine(node, () => texts(node).includes('still here'), 'the Node device has the message', 30_000)
  })

  it('a browser store whose records were altered is reported corrupt (ERR_STORE_CORRUPT), not opened as a new device', async () => {
    const context = await browser.newContext()
    const tab = await context.newPage()
    await tab.goto(`${page.url}?device=damaged&relay=${encodeURIComponent(relayWs)}`)
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    // leave the device's page (its engine closes the store) for another page of the same origin
    await tab.goto(`${page.url}?relay=none`)
    await tab.evaluate(async () => {
      // overwrite the device's key record (meta!peer-key) with bytes that are no key
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('tandem/damaged')
        open.onsuccess = () => {
          resolve(open.result)
        }
        open.onerror = () => {
          reject(open.error)
        }
      })
      const store = db.transaction('tandem/damaged', 'readwrite').objectStore('tandem/damaged')
      const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
        const all = store.getAllKeys()
        all.onsuccess = () => {
          resolve(all.result)
        }
        all.onerror = () => {
          reject(all.error)
        }
      })
      const text = (k: IDBValidKey): string => (typeof k === 'string' ? k : new TextDecoder().decode(k as Uint8Array))
      const key = keys.find(k => text(k) === 'meta!peer-key')
      if (key === undefined) throw new Error(`no meta!peer-key among ${keys.length} keys`)
      store.put(new Uint8Array([1, 2, 3, 4]), key)
      await new Promise(resolve => {
        store.transaction.oncomplete = resolve
      })
      db.close()
    })
    await tab.goto(`${page.url}?device=damaged&relay=${encodeURIComponent(relayWs)}`)
    await tab.waitForSelector('#error:not([hidden])', { timeout: 30_000 })
    expect(await tab.textContent('#error')).toContain('ERR_STORE_CORRUPT')
    expect(await tab.isVisible('#setup')).toBe(false)
    await context.close()
  })

  it('a page whose store cannot be opened says so on the page and in an error event, and starts no device', async () => {
    const context = await browser.newContext()
    // another version of the device's database holds it: IndexedDB refuses to open the older one
    await context.addInitScript(() => {
      const w = window as unknown as { tandemErrors: string[] }
      w.tandemErrors = []
      window.addEventListener('tandem:error', e => {
        w.tandemErrors.push((e as CustomEvent<{ code?: string }>).detail.code ?? '?')
      })
    })
    const tab = await context.newPage()
    await tab.goto(page.url)
    await tab.evaluate(async () => {
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('tandem/locked', 999)
        open.onsuccess = () => {
          open.result.close()
          resolve()
        }
        open.onerror = () => {
          reject(open.error)
        }
      })
    })
    await tab.goto(`${page.url}?device=locked&relay=${encodeURIComponent(relayWs)}`)
    await tab.waitForSelector('#error:not([hidden])', { timeout: 30_000 })
    expect(await tab.textContent('#error')).toContain('ERR_STORE_UNAVAILABLE')
    expect(await tab.evaluate(() => (window as unknown as { tandemErrors: string[] }).tandemErrors)).toEqual(['ERR_STORE_UNAVAILABLE'])
    expect(await tab.isVisible('#setup')).toBe(false)
    expect(await tab.isVisible('#app')).toBe(false)
    await context.close()
  })

  it('a fresh browser profile linked by the Node device shows the whole history, and keeps it once every other device is off', async () => {
    const fresh = await openDevicePage(browser, page.url, 'phone', relayWs)
    expect(await peerIdOf(fresh)).not.toBe(peerId)
    await linkByNode(fresh)
    await tab.close()
    await node.stop()
    await openChat(fresh, 'Notes to self')
    await untilShown(fresh, ['hello from node', 'hello from the browser', 'still here'])
    await fresh.reload()
    await fresh.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    await openChat(fresh, 'Notes to self')
    await untilShown(fresh, ['hello from node', 'hello from the browser', 'still here'])
    expect(await shownTexts(fresh)).toEqual(['hello from node', 'hello from the browser', 'still here'])
  })
})
