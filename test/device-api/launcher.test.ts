import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { RemoteClient } from '@tandem/device/remote-client'
import { alive, cleanup, type Demo, dirs, launch } from './launcher-process.js'

// `npm start`'s launcher as npm start runs it (node on its built file; the build is `npm run
// build`'s, which `npm test` runs first), on a temp dir and free ports: the demo comes up
// ready, a message goes from Alice's laptop to Bob's over their APIs, SIGTERM stops every
// process it started, and a second start finds the demo as it was left.

afterEach(cleanup)

const client = (demo: Demo, name: string): RemoteClient => {
  const d = demo.devices.find(x => x.name === name)!
  return new RemoteClient(d.api, d.token)
}

it('starts a ready demo, carries a message from Alice to Bob, leaves no process behind on SIGTERM or Ctrl-C, keeps the demo for the next start, and sets it up anew with --fresh', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-demo-'))
  dirs.push(dir)
  const first = launch(dir)
  const demo = await first.ready
  expect(demo.devices.map(d => d.label)).toEqual(["Alice's laptop", "Alice's phone", "Bob's laptop"])
  for (const d of demo.devices) {
    const page = new URL(d.page)
    expect(page.origin + page.pathname).toBe(demo.app)
    expect(Object.fromEntries(page.searchParams)).toEqual({ api: d.api, token: d.token, name: d.name })
  }
  expect(new URL(demo.newDevice).searchParams.get('device')).toBe('new')
  const page = await fetch(demo.app)
  expect(page.status).toBe(200)
  expect(await page.text()).toMatch(/<html/i)
  // the app's pages may call the devices as the URL is printed (127.0.0.1) and as typed (localhost)
  const port = new URL(demo.app).port
  for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
    const preflight = await fetch(`${demo.devices[0]!.api}/rpc`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } })
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin)
  }

  // the demo is ready: Alice's two devices are one account, Bob shares a chat with history with her
  const { chatId } = JSON.parse(await readFile(join(dir, 'demo.json'), 'utf8')) as { chatId: string }
  const [laptop, phone, bob] = [client(demo, 'alice-laptop'), client(demo, 'alice-phone'), client(demo, 'bob-laptop')]
  const aliceId = (await laptop.call<{ accountId: string }>('info')).accountId
  expect((await phone.call<{ accountId: string }>('info')).accountId).toBe(aliceId)
  expect((await bob.call<{ accountId: string }>('info')).accountId).not.toBe(aliceId)
  expect((await laptop.call<Array<{ title: string }>>('listChats')).map(c => c.title).sort()).toEqual(['Bob', 'Notes to self'])
  expect((await bob.call<unknown[]>('listMessages', chatId)).length).toBeGreaterThanOrEqual(3)

  let arrived!: (text: string) => void
  const onBob = new Promise<string>(resolve => {
    arrived = resolve
  })
  const stream = bob.events(e => {
    if (e.type === 'message' && (e.message as { text: string }).text === 'sent from the test') arrived('sent from the test')
  })
  await stream.ready
  await laptop.call('sendMessage', chatId, 'sent from the test')
  expect(await onBob).toBe('sent from the test')
  stream.close()

  first.child.kill('SIGTERM')
  expect(await first.exited).toBe(0)
  expect(demo.pids.filter(alive)).toEqual([])
  for (const d of demo.devices) expect(existsSync(join(dir, d.name, 'http.json'))).toBe(false)

  // the next start finds the demo as it was: no setup, the message still there; Ctrl-C in its
  // terminal (SIGINT to the whole process group, the devices too) stops it as cleanly
  const second = launch(dir, true)
  const again = await second.ready
  expect((await client(again, 'bob-laptop').call<Array<{ text: string }>>('listMessages', chatId)).map(m => m.text)).toContain('sent from the test')
  process.kill(-second.child.pid!, 'SIGINT')
  expect(await second.exited).toBe(0)
  expect(again.pids.filter(alive)).toEqual([])

  // --fresh sets it up anew: other accounts, no message of before
  const third = launch(dir, false, ['--fresh'])
  const fresh = await third.ready
  const newLaptop = client(fresh, 'alice-laptop')
  expect((await newLaptop.call<{ accountId: string }>('info')).accountId).not.toBe(aliceId)
  const newChat = (JSON.parse(await readFile(join(dir, 'demo.json'), 'utf8')) as { chatId: string }).chatId
  expect((await newLaptop.call<Array<{ text: string }>>('listMessages', newChat)).map(m => m.text)).not.toContain('sent from the test')
  third.child.kill('SIGTERM')
  expect(await third.exited).toBe(0)
})
