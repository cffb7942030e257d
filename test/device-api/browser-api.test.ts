import { createServer, type Server } from 'node:http'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium } from '@tandem/bench/chromium'
import { Rig } from '../relay/relay-helpers.js'

// The device API called from a page in real Chromium, as the demo page calls it: a page of the
// allowed origin (--http-origin) posts calls with its token and follows /events with an
// EventSource (?token=); a page of another origin is refused by the browser (CORS).

const rig = new Rig()
let browser: Browser
const servers: Server[] = []

/** A blank page on its own origin (127.0.0.1, a free port). */
async function blankPage(): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>page</title>'))
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return `http://127.0.0.1:${address.port}`
}

beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  for (const s of servers) s.close()
  await rig.cleanup()
})

it('a page of the allowed origin calls the device and follows its events with EventSource; a page of another origin cannot', async () => {
  const [allowed, other] = [await blankPage(), await blankPage()]
  const device = rig.device('laptop', await rig.dir('laptop'), ['--http', '--http-origin', allowed])
  const served = await device.waitForEvent(e => e.event === 'http')
  const api = { url: served.url as string, token: served.token as string }

  const page = await browser.newPage()
  await page.goto(allowed)
  const text = await page.evaluate(async ({ url, token }) => {
    const call = async <T>(method: string, ...args: unknown[]): Promise<T> => {
      const res = await fetch(`${url}/rpc`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method, args })
      })
      const reply = (await res.json()) as { result: T } | { error: { code: string; message: string } }
      if ('error' in reply) throw new Error(`${reply.error.code}: ${reply.error.message}`)
      return reply.result
    }
    await call('createAccount', { name: 'Alice', recovery: false })
    const chat = await call<{ chatId: string }>('createChat', { title: 'Notes to self' })
    const events = new EventSource(`${url}/events?token=${token}`)
    await new Promise(resolve => events.addEventListener('open', resolve, { once: true }))
    const arrived = new Promise<string>(resolve => {
      events.onmessage = e => {
        const event = JSON.parse(e.data)
        if (event.type === 'message') resolve(event.message.text)
      }
    })
    await call('sendMessage', chat.chatId, 'from the page')
    const text = await arrived
    events.close()
    return text
  }, api)
  expect(text).toBe('from the page')

  const stranger = await browser.newPage()
  await stranger.goto(other)
  const refused = await stranger.evaluate(async ({ url, token }) => {
    try {
      await fetch(`${url}/rpc`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{"method":"info","args":[]}' })
      return 'answered'
    } catch (err) {
      return (err as Error).name
    }
  }, api)
  expect(refused).toBe('TypeError') // the browser's CORS refusal: the page never sees the answer
})
