import * as Y from 'yjs'
import { expect, it } from 'vitest'
import { withoutDeletionsOf } from '../src/relay/delete-set.js'

/** Client 9's three list items as written, and a doc where client 5 added three more and deletions took some of each. */
function twoWriters(): { nine: Uint8Array; doc: Y.Doc } {
  const writer = new Y.Doc()
  writer.clientID = 9
  writer.getArray('l').push(['9a', '9b', '9c'])
  const nine = Y.encodeStateAsUpdate(writer)
  const doc = new Y.Doc()
  doc.clientID = 5
  Y.applyUpdate(doc, nine)
  const l = doc.getArray<string>('l')
  l.push(['5a', '5b', '5c'])
  for (const gone of ['5b', '9a', '9c']) l.delete(l.toArray().indexOf(gone), 1)
  return { nine, doc }
}

it('drops the deletions of the named clients’ items from an update, and keeps its structs and every other deletion', () => {
  const { nine, doc } = twoWriters()
  // client 9's items left out, as a cut leaves another account's writers out: its deletions only in the delete set
  const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(new Map([[9, 3]])))
  const stripped = withoutDeletionsOf(update, new Set([9]))
  expect(stripped.byteLength).toBeLessThan(update.byteLength)
  expect([...Y.decodeUpdate(stripped).ds.clients.keys()]).toEqual([5])
  const reader = new Y.Doc()
  Y.applyUpdate(reader, nine)
  Y.applyUpdate(reader, stripped)
  expect(reader.getArray('l').toArray()).toEqual(['9a', '9b', '9c', '5a', '5c'])
  const whole = new Y.Doc()
  Y.applyUpdate(whole, nine)
  Y.applyUpdate(whole, update)
  expect(whole.getArray('l').toArray()).toEqual(['9b', '5a', '5c'])
  // (the delete set as written is Yjs' own: it comes out whole, byte for byte, when it names none of them)
  expect(withoutDeletionsOf(update, new Set([1]))).toBe(update)
  expect(Y.decodeUpdate(withoutDeletionsOf(update, new Set([5, 9]))).ds.clients.size).toBe(0)
})
