import { createEngine, type Engine } from '@tandem/engine'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAT_APP, launchChromium, servePage } from '@tandem/bench/chromium'
import { Rig } from '../relay/relay-helpers.js'
import { untilEngine } from '../helpers/until.js'
import { createAccount, openChat, send, untilShown } from './chat-page.js'
import { serveRemoteWire } from './remote-wire-server.js'

// The chat app driving a device in another process over the remote device wire
// (`?api=<url>&token=<t>`: RemoteDevice, fetch and EventSource in real Chromium), against a
// small server of that wire in this process over a real Node engine.

const TOKEN = 'test-token-4f9a'
const rig = new Rig()
let app: { url: string; close(): Promise<void> }
let browser: Browser
let engine: Engine
let wire: { url: string; close(): Promise<void> }

async function openRemotePage(token: string): Promise<Page> {
  const tab = await (await browser.newContext()).newPage()
  await tab.goto(`${app.url}?api=${encodeURIComponent(wire.url)}&token=${token}`)
  return tab
}

beforeAll(async () => {
  app = await servePage(CHAT_APP, await rig.dir('remote-app'))
  browser = await launchChromium()
  engine = await createEngine({ dataDir: await rig.dir('remote-node'), deviceName: 'desk', network: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
  await engine.start()
  wire = await serveRemoteWire(engine, TOKEN)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await wire?.close()
  await engine?.stop()
  await rig.cleanup()
})

describe('the chat app on a remote device', () => {
  let tab: Page

  it('creates the account on the Node device from the page, and each side sees what the other sends (calls over /rpc, events over /events)', async () => {
    tab = await openRemotePage(TOKEN)
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    expect(await tab.getAttribute('#status', 'data-peer-id')).toBe(engine.peerId)
    // the token left the address bar, and a reload still finds it (this tab keeps it)
    expect(new URL(tab.url()).searchParams.has('token')).toBe(false)
    await tab.reload()
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    expect(await tab.getAttribute('#status', 'data-peer-id')).toBe(engine.peerId)
    await createAccount(tab, 'Rita')
    expect(engine.accountInfo?.name).toBe('Rita')
    const chatId = engine.listChats().find(c => c.title === 'Notes to self')!.chatId
    await openChat(tab, 'Notes to self')
    await send(tab, 'typed in the page')
    await untilEngine(engine, () => engine.listMessages(chatId).some(m => m.text === 'typed in the page'), 'the Node device has the message typed in the page')
    // an event, not a call, tells the page: the message the Node device sends shows up
    await engine.sendMessage(chatId, 'sent by the Node device')
    await untilShown(tab, ['typed in the page', 'sent by the Node device'])
  })

  it('an engine error comes through with its code, as a sentence on the page', async () => {
    await tab.click('[data-testid="nav-new-chat"]')
    await tab.fill('[data-testid="their-invite"]', 'tandeminvite1-not-really')
    await tab.click('[data-testid="accept-invite"]')
    await tab.waitForFunction(() => document.querySelector('#error:not([hidden])')?.textContent?.includes('(ERR_INVALID_INVITE)') === true, undefined, { timeout: 30_000 })
  })

  it('a page with the wrong token is refused, and says so with the code', async () => {
    const stranger = await openRemotePage('wrong-token')
    await stranger.waitForSelector('#error:not([hidden])', { timeout: 30_000 })
    expect(await stranger.textContent('#error')).toContain('(ERR_UNAUTHORIZED)')
    await stranger.context().close()
  })

  it('a page whose device stops answering says the device is unreachable', async () => {
    await wire.close()
    await tab.waitForSelector('#status[data-device="unreachable"]', { timeout: 30_000 })
    expect(await tab.textContent('#status')).toContain('device unreachable')
  })
})
