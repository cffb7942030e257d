import * as Y from 'yjs'
import { expect, it } from 'vitest'
import { MessageLog } from '../src/model/message-log.js'

// A message's status is read from the Yjs item of its record (acked by a relay or not). A
// deletion for everyone can reach a device before the tombstone written beside it: the message
// is still shown then, and keeps the status of the record it was shown from.

it('names a message’s record item while it is deleted, where itemIdOf names none', () => {
  const log = new MessageLog(new Y.Doc(), null)
  log.append({ id: 'm1', author: 'acct', device: 'dev', text: 'hello', wall: 1, counter: 0 })
  const item: [number, number] = [log.doc.clientID, 0]
  expect(log.itemIdOf('m1')).toEqual(item)
  log.messages.delete('m1')
  expect(log.itemIdOf('m1')).toBeUndefined()
  expect(log.shownItemIdOf('m1')).toEqual(item)
  expect(log.shownItemIdOf('never')).toBeUndefined()
})
