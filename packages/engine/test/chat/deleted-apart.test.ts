import { segmentDocId } from '@tandem/protocol'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { segmentOfMessage } from '../../src/chat/chat-view.js'
import type { EngineEvent } from '../../src/events.js'
import { createEngine, type Engine } from '../../src/node/index.js'
import { openDoc } from './open-doc.js'

// A message deleted for everyone leaves two traces in its segment doc: a tombstone in the
// `deleted` map (an insert by the deleting device) and the record's removal from `messages`
// (a delete set). They need not arrive together: a device that holds the tombstone but not
// yet the message holds the removal only as a pending delete set, and its update events (what
// it passes on to its peers) carry the tombstone without it; the removal comes later, in an
// update of its own (a blob's whole delete set, a snapshot). Simulator seed 20261182 (with
// --people): a device got the tombstone so, crashed, and after its restart listed the chat
// before the removal came from the relay; its list kept the deleted message for good.

const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map(e => e.stop()))
})

async function device(): Promise<Engine> {
  const e = await createEngine({ store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }), deviceName: 'a', network: false })
  engines.push(e)
  await e.start()
  await e.createAccount({ name: 'Ann', recovery: false })
  return e
}

/**
 * Another device deletes `id` for everyone in a copy of `doc`: what a device that held the
 * tombstone but not the message passed on (the tombstone alone), and the removal (the
 * deleting device's whole state, whose delete set names the record).
 */
function deletedElsewhere(doc: Y.Doc, id: string): { tombstoneAlone: Uint8Array; removal: Uint8Array } {
  const deleter = new Y.Doc()
  Y.applyUpdate(deleter, Y.encodeStateAsUpdate(doc))
  const before = Y.encodeStateVector(deleter)
  deleter.transact(() => {
    deleter.getMap('deleted').set(id, true)
    deleter.getMap('messages').delete(id)
  })
  // a device that never held the message: the removal waits there as a pending delete set
  const between = new Y.Doc()
  let passedOn: Uint8Array | null = null
  between.on('update', (update: Uint8Array) => {
    passedOn = update
  })
  Y.applyUpdate(between, Y.encodeStateAsUpdate(deleter, before))
  expect(between.store.pendingDs).not.toBeNull()
  return { tombstoneAlone: passedOn!, removal: Y.encodeStateAsUpdate(deleter) }
}

describe('a message deleted for everyone, its tombstone and its removal apart', () => {
  it('leaves the list once its record leaves the doc, though its tombstone came before', async () => {
    const e = await device()
    const { chatId } = await e.createChat({ title: 'apart' })
    const kept = await e.sendMessage(chatId, 'kept')
    const gone = await e.sendMessage(chatId, 'gone')
    const doc = openDoc(e, segmentDocId(chatId, segmentOfMessage(gone.id)))
    const { tombstoneAlone, removal } = deletedElsewhere(doc, gone.id)
    const changes: EngineEvent[] = []
    e.subscribe(ev => {
      if (ev.type === 'message-changed') changes.push(ev)
    })

    Y.applyUpdate(doc, tombstoneAlone, 'peer')
    // the record is still in the doc: still listed (the list is built now, as a screen would)
    expect(doc.getMap('deleted').has(gone.id)).toBe(true)
    expect(e.listMessages(chatId).map(m => m.text)).toEqual(['kept', 'gone'])

    Y.applyUpdate(doc, removal, 'relay')
    expect(doc.getMap('messages').has(gone.id)).toBe(false)
    expect(e.listMessages(chatId).map(m => m.id)).toEqual([kept.id])
    // told as a deletion, this time too (the search index and the chat list go by it)
    expect(changes.filter(c => c.type === 'message-changed' && c.change === 'deleted' && c.messageIds.includes(gone.id))).toHaveLength(2)
  })

  it('is told deleted once when its tombstone and its removal come together', async () => {
    const e = await device()
    const { chatId } = await e.createChat({ title: 'together' })
    const gone = await e.sendMessage(chatId, 'gone')
    const doc = openDoc(e, segmentDocId(chatId, segmentOfMessage(gone.id)))
    const { removal } = deletedElsewhere(doc, gone.id)
    const changes: EngineEvent[] = []
    e.subscribe(ev => {
      if (ev.type === 'message-changed') changes.push(ev)
    })
    expect(e.listMessages(chatId)).toHaveLength(1)
    Y.applyUpdate(doc, removal, 'relay')
    expect(e.listMessages(chatId)).toHaveLength(0)
    expect(changes.filter(c => c.type === 'message-changed' && c.change === 'deleted')).toHaveLength(1)
  })
})
