import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { launchChromium } from '@tandem/bench/chromium'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { alive, cleanup, type Demo, dirs, launch } from '../device-api/launcher-process.js'
import { openChat, Screenshots, send, untilShown, untilStatus } from './chat-page.js'

// What a person does after `npm start`: opens the printed page URLs, each the app driving one of
// the demo's device processes through its API, and chats. The launcher is the real one (node on
// its built file), the pages real Chromium, the devices real processes behind a real relay.

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})
afterEach(cleanup)

/** The printed page of a demo device, open in a browser context of its own. */
async function openPage(demo: Demo, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } })
  const tab = await context.newPage()
  await tab.goto(demo.devices.find(d => d.name === name)!.page)
  await tab.waitForSelector('[data-testid="chat-list"]', { timeout: 60_000 })
  return tab
}

it('the page URLs npm start prints open the app on each demo device: Alice and Bob find their chat with its history, and a message from Alice’s page reaches Bob’s and is read there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-demo-pages-'))
  dirs.push(dir)
  const screens = new Screenshots(await mkdtemp(join(tmpdir(), 'tandem-demo-screens-')))
  const started = launch(dir)
  const demo = await started.ready
  const [alice, bob] = [await openPage(demo, 'alice-laptop'), await openPage(demo, 'bob-laptop')]
  await alice.waitForSelector('[data-testid="chat-item"][data-title="Bob"]', { timeout: 60_000 })
  await screens.take(alice, 'alice-chat-list')

  await openChat(alice, 'Bob')
  const history = ['Hi Bob! This chat is end-to-end encrypted: the relay only keeps sealed blobs.']
  await untilShown(alice, history)
  await openChat(bob, 'Alice')
  await untilShown(bob, history)

  await send(alice, 'hello from the demo page')
  await untilShown(bob, ['hello from the demo page'])
  // Bob has the chat open: his device marks it read, and Alice's page shows the read tick
  await untilStatus(alice, 'hello from the demo page', 'read')
  await screens.take(alice, 'alice-read')
  await screens.take(bob, 'bob-chat')

  started.child.kill('SIGTERM')
  expect(await started.exited).toBe(0)
  expect(demo.pids.filter(alive)).toEqual([])
}, 240_000)
