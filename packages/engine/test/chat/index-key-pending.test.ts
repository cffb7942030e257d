import { chatDocId } from '@tandem/protocol'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createEngine, type Engine } from '../../src/node/index.js'
import { openDoc } from './open-doc.js'

// A chat's segment index is a Y.Map, and two devices that start the same segment at once each
// set its key: Yjs keeps one entry and deletes the other where they meet. The deletion travels
// as a delete set, which applies at once, while the winning entry can wait as a pending struct
// (it follows writes of its device that have not come yet: a relay that crashed lost them and
// the device sends them again). Meanwhile the index names the segment nowhere on this device,
// though its messages are here. relay-crash, seed 2128992881 in CI: a device counted 3,000
// messages and its export (`allMessages`) listed 1,532, the first segment's.

const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map(e => e.stop()))
})

it('a chat read whole lists every segment the device counts, and finds their messages, while the index’s entry for one waits behind a pending write', async () => {
  const e = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: 'a',
    network: false,
    segments: { segmentMessages: 2 }
  })
  engines.push(e)
  await e.start()
  await e.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await e.createChat({ title: 'index' })
  const chat = openDoc(e, chatDocId(chatId))
  // another device of the account holds the chat before segment 2 began (its index: segment 1)
  await e.sendMessage(chatId, 'one')
  const other = new Y.Doc()
  other.clientID = 0xffffffff // (the higher client id: its entry is the one Yjs keeps)
  Y.applyUpdate(other, Y.encodeStateAsUpdate(chat))
  await e.sendMessage(chatId, 'two')
  await e.sendMessage(chatId, 'three') // segment 1 is full: this device starts segment 2 and writes there
  expect(chat.getMap('segments').has('2')).toBe(true)

  // the other device writes something first (lost on the way), then starts segment 2 itself
  const lost = Y.encodeStateVector(other)
  other.getMap('meta').set('note', 'lost on the way')
  const beforeSegment = Y.encodeStateVector(other)
  other.getMap('segments').set('2', 1)
  const itsEntry = Y.encodeStateAsUpdate(other, beforeSegment)
  // …then meets this device's entry for segment 2 and keeps its own: it deletes this device's
  const before = Y.encodeStateVector(other)
  Y.applyUpdate(other, Y.encodeStateAsUpdate(chat))
  const deletion = Y.encodeStateAsUpdate(other, before)
  expect(Y.encodeStateAsUpdate(other, lost).byteLength).toBeGreaterThan(0)

  // its entry comes (pending: the write before it did not), then the deletion (applied at once)
  Y.applyUpdate(chat, itsEntry, 'peer')
  Y.applyUpdate(chat, deletion, 'peer')
  expect(chat.store.pendingStructs).not.toBeNull()
  expect(chat.getMap('segments').has('2')).toBe(false)

  expect(e.messageCount(chatId)).toBe(3)
  expect((await e.allMessages(chatId)).map(m => m.text)).toEqual(['one', 'two', 'three'])
  // and a message of that segment is still found, to show or to react to
  const three = (await e.allMessages(chatId))[2]!
  expect((await e.getMessage(chatId, three.id)).text).toBe('three')
  expect((await e.react(chatId, three.id, '👍')).reactions).toHaveLength(1)
})
