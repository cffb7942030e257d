import type { Engine, EngineEvent, Message, SendOptions } from '@tandem/engine'
import { afterEach, describe, expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { inProcessRelay, memoryDevice, toRelay } from '../relay/relay-helpers.js'

// Issue 16: the message lifecycle and the chat list, on real engines syncing through a real
// relay's store service (in this process, over memory links).

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
})

/**
 * Until chats have member accounts, a device of the account writes as another account
 * would: its messages' author is `accountId` (the only thing that differs in the doc). The
 * chat's members are still this account alone, so it is the recipient of those messages.
 */
function writesAs(e: Engine, accountId: string): void {
  const chats = (e as unknown as { chats: { account: { chain(): { accountId: string } } } }).chats
  const real = chats.account
  chats.account = new Proxy(real, {
    get: (target, key) => (key === 'chain' ? () => ({ ...target.chain(), accountId }) : Reflect.get(target, key, target))
  })
}

async function threeDevices(): Promise<{ phone: Engine; laptop: Engine; bob: Engine; chatId: string; events: Map<Engine, EngineEvent[]> }> {
  const relay = await inProcessRelay()
  stops.push(relay.stop)
  const [phone, laptop, bob] = [await memoryDevice('phone', stops), await memoryDevice('laptop', stops), await memoryDevice('bob', stops)]
  const events = new Map<Engine, EngineEvent[]>()
  for (const e of [phone, laptop, bob]) {
    const seen: EngineEvent[] = []
    events.set(e, seen)
    e.subscribe(ev => seen.push(ev))
  }
  await phone.createAccount({ name: 'Alice', recovery: false })
  const { chatId } = await phone.createChat({ title: 'with Bob' })
  toRelay(relay.service, phone)
  await linkDevices(phone, laptop)
  await linkDevices(phone, bob)
  toRelay(relay.service, laptop)
  toRelay(relay.service, bob)
  for (const e of [laptop, bob]) await untilEngine(e, () => e.listChats().length === 1, 'the chat reaches every device')
  writesAs(bob, 'bob')
  return { phone, laptop, bob, chatId, events }
}

const statusOf = (e: Engine, chatId: string, id: string): string | undefined => e.listMessages(chatId).find(m => m.id === id)?.status

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
    expect(first.author).toBe('bob')
    const second = await bob.sendMessage(chatId, 'are you there?')
    for (const e of [phone, laptop]) await untilEngine(e, () => e.listChats()[0]!.unreadCount === 2, 'two unread on each of Alice’s devices')
    expect(phone.listChats()[0]!.lastMessage).toMatchObject({ id: second.id, text: 'are you there?' })
    // Alice's devices hold them: delivered, as Bob's device and both of hers show it
    for (const e of [bob, phone, laptop]) await untilEngine(e, () => statusOf(e, chatId, second.id) === 'delivered', 'delivered everywhere')
    const onBob = events.get(bob)!.filter((ev): ev is Extract<EngineEvent, { type: 'status' }> => ev.type === 'status')
    expect(onBob.filter(ev => ev.status === 'sent').flatMap(ev => ev.messageIds)).toEqual([first.id, second.id])
    expect(onBob.some(ev => ev.status === 'delivered' && ev.account === phone.accountId && ev.messageIds.includes(second.id))).toBe(true)
    expect(bob.listMessages(chatId).map(m => m.receipts)).toEqual([[{ account: phone.accountId, status: 'delivered' }], [{ account: phone.accountId, status: 'delivered' }]])

    // Alice reads the first on her laptop: read there, and one unread left on her phone
    await laptop.markRead(chatId, first.id)
    await untilEngine(phone, () => phone.listChats()[0]!.unreadCount === 1, 'the phone counts one unread')
    expect(phone.listChats()[0]!.readUpTo).toBe(first.id)
    await untilEngine(bob, () => statusOf(bob, chatId, first.id) === 'read', 'Bob sees the first read')
    expect(statusOf(bob, chatId, second.id)).toBe('delivered')
    // then the second on her phone: nothing unread anywhere
    await phone.markRead(chatId, second.id)
    await untilEngine(laptop, () => laptop.listChats()[0]!.unreadCount === 0, 'the laptop clears its unread count')
    for (const e of [bob, phone, laptop]) await untilEngine(e, () => statusOf(e, chatId, second.id) === 'read', 'read everywhere')
    expect(onBob.length).toBeLessThan(events.get(bob)!.length) // (the array above was a snapshot)
    const readOnBob = events.get(bob)!.filter((ev): ev is Extract<EngineEvent, { type: 'status' }> => ev.type === 'status' && ev.status === 'read')
    expect(readOnBob.map(ev => ev.messageIds)).toEqual([[first.id], [second.id]])
    expect(new Set(readOnBob.map(ev => ev.account))).toEqual(new Set([phone.accountId]))

    // reading an older message again moves nothing back
    await laptop.markRead(chatId, first.id)
    expect(laptop.listChats()[0]!.readUpTo).toBe(second.id)
    expect(statusOf(laptop, chatId, second.id)).toBe('read')
    // Alice's own messages are nobody's to read in a chat of one account: they stay sent
    const own = await phone.sendMessage(chatId, 'yes!')
    await untilEngine(phone, () => statusOf(phone, chatId, own.id) === 'sent', 'sent')
    await laptop.markRead(chatId, own.id)
    expect(phone.listChats()[0]!.unreadCount).toBe(0)
  })

  it('the chat list is the same on every device: last message, drafts, and a chats event naming the chat', async () => {
    const { phone, laptop, chatId, events } = await threeDevices()
    await phone.setDraft(chatId, 'half a tho')
    await untilEngine(laptop, () => laptop.listChats()[0]!.draft === 'half a tho', 'the draft on the laptop')
    await phone.setDraft(chatId, '')
    await untilEngine(laptop, () => laptop.listChats()[0]!.draft === '', 'the draft cleared on the laptop')
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
    expect(laptop.listChats()[0]!.lastMessage).toMatchObject({ id: m.id, text: 'sent at last' })
    expect(laptop.listChats()[0]).toMatchObject({ chatId, title: 'with Bob', archived: false, muted: false, pinned: false, unreadCount: 0, draft: '' })
  })

  it('replies show what they answer, or that it was deleted; delete for me hides a message on every device of the account and nowhere else', async () => {
    const { phone, laptop, bob, chatId, events } = await threeDevices()
    const question = await bob.sendMessage(chatId, 'lunch?')
    await untilEngine(phone, () => phone.messageCount(chatId) === 1, 'the question on the phone')
    const answer = await phone.sendMessage(chatId, 'yes', { replyTo: question.id })
    expect(answer.replyTo).toEqual({ id: question.id, deleted: false, author: 'bob', text: 'lunch?' })
    await untilEngine(laptop, () => laptop.listMessages(chatId).some(x => x.id === answer.id), 'the reply on the laptop')
    expect(laptop.listMessages(chatId).find(x => x.id === answer.id)!.replyTo).toEqual({ id: question.id, deleted: false, author: 'bob', text: 'lunch?' })
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
    // kept in the chat for the other members: the record is still in the chat doc (Bob's
    // device here is one of Alice's account, so it hides it too; another account never syncs her account doc)
    expect(phone.messageCount(chatId)).toBe(3)
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
    expect(phone.listChats()[0]).toMatchObject({ draft: '', readUpTo: null })
  })
})
