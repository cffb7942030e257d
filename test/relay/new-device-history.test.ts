import { afterAll, expect, it } from 'vitest'
import { Rig, sentIds, type Dump } from './relay-helpers.js'
import { acceptGrant, grantFor } from '../helpers/grant.js'

const rig = new Rig()
afterAll(() => rig.cleanup())

it('a new device, with every other device off, gets the full 10,000-message history from the relay and reports progress', async () => {
  const relay = await rig.relay()
  const a = rig.device('a', await rig.dir('a'), ['--relay', relay.address, '--no-sync'])
  await a.request('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'history' })
  await a.request('burst', { chatId, prefix: 'h', count: 10_000, concurrency: 64 }, 120_000)
  await a.waitForEvent(() => sentIds(a).size >= 10_000, 60_000)
  const history = (await a.request<Dump>('dump')).chats[0]!.messages.map(m => m.id)
  // b is listed by a, which then goes off: b joins with every other device off
  const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address])
  const grant = await grantFor(a, b)
  await a.stop()

  const t0 = performance.now()
  await acceptGrant(b, grant)
  await b.request('wait-messages', { chatId, count: 10_000 }, 120_000)
  console.log(`10,000-message history from the relay alone: ${(performance.now() - t0).toFixed(0)} ms (from joining)`)
  expect((await b.request<Dump>('dump')).chats.find(c => c.chatId === chatId)!.messages.map(m => m.id)).toEqual(history)

  // the relay's caught-up marker follows the last blob: wait for it (bounded)
  // (compressed: the whole history is ~20 B a message here, a later backlog a few hundred bytes)
  const big = (e: { bytesTotal?: unknown }): boolean => (e.bytesTotal as number) > 10_000 * 5
  await b.waitForEvent(e => e.event === 'progress' && e.caughtUp === true && big(e), 30_000)
  const all = b.events.filter(e => e.event === 'progress')
  // the catch-up of the history (a later reconnect reports its own, small, backlog)
  const end = all.findIndex(e => e.caughtUp === true && big(e))
  const start = all.findLastIndex((e, i) => i <= end && e.entriesDone === 0)
  const progress = all.slice(start, end + 1)
  expect(progress.length).toBeGreaterThan(2)
  const last = progress.at(-1)!
  expect(last.entriesDone).toBe(last.entriesTotal)
  expect(last.bytesTotal as number).toBeGreaterThan(10_000 * 5)
  // monotonic, and somewhere strictly between start and end
  const done = progress.map(p => p.bytesDone as number)
  expect([...done].sort((x, y) => x - y)).toEqual(done)
  expect(progress.some(p => (p.bytesDone as number) > 0 && (p.bytesDone as number) < (p.bytesTotal as number))).toBe(true)
})
