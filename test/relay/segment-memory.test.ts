import type { Engine } from '@tandem/engine'
import { expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { memoryDevicesPerTest, toRelay, writerOnRelay } from './relay-helpers.js'

// Segments nobody views leave memory, and stay up to date: a new device holding a chat of many
// small segments keeps the newest two in memory once the history is in; an edit made elsewhere
// to a message of an unloaded segment reaches it (the segment opens again for it); scrolling back
// brings older segments into memory, and the rest of the chat stays counted throughout. (The
// engines and the relay's store service in one process, over memory links; 10-message segments.)

const SEGMENT = 10
const N = 100
const { stops, device } = memoryDevicesPerTest(SEGMENT)

/** The segment docs of the chat open in memory. */
const openSegments = (e: Engine, chatId: string): number[] =>
  Object.keys(e.stateVectors())
    .filter(id => id.startsWith(`chat:${chatId}:`))
    .map(id => Number(id.split(':')[2]))
    .sort((x, y) => x - y)

it('a device keeps only the newest segments of a long chat in memory, still receives edits to the others, and brings them back as the person scrolls', async () => {
  const { relay, a, chatId } = await writerOnRelay(stops, device)
  const ids: string[] = []
  for (let i = 0; i < N; i++) ids.push((await a.sendMessage(chatId, `message ${i}`)).id)
  await untilEngine(a, () => a.relayStatus().every(r => r.pendingUploads === 0) && a.listMessages(chatId).every(m => m.status === 'sent'), 'the history on the relay')

  const b = await device('b')
  await linkDevices(a, b)
  const history: number[] = []
  b.subscribe(e => {
    if (e.type === 'history' && e.chatId === chatId) history.push(e.segmentsFetched)
  })
  toRelay(relay.service, b)
  await untilEngine(b, () => history.at(-1) === N / SEGMENT, 'every segment fetched', 30_000)
  expect(history).toEqual(Array.from({ length: N / SEGMENT }, (_, i) => i + 1))
  // once fetched, each older segment left memory; the count is whole
  expect(openSegments(b, chatId)).toEqual([N / SEGMENT - 1, N / SEGMENT])
  expect(b.messageCount(chatId)).toBe(N)
  expect(b.listMessages(chatId).map(m => m.id)).toEqual(ids.slice(-2 * SEGMENT))

  // an edit of the first message (segment 1, not in b's memory) reaches b
  let changed = false
  b.subscribe(e => {
    if (e.type === 'message-changed' && e.messageIds.includes(ids[0]!)) changed = e.change === 'edited' && e.origin === 'remote'
  })
  await a.editMessage(chatId, ids[0]!, 'the first, edited')
  await untilEngine(b, () => changed, 'the edit of a message in an unloaded segment')
  expect(openSegments(b, chatId)).toContain(1)
  expect((await b.getMessage(chatId, ids[0]!)).text).toBe('the first, edited')

  // scrolling back: pages come in display order, loading segments 8, 7, … as needed
  const page = await b.loadMessages(chatId, { before: ids[N - 2 * SEGMENT]!, limit: 25 })
  expect(page.map(m => m.id)).toEqual(ids.slice(N - 2 * SEGMENT - 25, N - 2 * SEGMENT))
  expect(openSegments(b, chatId)).toEqual(expect.arrayContaining([6, 7, 8, 9, 10]))
  expect(b.messageCount(chatId)).toBe(N)
  // every message, in order, read segment by segment
  const all = await b.allMessages(chatId)
  expect(all.map(m => m.id)).toEqual(ids)
  expect(all[0]).toMatchObject({ text: 'the first, edited', edited: true })
}, 60_000)
