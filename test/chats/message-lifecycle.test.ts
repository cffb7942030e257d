import type { Engine, EngineEvent, Message, SendOptions } from '@tandem/engine'
import { afterEach, describe, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { account, netDevice } from '../people/people-helpers.js'
import { Rig } from '../relay/relay-helpers.js'

// Issue 16: the message lifecycle and the chat list between two accounts — Alice on her phone
// and laptop, Bob on one device — as engines in this process on real libp2p nodes, through a
// relay process.

const rig = new Rig()
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
  await rig.cleanup()
})

/** Alice (phone, laptop) and Bob (one device) with their 1:1 chat (Bob accepted Alice's invite), listed on all three. */
async function threeDevices(): Promise<{ phone: Engine; laptop: Engine; bob: Engine; chatId: string; events: Map<Engine, EngineEvent[]> }> {
  const relay = await rig.relay()
  const [phone, laptop, bob] = [await netDevice('phone', relay.address, stops), await netDevice('laptop', relay.address, stops), await netDevice('bob', relay.address, stops)]
  const events = new Map<Engine, EngineEvent[]>()
  for (const e of [phone, laptop, bob]) {
    const seen: EngineEvent[] = []
    events.set(e, seen)
    e.subscribe(ev => seen.push(ev))
  }
  await account('Alice', phone, laptop)
  await account('Bob', bob)
  const { chatId } = await bob.acceptInvite(phone.createInvite().text)
  for (const e of [phone, laptop]) await untilEngine(e, () => e.listChats().some(c => c.chatId === chatId), 'the chat reaches every device', 20_000)
  return { phone, laptop, bob, chatId, events }
}

/** The chat as the device's chat list shows it. */
const listed = (e: Engine, chatId: string) => e.listChats().find(c => c.chatId === chatId)!
/** A message's status on a device; undefined while the message, or its chat, has not reached it (a chat another device just made is unknown here until the account doc brings it). */
const statusOf = (e: Engine, chatId: string, id: string): string | undefined =>
  e.listChats().some(c => c.chatId === chatId) ? e.listMessages(chatId).find(m => m.id === id)?.status : undefined

describe('the message lifecycle', () => {
  it('a message moves pending → sent → delivered → read on every device, never back, and reading on one device clears the unread count on the other', async () => {
    const { phone, laptop, bob, chatId, events } = await threeDevices()
    const rank = ['pending', 'sent', 'delivered', 'read']
    // every status any device shows for Bob's messages, after every event: never behind what it showed before
    const furthest = new Map<string, number>()
    for (const e of [phone, laptop, bob])
      e.subscribe(() => {
        for (const m of e.listMessages(chatId)) {
          const key = `${e.peerId} ${m.id}`
          const r = rank.indexOf(m.status)
          expect(r).toBeGreaterThanOrEqual(furthest.get(key) ?? 0)
          furthest.set(key, r)
        }
      })
    const first = await bob.sendMessage(chatId, 'hi Alice')
    expect(first.status).toBe('pending')
    expect(first.author).toBe(bob.accountId)
    const second = await bob.sendMessage(chatId, 'are you there?')
    for (const e of [phone, laptop]) await untilEngine(e, () => listed(e, chatId).unreadCount === 2, 'two unread on each of Alice’s devices')
    expect(listed(phone, chatId).lastMessage).toMatchObject({ id: second.id, text: 'are you there?' })
    // Alice's devices hold them: delivered, as Bob's device and both of hers show it
    for (const e of [bob, phone, laptop]) await untilEngine(e, () => statusOf(e, chatId, second.id) === 'delivered', 'delivered everywhere')
    const onBob = events.get(bob)!.filter((ev): ev is Extract<EngineEvent, { type: 'status' }> => ev.type === 'status')
    expect(onBob.filter(ev => ev.status === 'sent').flatMap(ev => ev.messageIds)).toEqual([first.id, second.id])
    expect(onBob.some(ev => ev.status === 'delivered' && ev.account === phone.accountId && ev.messageIds.includes(second.id))).toBe(true)
    expect(bob.listMessages(chatId).map(m => m.receipts)).toEqual([[{ account: phone.accountId, status: 'delivered' }], [{ account: phone.accountId, status: 'delivered' }]])

    // Alice reads the first on her laptop: read there, and one unread left on her phone
    await laptop.markRead(chatId, first.id)
    await untilEngine(phone, () => listed(phone, chatId).unreadCount === 1, 'the phone counts one unread')
    expect(listed(phone, chatId).readUpTo).toBe(first.id)
    await untilEngine(bob, () => statusOf(bob, chatId, first.id) === 'read', 'Bob sees the first read')
    expect(statusOf(bob, chatId, second.id)).toBe('delivered')
    // then the second on her phone: nothing unread anywhere
    await phone.markRead(chatId, second.id)
    await untilEngine(laptop, () => listed(laptop, chatId).unreadCount === 0, 'the laptop clears its unread count')
    for (const e of [bob, phone, laptop]) await untilEngine(e, () => statusOf(e, chatId, second.id) === 'read', 'read everywhere')
    expect(onBob.length).toBeLessThan(events.get(bob)!.length) // (the array above was a snapshot)
    const readOnBob = events.get(bob)!.filter((ev): ev is Extract<EngineEvent, { type: 'status' }> => ev.type === 'status' && ev.status === 'read')
    expect(readOnBob.map(ev => ev.messageIds)).toEqual([[first.id], [second.id]])
    expect(new Set(readOnBob.map(ev => ev.account))).toEqual(new Set([phone.accountId]))

    // reading an older message again moves nothing back
    await laptop.markRead(chatId, first.id)
    expect(listed(laptop, chatId).readUpTo).toBe(second.id)
    expect(statusOf(laptop, chatId, second.id)).toBe('read')
    // Alice answers from her phone: her laptop shows every step of it too, sent included
    const own = await phone.sendMessage(chatId, 'yes!')
    const onLaptop = (id: string) =>
      events
        .get(laptop)!
        .flatMap(ev => (ev.type === 'message' && ev.message.id === id ? [ev.message.status] : ev.type === 'status' && ev.messageIds.includes(id) ? [ev.status] : []))
    await untilEngine(laptop, () => statusOf(laptop, chatId, own.id) === 'delivered', 'delivered to Bob, on the laptop')
    await bob.markRead(chatId, own.id)
    await untilEngine(laptop, () => statusOf(laptop, chatId, own.id) === 'read', 'read by Bob, on the laptop')
    expect(onLaptop(own.id)).toEqual(['pending', 'sent', 'delivered', 'read'])
    expect(listed(phone, chatId).unreadCount).toBe(0)
    // in a chat of one account nobody else reads: Alice's notes stay sent
    const notes = await phone.createChat({ title: 'notes' })
    const note = await phone.sendMessage(notes.chatId, 'buy milk')
    await untilEngine(phone, () => statusOf(phone, notes.chatId, note.id) === 'sent', 'the note sent')
    await untilEngine(laptop, () => statusOf(laptop, notes.chatId, note.id) === 'sent', 'the note sent, on the laptop')
    await laptop.markRead(notes.chatId, note.id)
    expect(statusOf(phone, notes.chatId, note.id)).toBe('sent')
    expect(listed(laptop, notes.chatId).unreadCount).toBe(0)
  })

  it('the chat list is the same on every device: last message, drafts, and a chats event naming the chat', async () => {
    const { phone, laptop, chatId, events } = await threeDevices()
    await phone.setDraft(chatId, 'half a tho')
    await untilEngine(laptop, () => listed(laptop, chatId).draft === 'half a tho', 'the draft on the laptop')
    await phone.setDraft(chatId, '')
    await untilEngine(laptop, () => listed(laptop, chatId).draft === '', 'the draft cleared on the laptop')
    const m = await phone.sendMessage(chatId, 'sent at last')
    const before = events.get(laptop)!.length
    await untilEngine(
      laptop,
      () =>
        events
          .get(laptop)!
          .slice(before)
          .some(e => e.type === 'chats' && e.chatIds?.includes(chatId) === true),
      'a chats event on the laptop'
    )
    expect(listed(laptop, chatId).lastMessage).toMatchObject({ id: m.id, text: 'sent at last' })
    expect(listed(laptop, chatId)).toMatchObject({ chatId, title: listed(phone, chatId).title, archived: false, muted: false, pinned: false, unreadCount: 0, draft: '' })
    // pinned on the laptop, muted on the phone, at once: both on both (the chat was listed on each device by itself)
    await Promise.all([laptop.updateChat(chatId, { pinned: true }), phone.updateChat(chatId, { muted: true })])
    for (const e of [phone, laptop]) await untilEngine(e, () => listed(e, chatId).pinned && listed(e, chatId).muted, 'pinned and muted on both')
  })

  it('replies show what they answer, or that it was deleted; delete for me hides a message on every device of the account and nowhere else', async () => {
    const { phone, laptop, bob, chatId, events } = await threeDevices()
    const question = await bob.sendMessage(chatId, 'lunch?')
    await untilEngine(phone, () => phone.messageCount(chatId) === 1, 'the question on the phone')
    const answer = await phone.sendMessage(chatId, 'yes', { replyTo: question.id })
    expect(answer.replyTo).toEqual({ id: question.id, deleted: false, author: bob.accountId, text: 'lunch?' })
    await untilEngine(laptop, () => laptop.listMessages(chatId).some(x => x.id === answer.id), 'the reply on the laptop')
    expect(laptop.listMessages(chatId).find(x => x.id === answer.id)!.replyTo).toEqual({ id: question.id, deleted: false, author: bob.accountId, text: 'lunch?' })
    // edited: the reply shows the latest text
    await bob.editMessage(chatId, question.id, 'lunch at 1?')
    await untilEngine(laptop, () => laptop.listMessages(chatId).find(x => x.id === answer.id)!.replyTo?.text === 'lunch at 1?', 'the edit in the reply')

    // the laptop deletes Bob's question for Alice: gone on her phone too, kept in the chat
    const third = await bob.sendMessage(chatId, 'or 2?')
    await untilEngine(laptop, () => laptop.messageCount(chatId) === 3, 'all three on the laptop')
    await laptop.deleteForMe(chatId, question.id)
    await untilEngine(phone, () => !phone.listMessages(chatId).some(x => x.id === question.id), 'hidden on the phone')
    expect(events.get(phone)!.some(e => e.type === 'message-changed' && e.change === 'hidden' && e.messageIds.includes(question.id))).toBe(true)
    expect(phone.listMessages(chatId).map(x => x.id)).toEqual([answer.id, third.id])
    expect(phone.listMessages(chatId).find(x => x.id === answer.id)!.replyTo).toEqual({ id: question.id, deleted: true })
    await expect(phone.getMessage(chatId, question.id)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_MESSAGE' })
    // kept in the chat for the other members: the record is still in the chat doc, and Bob,
    // whose devices never sync Alice's account doc, still shows it
    expect(phone.messageCount(chatId)).toBe(3)
    expect(bob.listMessages(chatId).map(x => x.id)).toEqual([question.id, answer.id, third.id])
    // pages skip it too: the newest two, then one before them, then the one after the first
    expect(phone.listMessages(chatId, { limit: 1, before: third.id }).map(x => x.id)).toEqual([answer.id])
    expect(phone.listMessages(chatId, { after: answer.id }).map(x => x.id)).toEqual([third.id])
    expect(bob.listMessages(chatId, { after: question.id, limit: 1 }).map(x => x.id)).toEqual([answer.id])

    // deleted for everyone: the reply on every device says so
    await bob.deleteMessage(chatId, third.id)
    const reply = await bob.sendMessage(chatId, 'never mind', { replyTo: answer.id })
    await untilEngine(phone, () => phone.messageCount(chatId) === 3, 'the reply on the phone')
    await phone.deleteMessage(chatId, answer.id)
    for (const e of [phone, laptop, bob])
      await untilEngine(e, () => e.listMessages(chatId).find(x => x.id === reply.id)?.replyTo?.deleted === true, 'the reply shows its message deleted')
    expect(laptop.listMessages(chatId).find(x => x.id === reply.id)!.replyTo).toEqual({ id: answer.id, deleted: true })
  })

  it('refuses bad input with ERR_INVALID_ARGUMENT (or an unknown chat or message) and stores nothing', async () => {
    const { phone, chatId } = await threeDevices()
    const m = await phone.sendMessage(chatId, 'one')
    const bad = (p: Promise<unknown>, code = 'ERR_INVALID_ARGUMENT') => expect(p).rejects.toMatchObject({ code })
    await bad(phone.sendMessage(chatId, { text: 'x' } as unknown as string))
    await bad(phone.sendMessage(chatId, 'x', { replyTo: 7 as unknown as string }))
    await bad(phone.sendMessage(chatId, 'x', { replyTo: 'no-such' }), 'ERR_UNKNOWN_MESSAGE')
    await bad(phone.sendMessage(chatId, 'x', null as unknown as SendOptions))
    await bad(phone.setDraft(chatId, { text: 'x' } as unknown as string))
    await bad(phone.setDraft('nope', 'x'), 'ERR_UNKNOWN_CHAT')
    await bad(phone.markRead(chatId, 5 as unknown as string))
    await bad(phone.markRead('nope', m.id), 'ERR_UNKNOWN_CHAT')
    await bad(phone.markRead(chatId, 'no-such'), 'ERR_UNKNOWN_MESSAGE')
    await bad(phone.deleteForMe(chatId, 'no-such'), 'ERR_UNKNOWN_MESSAGE')
    expect(() => phone.listMessages(chatId, { after: 3 as unknown as string })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(phone.listMessages(chatId).map((x: Message) => x.text)).toEqual(['one'])
    expect(listed(phone, chatId)).toMatchObject({ draft: '', readUpTo: null })
  })
})
