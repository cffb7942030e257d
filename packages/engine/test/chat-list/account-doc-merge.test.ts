import * as Y from 'yjs'
import { expect, it } from 'vitest'
import { AccountDoc } from '../../src/model/account-doc.js'

// Two devices of an account list a shared chat at once (each hears of it from the relay): the
// two entries merge into one, and what either device changed in it afterwards survives the merge.

const entry = (createdAt: number) => ({ chatId: 'c0ffee', title: 'Bob', createdAt, archived: false, muted: false, pinned: false })

it('a chat listed on two devices at once keeps the draft, pin and mute each device set before the merge', () => {
  const [phone, laptop] = [new Y.Doc(), new Y.Doc()]
  phone.clientID = 1
  laptop.clientID = 2
  const [a, b] = [new AccountDoc(phone), new AccountDoc(laptop)]
  a.addChat(entry(10))
  b.addChat(entry(11))
  expect(a.setDraft('c0ffee', 'half a tho')).toBe(true)
  a.updateChat('c0ffee', { pinned: true })
  b.updateChat('c0ffee', { muted: true, title: 'Bob B.' })
  Y.applyUpdate(phone, Y.encodeStateAsUpdate(laptop))
  Y.applyUpdate(laptop, Y.encodeStateAsUpdate(phone))
  for (const d of [a, b]) {
    expect(d.draftOf('c0ffee')).toBe('half a tho')
    expect(d.getChat('c0ffee')).toMatchObject({ title: 'Bob B.', pinned: true, muted: true, archived: false })
  }
  expect(a.getChat('c0ffee')).toEqual(b.getChat('c0ffee'))
  // cleared on one, cleared on both; a chat not listed takes nothing
  b.setDraft('c0ffee', '')
  Y.applyUpdate(phone, Y.encodeStateAsUpdate(laptop))
  expect(a.draftOf('c0ffee')).toBe('')
  expect(a.setDraft('nope', 'x')).toBe(false)
  expect(a.updateChat('nope', { pinned: true })).toBe(false)
  expect(a.chatFields.size).toBe(4)
})
