import type { SignedMembership } from '@tandem/protocol'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { decodeMessageRecord, encodeMessageRecord, type MessageRecord } from '../../src/model/message.js'
import { chatMembersOf } from '../../src/receipts/chat-members.js'
import { MemberHistory } from '../../src/receipts/member-history.js'
import { receiptsOf } from '../../src/receipts/message-receipts.js'
import { ReceiptBook } from '../../src/receipts/receipt-book.js'

// A group's ticks belong to the members a message was written to: an account added later does
// not take them back (simulator seed 20261131 with --people: delivered became sent again).

const message = (members?: number): MessageRecord => ({ id: 'm1', author: 'alice', device: 'a1', text: 'hi', wall: 10, counter: 0, ...(members === undefined ? {} : { members }) })

/** A chat doc whose history says who the members were at each version, and the chat's current record's members. */
function chat(versions: Record<number, string[]>, now: string[]) {
  const doc = new Y.Doc()
  const history = new MemberHistory(doc)
  doc.transact(() => {
    for (const [v, members] of Object.entries(versions)) history.record(Number(v), members)
  })
  const members = chatMembersOf(
    () => 'alice',
    () => ({ members: now }) as unknown as SignedMembership,
    (_chatId, version) => history.at(version)
  )
  return { doc, history, members }
}

describe('the members a message was written to', () => {
  it('keeps a message delivered when an account is added after it was written', () => {
    const { doc, members } = chat({ 1: ['alice', 'bob'], 2: ['alice', 'bob', 'carol'] }, ['alice', 'bob', 'carol'])
    const book = new ReceiptBook(doc)
    doc.transact(() => book.raise('delivered', 'bob', 'b1', { wall: 10, counter: 0, id: 'm1' }))
    // written under version 1: Bob alone is its recipient, and has it
    expect(members.of('chat', message(1))).toEqual({ members: ['alice', 'bob'], removed: [] })
    expect(receiptsOf(book, members.of('chat', message(1))!, message(1), 'sent').status).toBe('delivered')
    // written under version 2: Carol is a recipient too, and does not have it yet
    expect(receiptsOf(book, members.of('chat', message(2))!, message(2), 'sent').status).toBe('sent')
    // read against the members of now (a message from before versions were recorded), it waits for Carol too
    expect(receiptsOf(book, members.of('chat', message())!, message(), 'sent').status).toBe('sent')
  })

  it('no longer waits for an account removed since: its recipients are the members of then that are members still', () => {
    const { doc, members } = chat({ 1: ['alice', 'bob', 'carol'] }, ['alice', 'bob'])
    expect(members.of('chat', message(1))).toEqual({ members: ['alice', 'bob'], removed: ['carol'] })
    const book = new ReceiptBook(doc)
    doc.transact(() => book.raise('delivered', 'bob', 'b1', { wall: 10, counter: 0, id: 'm1' }))
    // Carol never got it and never will: Bob having it is delivered; Carol's tick is not shown
    expect(receiptsOf(book, members.of('chat', message(1))!, message(1), 'sent')).toEqual({ status: 'delivered', receipts: [{ account: 'bob', status: 'delivered' }] })
  })

  // simulator seeds 20261128 and 20261144 with --people: the one recipient of a message was removed from the group
  it('keeps a message delivered, and read, once every account it was written to has been removed since', () => {
    const { doc, members } = chat({ 1: ['alice', 'bob'], 2: ['alice', 'bob', 'carol'] }, ['alice'])
    const book = new ReceiptBook(doc)
    doc.transact(() => book.raise('delivered', 'bob', 'b1', { wall: 10, counter: 0, id: 'm1' }))
    // Bob had it when he left: delivered, on the author's device (base sent) and on one that never heard the ack (pending)
    expect(receiptsOf(book, members.of('chat', message(1))!, message(1), 'sent')).toEqual({ status: 'delivered', receipts: [{ account: 'bob', status: 'delivered' }] })
    expect(receiptsOf(book, members.of('chat', message(1))!, message(1), 'pending').status).toBe('delivered')
    // of two removed since, the furthest either got: Bob read it, Carol never had it
    doc.transact(() => book.raise('read', 'bob', 'b1', { wall: 10, counter: 0, id: 'm1' }))
    expect(receiptsOf(book, members.of('chat', message(2))!, message(2), 'sent')).toEqual({ status: 'read', receipts: [{ account: 'bob', status: 'read' }] })
  })

  it('shows a message sent once a recipient removed since had it, though no relay ack reached this device', () => {
    const { doc, members } = chat({ 1: ['alice', 'bob', 'carol'] }, ['alice', 'bob'])
    const book = new ReceiptBook(doc)
    doc.transact(() => book.raise('delivered', 'carol', 'c1', { wall: 10, counter: 0, id: 'm1' }))
    expect(receiptsOf(book, members.of('chat', message(1))!, message(1), 'pending')).toEqual({ status: 'sent', receipts: [{ account: 'carol', status: 'delivered' }] })
  })

  // simulator seed 20261128 with --people: every message of the chat fell back from delivered to pending meanwhile
  it('still knows a version while a concurrent write of it is deleted before the write that replaces it has arrived', () => {
    // two devices adopt version 1 at once: each writes it; Yjs keeps one, and the state of the device whose write lost deletes it
    const [a, b, c] = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
    a.clientID = 1
    b.clientID = 2
    c.clientID = 3
    b.getMap('other').set('earlier', 1) // (b wrote something before, which c has not had)
    const beforeWrite = Y.encodeStateVector(b)
    a.transact(() => new MemberHistory(a).record(1, ['alice', 'bob']))
    b.transact(() => new MemberHistory(b).record(1, ['alice', 'bob']))
    Y.applyUpdate(c, Y.encodeStateAsUpdate(a))
    expect(new MemberHistory(c).at(1)).toEqual(['alice', 'bob'])
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    // c gets b's write (with the delete of a's) but not what b wrote before it: the write waits, the delete does not
    Y.applyUpdate(c, Y.encodeStateAsUpdate(b, beforeWrite))
    expect(c.getMap('members').has('1')).toBe(false)
    expect(new MemberHistory(c).at(1)).toEqual(['alice', 'bob'])
    // the gap filled: the doc says it again
    Y.applyUpdate(c, Y.encodeStateAsUpdate(b))
    expect(c.getMap('members').has('1')).toBe(true)
    expect(new MemberHistory(c).at(1)).toEqual(['alice', 'bob'])
  })

  it('is unknown while the chat doc does not say who the members were at its version: its status waits', () => {
    const { members } = chat({ 1: ['alice', 'bob'] }, ['alice', 'bob', 'carol'])
    expect(members.of('chat', message(2))).toBeNull()
  })

  it('records a version once, and the relay’s record of a version where two members changed the chat at once replaces it', () => {
    const { doc, history } = chat({ 2: ['alice', 'bob', 'carol'] }, [])
    doc.transact(() => history.record(2, ['alice', 'bob', 'dave']))
    expect(history.at(2)).toEqual(['alice', 'bob', 'carol'])
    doc.transact(() => history.record(2, ['alice', 'bob', 'dave'], true))
    expect(history.at(2)).toEqual(['alice', 'bob', 'dave'])
    expect(history.at(3)).toBeNull()
  })

  it('rides in the message record after the reply id, so readers from before it still show the message', () => {
    for (const r of [message(3), { ...message(7), replyTo: 'm0' }, { ...message(), replyTo: 'm0' }, message()]) {
      const bytes = encodeMessageRecord(r)
      expect(decodeMessageRecord('m1', bytes)).toEqual(r)
    }
    // a record of a message that replies to nothing, under version 3: an empty reply id, then the version
    expect(encodeMessageRecord(message(3)).byteLength - encodeMessageRecord(message()).byteLength).toBe(2)
  })
})

describe('a watermark shown', () => {
  it('moves only once the update that moved it is on this device’s disk: a crash before that cannot take it back', async () => {
    const doc = new Y.Doc()
    let written!: () => void
    const onDisk = new Promise<void>(resolve => {
      written = resolve
    })
    const moves: string[] = []
    const book = new ReceiptBook(
      doc,
      ms => moves.push(...ms.map(m => `${m.kind} ${m.account}`)),
      () => onDisk
    )
    // another device's read mark arrives (applied in memory at once)
    const other = new Y.Doc()
    const theirs = new ReceiptBook(other)
    other.transact(() => theirs.raise('read', 'bob', 'b1', { wall: 10, counter: 0, id: 'm1' }))
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other))
    expect(book.watermark('read', 'bob')).toBeNull()
    expect(moves).toEqual([])
    written()
    await onDisk
    await Promise.resolve()
    expect(book.watermark('read', 'bob')).toEqual({ wall: 10, counter: 0, id: 'm1' })
    expect(moves.sort()).toEqual(['delivered bob', 'read bob'])
  })
})
