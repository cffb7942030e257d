import { afterEach, expect, it } from 'vitest'
import type { DeviceProcess } from '../helpers/device-process.js'
import { Rig } from '../relay/relay-helpers.js'
import { directChat, listed, startCast, statusesShown, untilListed, untilStatus } from './process-cast.js'

// Issue 16's statuses with real processes: a relay, Alice with two devices, Bob with two,
// Carol with one. Each message of their 1:1 chat moves pending → sent → delivered → read, and
// both devices of its author show every step, in order, as events; reading on one device
// clears the unread count on the account's other device.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

const STEPS = ['pending', 'sent', 'delivered', 'read']

it("each message of a 1:1 chat moves pending → sent → delivered → read on both of its author's devices, and reading on one device clears the unread count on the other", async () => {
  const cast = await startCast(rig)
  const [alice1, alice2] = cast.alice
  const [bobPhone, bobLaptop] = cast.bob
  const chatId = await directChat(cast, alice1, bobLaptop)

  /** `author` sends; `other` is the author's other device; the reader's account reads on `readsOn` and its `otherReader` clears. */
  const round = async (author: DeviceProcess, other: DeviceProcess, readsOn: DeviceProcess, otherReader: DeviceProcess, text: string, authorId: string, readerId: string) => {
    const sent = await author.request<{ id: string; status: string }>('send', { chatId, text })
    for (const d of [author, other]) await untilStatus(d, sent.id, 'delivered')
    // the reader's devices both count it unread until one of them reads it
    for (const d of [readsOn, otherReader]) await untilListed(d, chatId, c => c.unreadCount === 1, 'one unread')
    await readsOn.request('mark-read', { chatId, messageId: sent.id })
    await untilListed(otherReader, chatId, c => c.unreadCount === 0 && c.readUpTo === sent.id, 'the unread count cleared by the other device')
    for (const d of [author, other]) await untilStatus(d, sent.id, 'read')
    expect(statusesShown(author, sent.id), `${author.label}'s statuses`).toEqual(STEPS)
    expect(statusesShown(other, sent.id), `${other.label}'s statuses`).toEqual(STEPS)
    // delivered and read name the reader's account; the author's own devices count nothing unread
    for (const d of [author, other]) {
      const named = d.events.filter(e => e.event === 'status' && e.status !== 'sent' && (e.messageIds as string[]).includes(sent.id)).map(e => e.account)
      expect(named).toEqual([readerId, readerId])
      expect((await listed(d, chatId)).unreadCount).toBe(0)
    }
    expect(authorId).not.toBe(readerId)
    return sent.id
  }
  await round(alice1, alice2, bobPhone, bobLaptop, 'hello Bob', cast.ids.alice, cast.ids.bob)
  await round(bobLaptop, bobPhone, alice2, alice1, 'hi Alice', cast.ids.bob, cast.ids.alice)
  await round(alice2, alice1, bobLaptop, bobPhone, 'lunch?', cast.ids.alice, cast.ids.bob)
}, 180_000)
