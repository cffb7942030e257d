import { afterEach, expect, it } from 'vitest'
import { acceptGrant, grantFor } from '../helpers/grant.js'
import type { DeviceEvent } from '../helpers/device-process.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { Rig, sentIds } from './relay-helpers.js'

// Issue 15: a long chat is a run of segment docs of 1,000 messages (chat:<id>:<n>). A new
// device shows the newest segment first and the older ones after it, a few at a time; with
// `--history recent` it fetches only the newest two and the rest as the person scrolls back;
// edits and reactions to old messages made apart converge. Real relay and device processes.

const rig = new Rig()
afterEach(() => rig.cleanup())

interface Shown {
  id: string
  text: string
  edited: boolean
  reactions: Array<{ emoji: string; accounts: string[] }>
}

const SEGMENTS = 4
const N = SEGMENTS * 1000
const segmentOf = (id: string): number => Number(id.slice(0, id.indexOf('.')))

/** The segments of the chat's messages as they reached a device, in the order they first did. */
function arrivalOrder(events: DeviceEvent[], chatId: string): number[] {
  const order: number[] = []
  for (const e of events) {
    if (e.chatId !== chatId) continue
    const segment = e.event === 'message' ? segmentOf((e.message as { id: string }).id) : e.event === 'messages' ? (e.segment as number) : null
    if (segment !== null && !order.includes(segment)) order.push(segment)
  }
  return order
}

/** Resolves once the device has reported each (change, message id) as a remote `message-changed` event. */
function heard(d: ReturnType<Rig['device']>, changes: Array<[string, string]>): Promise<unknown> {
  const all = (): boolean =>
    changes.every(([change, id]) => d.events.some(e => e.event === 'message-changed' && e.origin === 'remote' && e.change === change && (e.messageIds as string[]).includes(id)))
  return d.waitForEvent(e => e.event === 'message-changed' && all(), 30_000)
}

async function writer(relay: RelayProcess): Promise<{ a: ReturnType<Rig['device']>; chatId: string; ids: string[]; accountId: string }> {
  const a = rig.device('a', await rig.dir('a'), ['--relay', relay.address, '--no-sync'])
  const { accountId } = await a.request<{ accountId: string }>('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'long' })
  await a.request('burst', { chatId, prefix: 'm', count: N, concurrency: 16, quiet: true }, 120_000)
  const ids = (await a.request<Shown[]>('all-messages', { chatId })).map(m => m.id)
  // (checked on status events only: sentIds reads every event)
  await a.waitForEvent(e => e.event === 'status' && sentIds(a).size >= N, 60_000)
  expect(ids.filter(id => !sentIds(a).has(id))).toEqual([])
  return { a, chatId, ids, accountId }
}

it('a new device of a chat with many segments shows the newest segment before any older one arrives, then the rest, a few at a time, counting them in', async () => {
  const relay = await rig.relay()
  const { a, chatId, ids } = await writer(relay)
  expect(new Set(ids.map(segmentOf))).toEqual(new Set([1, 2, 3, 4]))

  const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address])
  await b.request('watch')
  const grant = await grantFor(a, b)
  await a.stop() // the relay alone
  await acceptGrant(b, grant)
  await b.waitForEvent(e => e.event === 'history' && e.chatId === chatId && e.segmentsFetched === SEGMENTS, 60_000)
  const order = arrivalOrder(b.events, chatId)
  expect(order[0]).toBe(4)
  expect([...order].sort()).toEqual([1, 2, 3, 4])
  // the newest alone, then the older ones side by side (those that finish together count once)
  const progress = b.events.filter(e => e.event === 'history' && e.chatId === chatId).map(e => e.segmentsFetched as number)
  expect(progress[0]).toBe(1)
  expect(progress.at(-1)).toBe(SEGMENTS)
  expect(progress.every((p, i) => i === 0 || p > progress[i - 1]!)).toBe(true)
  expect(await b.request<number>('wait-messages', { chatId, count: N }, 30_000)).toBe(N)
  // every message, in the writer's order, though only the newest segments stay in memory
  expect((await b.request<Shown[]>('all-messages', { chatId })).map(m => m.id)).toEqual(ids)
  const screen = await b.request<Shown[]>('list-messages', { chatId, limit: 50 })
  expect(screen.map(m => m.id)).toEqual(ids.slice(-50))
}, 180_000)

it('with --history recent, older segments come only as the person scrolls back, a page at a time and in order', async () => {
  const relay = await rig.relay()
  const { a, chatId, ids } = await writer(relay)
  const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address, '--history', 'recent'])
  await b.request('watch')
  // the relay alone (an online device of the account shares the docs it has open, older segments too)
  const grant = await grantFor(a, b)
  await a.stop()
  await acceptGrant(b, grant)
  await b.waitForEvent(e => e.event === 'history' && e.chatId === chatId && e.segmentsFetched === 2, 60_000)
  expect(arrivalOrder(b.events, chatId)).toEqual([4, 3])
  const shown = await b.request<Shown[]>('list-messages', { chatId })
  expect(shown.map(m => m.id)).toEqual(ids.filter(id => segmentOf(id) >= 3))

  // scrolling back: each page is the 500 before the oldest shown, loading segment 2, then 1
  let oldest = shown[0]!.id
  const pages: string[][] = []
  for (let i = 0; i < 4; i++) {
    const page = await b.request<Shown[]>('load-messages', { chatId, before: oldest, limit: 500 })
    pages.push(page.map(m => m.id))
    oldest = page[0]!.id
  }
  expect(pages.flatMap((_, i) => pages[pages.length - 1 - i]!)).toEqual(ids.filter(id => segmentOf(id) <= 2))
  expect(arrivalOrder(b.events, chatId)).toEqual([4, 3, 2, 1])
  // nothing older than the first message
  expect(await b.request<Shown[]>('load-messages', { chatId, before: ids[0]!, limit: 10 })).toEqual([])
}, 180_000)

it('edits and reactions to old messages made on two devices apart converge to one state on both once they meet again', async () => {
  const relayDir = await rig.dir('relay')
  const relay = await rig.relay(relayDir)
  const { a, chatId, ids, accountId } = await writer(relay)
  const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address])
  await b.joinVia(a)
  await b.request('wait-messages', { chatId, count: N }, 60_000)

  // apart: the relay is gone (and no LAN): each edits and reacts to old messages of segment 1
  await relay.stop()
  const [first, second, third] = [ids[0]!, ids[1]!, ids[2]!]
  await a.request('edit', { chatId, messageId: first, text: 'edited on a' })
  await b.request('edit', { chatId, messageId: first, text: 'edited on b, later' })
  await a.request('edit', { chatId, messageId: second, text: 'only a edits this' })
  await a.request('react', { chatId, messageId: first, emoji: '👍' })
  await b.request('react', { chatId, messageId: first, emoji: '🎉' })
  await b.request('react', { chatId, messageId: third, emoji: '👍' })
  await a.request('react', { chatId, messageId: third, emoji: '👍' })
  await a.request('react', { chatId, messageId: third, emoji: '👍', on: false })
  await b.request('delete', { chatId, messageId: ids[3]! })

  // together again: same data, same port
  const port = relay.address.split('/tcp/')[1]!.split('/')[0]
  const again = await RelayProcess.start(relayDir, [], [`/ip4/127.0.0.1/tcp/${port}`])
  try {
    // each device hears of every change the other made apart (message-changed, remote)
    await Promise.all([
      heard(a, [
        ['edited', first],
        ['reactions', first],
        ['reactions', third],
        ['deleted', ids[3]!]
      ]),
      heard(b, [
        ['edited', first],
        ['edited', second],
        ['reactions', first],
        ['reactions', third]
      ])
    ])
    const state = async (d: typeof a): Promise<string> => JSON.stringify((await d.request<Shown[]>('all-messages', { chatId })).slice(0, 5))
    const same = (await state(a)) === (await state(b))
    const shown = await a.request<Shown[]>('all-messages', { chatId })
    expect(shown.slice(0, 3).map(m => [m.text, m.edited])).toEqual([
      ['edited on b, later', true],
      ['only a edits this', true],
      ['m-2', false]
    ])
    expect(shown[0]!.reactions).toEqual([
      { emoji: '🎉', accounts: [accountId] },
      { emoji: '👍', accounts: [accountId] }
    ])
    // one account, one 👍: a's removal and b's add raced; whichever Yjs kept, both show it
    expect(JSON.stringify(shown[2]!.reactions)).toBe(JSON.stringify((await b.request<Shown[]>('all-messages', { chatId }))[2]!.reactions))
    expect(shown.map(m => m.id)).not.toContain(ids[3])
    expect(same).toBe(true)
  } finally {
    await again.stop()
  }
}, 180_000)
