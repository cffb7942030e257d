import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { CHAT_APP, launchChromium, servePage } from '@tandem/bench/chromium'
import { Rig } from '../relay/relay-helpers.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { createAccount, openDevicePage, peerIdOf, shownDigits, shownLinkCode } from './chat-page.js'
import { fakeCameraArgs, writeQrVideo } from './fake-camera.js'

// Linking a device with the camera: Chromium's fake camera shows the QR code of the new
// device's link code (drawn from the text the new page shows), and the existing device's
// page reads it with qr-scanner and links, as it would a code held up to a laptop's camera.

const rig = new Rig()
let relay: RelayProcess
let relayWs: string
let app: { url: string; close(): Promise<void> }
let browser: Browser
let video: string

beforeAll(async () => {
  relay = await rig.relay(undefined, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'])
  relayWs = relay.multiaddrs.find(a => a.includes('/ws/'))!
  app = await servePage(CHAT_APP, await rig.dir('camera-app'))
  video = join(await rig.dir('camera'), 'qr.y4m')
  browser = await launchChromium(fakeCameraArgs(video))
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await rig.cleanup()
})

it('the existing device scans the new device’s QR code with the camera, and links it after the digits are confirmed', async () => {
  const laptop = await openDevicePage(browser, app.url, 'laptop', relayWs)
  await createAccount(laptop, 'Ann')
  const phone = await openDevicePage(browser, app.url, 'phone', relayWs)
  const phoneId = await peerIdOf(phone)
  // the QR symbol holds the code in capitals (QR's compact alphanumeric mode): read back either way
  await writeQrVideo(video, (await shownLinkCode(phone)).toUpperCase())
  await laptop.click('[data-testid="nav-devices"]')
  await laptop.click('[data-testid="scan"]')
  expect(await shownDigits(laptop, 'link-confirm-digits')).toBe(await shownDigits(phone, 'link-digits'))
  await laptop.click('[data-testid="link-confirm-yes"]')
  await laptop.waitForSelector('[data-testid="linked"]', { timeout: 60_000 })
  await laptop.waitForSelector(`[data-testid="device"][data-peer-id="${phoneId}"]`, { timeout: 60_000 })
  await phone.waitForSelector('[data-testid="chat-list"]', { timeout: 60_000 })
})
