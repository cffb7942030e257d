import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, expect, it } from 'vitest'
import type { ChatExport, Message } from '@tandem/engine'
import { DEVICE_MAIN } from '../helpers/device-process.js'
import { runToExit } from '../helpers/run-to-exit.js'
import { Rig } from './relay-helpers.js'

// Issue 16: search over the local history and export of a chat, on real processes: a relay,
// and two devices of one account on real level stores. Messages arriving from the other
// device (live, and as a history of several segments), edits and deletions are searchable
// as they come, and still after a restart and after a crash; an export holds every message.

const run = promisify(execFile)
const rig = new Rig()
afterEach(() => rig.cleanup())

const OLD = 2_500 // three segments of history: the oldest leaves memory on the device that fetches it
const ids = (found: Message[]): string[] => found.map(m => m.id)

it('finds messages from the other device as they come and change, after a restart and after a crash, and exports every message', async () => {
  const relay = await rig.relay()
  const aDir = await rig.dir('a')
  const bDir = await rig.dir('b')
  let a = rig.device('laptop', aDir, ['--relay', relay.address])
  await a.request('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'Trip <planning> & co' })
  const history = Array.from({ length: OLD }, (_, i) => (i === 0 ? 'the very first aardvark' : `history line ${i}`))
  await a.request('burst', { chatId, texts: history, concurrency: 8, quiet: true }, 120_000)
  const tricky = await a.request<Message>('send', { chatId, text: 'Pack the <script>alert("x")</script> tent & poles' })

  // b joins: the history comes from the relay, newest segment first, the oldest out of memory after
  let b = rig.device('phone', bDir, ['--relay', relay.address])
  await b.joinVia(a)
  await b.request('search', { query: 'aardvark' }) // (b's index starts now: the history comes as changes)
  await b.request('wait-messages', { chatId, count: OLD + 1 }, 60_000)
  const first = await b.request<Message[]>('search', { query: 'aardvark' })
  expect(first.map(m => [m.text, m.chatId])).toEqual([['the very first aardvark', chatId]])
  expect(await b.request<Message[]>('search', { query: 'history line', limit: 1000 })).toHaveLength(1000)

  // live from the other device: a message, its edit, a deletion
  await a.request('watch')
  const stove = await b.request<Message>('send', { chatId, text: 'Bring the stove & gas' })
  const walnut = await b.request<Message>('send', { chatId, text: 'temporary walnut' })
  await a.request('wait-newest', { chatId, messageId: walnut.id })
  expect(ids(await a.request<Message[]>('search', { query: 'stove' }))).toEqual([stove.id])
  const [found] = await a.request<Message[]>('search', { query: 'stove', chatId })
  expect(found).toMatchObject({ author: (await a.request<{ accountId: string }>('info')).accountId, device: (await b.request<{ peerId: string }>('info')).peerId })
  await b.request('edit', { chatId, messageId: stove.id, text: 'Bring the kettle & gas' })
  await b.request('delete', { chatId, messageId: walnut.id })
  await a.waitForEvent(e => e.event === 'message-changed' && e.change === 'deleted' && (e.messageIds as string[]).includes(walnut.id))
  await a.waitForEvent(e => e.event === 'message-changed' && e.change === 'edited' && (e.messageIds as string[]).includes(stove.id))
  expect(await a.request<Message[]>('search', { query: 'stove' })).toEqual([])
  expect(await a.request<Message[]>('search', { query: 'walnut' })).toEqual([])
  expect(ids(await a.request<Message[]>('search', { query: 'kettle gas' }))).toEqual([stove.id])
  expect(ids(await a.request<Message[]>('search', { query: 'tent' }))).toEqual([tricky.id])

  // a restart (a clean stop saved the index) and a crash (b killed: only what is on disk)
  await a.stop()
  a = rig.device('laptop-again', aDir, ['--relay', relay.address])
  expect(ids(await a.request<Message[]>('search', { query: 'kettle' }))).toEqual([stove.id])
  expect(await a.request<Message[]>('search', { query: 'aardvark' })).toHaveLength(1)
  const late = await b.request<Message>('send', { chatId, text: 'one more marmot' })
  await b.kill()
  b = rig.device('phone-again', bDir, ['--relay', relay.address])
  expect(ids(await b.request<Message[]>('search', { query: 'marmot' }))).toEqual([late.id])
  expect(ids(await b.request<Message[]>('search', { query: 'kettle' }))).toEqual([stove.id])
  expect(await b.request<Message[]>('search', { query: 'walnut' })).toEqual([])

  // export: every message in display order, with authors, devices and times; texts escaped in HTML
  await a.request('wait-newest', { chatId, messageId: late.id })
  const all = await a.request<Message[]>('all-messages', { chatId })
  const jsonFile = join(aDir, 'trip.json')
  await a.request('export', { chatId, format: 'json', out: jsonFile })
  const data = JSON.parse(await readFile(jsonFile, 'utf8')) as ChatExport
  expect(data.chat.title).toBe('Trip <planning> & co')
  expect(data.messages.map(m => m.id)).toEqual(all.map(m => m.id))
  expect(data.messages).toHaveLength(OLD + 3)
  const kettle = data.messages.find(m => m.id === stove.id)!
  expect(kettle).toMatchObject({ text: 'Bring the kettle & gas', edited: true, author: { name: 'Ann' }, device: { name: 'phone' } })
  expect(kettle.time).toBe(new Date(stove.timestamp.wall).toISOString())
  expect(data.messages[0]).toMatchObject({ text: 'the very first aardvark', device: { name: 'laptop' } })

  await a.stop()
  const htmlFile = join(aDir, 'trip.html')
  const oneShot = await runToExit([DEVICE_MAIN, 'export', '--data', aDir, '--chat', chatId, '--format', 'html', '--out', htmlFile], { timeoutMs: 60_000 })
  expect(oneShot).toMatchObject({ code: 0 })
  const html = await readFile(htmlFile, 'utf8')
  expect(html).not.toContain('<script>')
  expect(html).toContain('Pack the &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; tent &amp; poles')
  expect(html).toContain('<title>Trip &lt;planning&gt; &amp; co</title>')
  expect(html).toContain('Bring the kettle &amp; gas')
  expect(html).not.toContain('walnut')
  // the one-shot commands: a search prints one line per message; a wrong chat is one sentence with its code
  const { stdout } = await run(process.execPath, [DEVICE_MAIN, 'search', 'kettle', 'gas', '--data', aDir], { timeout: 60_000 })
  expect(stdout.trim().split('\n')).toEqual([`${new Date(stove.timestamp.wall).toISOString()}  ${chatId}  ${stove.id}  Bring the kettle & gas`])
  const wrong = await runToExit([DEVICE_MAIN, 'export', '--data', aDir, '--chat', 'nope', '--format', 'json'], { timeoutMs: 60_000 })
  expect(wrong).toEqual({ code: 1, stderr: 'tandem-device: unknown chat nope (ERR_UNKNOWN_CHAT)\n' })
  // every message's text, in display order
  let at = 0
  for (const m of all) {
    const next = html.indexOf(`id="m-${m.id}"`, at)
    expect(next, m.id).toBeGreaterThan(at)
    at = next
  }
}, 240_000)
