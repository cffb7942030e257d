import { createEngine, type Engine, type Message } from '@tandem/engine'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Rig } from '../relay/relay-helpers.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { CHAT_APP, launchChromium, servePage } from '@tandem/bench/chromium'
import { grantFromText, grantToText, offerFromText } from '../../apps/chat/src/pairing.js'

// A browser device (the engine's browser assembly, in the demo page, in real Chromium) and a
// Node device of one account, through a real relay process: the browser over WebSockets.

const rig = new Rig()
let relay: RelayProcess
let relayWs: string
let page: { url: string; close(): Promise<void> }
let browser: Browser
let node: Engine
let chatId: string

const texts = (engine: Engine): string[] => engine.listMessages(chatId).map((m: Message) => m.text)

/** The page of device `name` in a browser context, ready (its engine started). */
async function openDevice(context: Awaited<ReturnType<Browser['newContext']>>, name: string): Promise<Page> {
  const tab = await context.newPage()
  await tab.goto(`${page.url}?device=${name}&relay=${encodeURIComponent(relayWs)}`)
  await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
  return tab
}

/** The offer a page in setup shows (what its person copies to a device of the account). */
const pageOffer = async (tab: Page) => offerFromText((await tab.textContent('#my-offer'))!)

/** The page joins `node`'s account as its person would: its offer to the Node device, the grant back into the page. */
async function joinByNode(tab: Page): Promise<void> {
  await tab.fill('#grant', grantToText(await node.addDevice(await pageOffer(tab))))
  await tab.click('#join-account button')
}

const pageTexts = async (tab: Page): Promise<string[]> => await tab.$$eval('#messages li', items => items.map(li => li.firstChild?.textContent ?? ''))

async function untilPage(tab: Page, texts: string[], timeoutMs = 30_000): Promise<void> {
  await tab.waitForFunction(
    wanted => {
      const shown = [...document.querySelectorAll('#messages li')].map(li => li.firstChild?.textContent ?? '')
      return wanted.every(t => shown.includes(t))
    },
    texts,
    { timeout: timeoutMs }
  )
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

  it('a browser device joins the account through the relay over WebSockets, and it and a Node device send to each other', async () => {
    tab = await openDevice(await browser.newContext(), 'laptop')
    peerId = (await tab.getAttribute('#status', 'data-peer-id'))!
    expect(peerId).toMatch(/^12D3Koo/)
    expect((await pageOffer(tab)).peerId).toBe(peerId)
    await joinByNode(tab)
    await untilPage(tab, ['hello from node'])
    await tab.fill('#message', 'hello from the browser')
    await tab.click('#send button')
    await untilEngine(node, () => texts(node).includes('hello from the browser'), "the Node device has the browser's message", 30_000)
    // the relay holds it: the page shows it sent
    await tab.waitForFunction(
      () => [...document.querySelectorAll('#messages li')].some(li => li.textContent?.includes('hello from the browser') && li.textContent.includes('sent')),
      undefined,
      { timeout: 30_000 }
    )
    expect(node.listDevices().map(d => d.peerId)).toContain(peerId)
  })

  it('a reloaded page still has its history and its peer id', async () => {
    await tab.reload()
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    expect(await tab.getAttribute('#status', 'data-peer-id')).toBe(peerId)
    // shown from IndexedDB before anything is fetched: the relay is not needed for it
    expect(await pageTexts(tab)).toEqual(['hello from node', 'hello from the browser'])
  })

  it("a browser device adds another on the page (the new one's text in, the grant out), and one revoked learns it, says so and erases its data", async () => {
    const tablet = await openDevice(await browser.newContext(), 'tablet')
    const tabletId = (await tablet.getAttribute('#status', 'data-peer-id'))!
    // the laptop tab lists the tablet: its person pastes the tablet's text into "Add another device"
    await tab.click('nav details summary')
    await tab.fill('#offer', (await tablet.textContent('#my-offer'))!)
    await tab.click('#add-device button')
    await tab.waitForFunction(() => (document.querySelector('#grant-out')?.textContent ?? '') !== '', undefined, { timeout: 30_000 })
    const grant = grantFromText((await tab.textContent('#grant-out'))!)
    expect(grant.accountId).toBe(node.accountId)
    await tablet.fill('#grant', (await tab.textContent('#grant-out'))!)
    await tablet.click('#join-account button')
    await untilPage(tablet, ['hello from node'])
    await untilEngine(node, () => node.listDevices().some(d => d.peerId === tabletId), 'the Node device learns the tablet is listed', 30_000)
    // revoked from the Node device: the tablet learns it from the chain, stops, erases, and the page says so
    await tablet.evaluate(() => {
      const w = window as unknown as { revokedEvents: number }
      w.revokedEvents = 0
      window.addEventListener('tandem:revoked', () => {
        w.revokedEvents++
      })
    })
    await node.revokeDevice(tabletId)
    await tablet.waitForFunction(() => document.querySelector('#error')?.textContent?.includes('removed from its account') === true, undefined, { timeout: 30_000 })
    expect(await tablet.evaluate(() => (window as unknown as { revokedEvents: number }).revokedEvents)).toBe(1)
    expect(await tablet.isHidden('#app')).toBe(true)
    // its store is erased: opened again, it is a device with no account (and a new peer id)
    await tablet.reload()
    await tablet.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    expect(await tablet.isHidden('#setup')).toBe(false)
    expect(await tablet.getAttribute('#status', 'data-peer-id')).not.toBe(tabletId)
    expect(node.listRevokedDevices()).toContain(tabletId)
    await tablet.context().close()
  })

  it('a browser store whose records were altered is reported corrupt (ERR_STORE_CORRUPT), not opened as a new device', async () => {
    const context = await browser.newContext()
    const tab = await openDevice(context, 'damaged')
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
    expect(await tab.isHidden('#setup')).toBe(true)
    await context.close()
  })

  it('a fresh browser profile joins and gets the whole history from the relay alone', async () => {
    const fresh = await openDevice(await browser.newContext(), 'phone')
    expect(await fresh.getAttribute('#status', 'data-peer-id')).not.toBe(peerId)
    // listed by the Node device, then every other device is off (the phone offers the relay the link itself)
    const grant = await node.addDevice(await pageOffer(fresh))
    await tab.close()
    await node.stop()
    await fresh.fill('#grant', grantToText(grant))
    await fresh.click('#join-account button')
    await untilPage(fresh, ['hello from node', 'hello from the browser'])
    expect(await pageTexts(fresh)).toEqual(['hello from node', 'hello from the browser'])
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
    expect(await tab.isHidden('#setup')).toBe(true)
    expect(await tab.isHidden('#app')).toBe(true)
    await context.close()
  })

  it('a malformed grant, or one for another device, gets a typed error on the page, and the device goes on serving', async () => {
    const context = await browser.newContext()
    const tab = await openDevice(context, 'typo')
    await tab.fill('#grant', 'tandem-grant:not-really')
    await tab.click('#join-account button')
    await tab.waitForSelector('#error:not([hidden])')
    expect(await tab.textContent('#error')).toContain('(ERR_INVALID_ARGUMENT)')
    // a real grant, for another device: this one is not in its chain
    const other = await createEngine({ dataDir: await rig.dir('other'), deviceName: 'other', network: false })
    await other.createAccount({ name: 'Cy', recovery: false })
    const stranger = await createEngine({ dataDir: await rig.dir('stranger'), deviceName: 'stranger', network: false })
    await tab.fill('#grant', grantToText(await other.addDevice(stranger.deviceOffer())))
    await tab.click('#join-account button')
    await tab.waitForFunction(() => document.querySelector('#error')?.textContent?.includes('ERR_DEVICE_NOT_LISTED') === true, undefined, { timeout: 30_000 })
    await Promise.all([other.stop(), stranger.stop()])
    expect(await tab.isHidden('#app')).toBe(true)
    await tab.fill('#account-name', 'Bea')
    await tab.click('#create-account button')
    await tab.waitForSelector('#app:not([hidden])')
    await context.close()
  })
})
