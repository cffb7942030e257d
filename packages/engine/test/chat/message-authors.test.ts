import * as Y from 'yjs'
import { expect, it } from 'vitest'
import { foreignMessage, foreignWriters } from '../../src/chat/message-authors.js'
import { encodeMessageRecord } from '../../src/model/message.js'

// A blob of a shared chat may add only messages of the account whose device signed it: the
// check reads the records a Yjs update adds, new entries and entries set anew alike.

const record = (id: string, author: string): Uint8Array => encodeMessageRecord({ id, author, device: 'dev', text: `text of ${id}`, wall: 1, counter: 0 })

/** The update `change` makes to a copy of `doc`, and that copy. */
function updateOf(doc: Y.Doc, change: (writer: Y.Doc) => void): Uint8Array {
  const writer = new Y.Doc()
  Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc))
  const before = Y.encodeStateVector(writer)
  change(writer)
  return Y.encodeStateAsUpdate(writer, before)
}

it('finds a new record claiming another account than the signer’s, and passes the signer’s own', () => {
  const reader = new Y.Doc()
  const own = updateOf(reader, w => w.getMap('messages').set('m1', record('m1', 'bob')))
  expect(foreignMessage(own, reader, 'bob')).toBeNull()
  const forged = updateOf(reader, w => {
    w.getMap('messages').set('m2', record('m2', 'bob'))
    w.getMap('messages').set('m3', record('m3', 'alice'))
  })
  expect(foreignMessage(forged, reader, 'bob')).toEqual({ id: 'm3', author: 'alice' })
})

it('finds a record set anew over an entry the reader holds (its parent named only by its origin), and one over an entry earlier in the same update', () => {
  const reader = new Y.Doc()
  Y.applyUpdate(
    reader,
    updateOf(reader, w => w.getMap('messages').set('m1', record('m1', 'alice')))
  )
  const overwrite = updateOf(reader, w => w.getMap('messages').set('m1', record('m1', 'alice')))
  expect(foreignMessage(overwrite, reader, 'bob')).toEqual({ id: 'm1', author: 'alice' })
  const twice = updateOf(reader, w => {
    w.getMap('messages').set('m4', record('m4', 'bob'))
    w.getMap('messages').set('m4', record('m4', 'alice'))
  })
  expect(foreignMessage(twice, reader, 'bob')).toEqual({ id: 'm4', author: 'alice' })
})

it('passes another account’s record the reader holds already (a copy), and entries of other maps', () => {
  const reader = new Y.Doc()
  const alices = updateOf(reader, w => w.getMap('messages').set('m1', record('m1', 'alice')))
  Y.applyUpdate(reader, alices)
  expect(foreignMessage(alices, reader, 'bob')).toBeNull()
  const other = updateOf(reader, w => w.getMap('annotations').set('m1', record('m1', 'alice')))
  expect(foreignMessage(other, reader, 'bob')).toBeNull()
})

it('names the clients of an update cut for upload that wrote another account’s messages, held or not', () => {
  const doc = new Y.Doc()
  const alice = new Y.Doc()
  alice.clientID = 7
  alice.getMap('messages').set('a1', record('a1', 'alice'))
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(alice))
  doc.getMap('messages').set('b1', record('b1', 'bob'))
  doc.getMap('receipts').set('bob:delivered', 1)
  const all = Y.encodeStateAsUpdate(doc)
  expect([...foreignWriters(all, doc, 'bob')]).toEqual([7])
  expect([...foreignWriters(all, doc, 'alice')]).toEqual([doc.clientID])
})
