import { afterEach, expect, it } from 'vitest'
import type { DeviceProcess } from '../helpers/device-process.js'
import { Rig } from '../relay/relay-helpers.js'
import { startCast } from './process-cast.js'

// Issue 16: edits, deletes for everyone, reactions, replies and a rename made concurrently on
// several devices of Alice, Bob and Carol while the relay is down (accounts reach each other
// only through it; an account's devices may still meet directly) converge to one state on all
// five devices once it is back. Then, down again, Alice removes Carol while both write: the
// members' four devices agree, and Carol never shows what Alice wrote after removing her.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

interface Shown {
  id: string
  author: string
  text: string
  edited: boolean
  reactions: Array<{ emoji: string; accounts: string[] }>
  replyTo: { id: string; deleted: boolean; text?: string } | null
  receipts: unknown[]
}

/** What a device shows of a chat: its title and every message in display order, with what every member's device must agree on (not this device's own sent status). */
async function shownOn(d: DeviceProcess, chatId: string): Promise<{ title: string; messages: Shown[] }> {
  const chats = await d.request<Array<{ chatId: string; title: string }>>('chats')
  const messages = await d.request<Shown[]>('all-messages', { chatId })
  return {
    title: chats.find(c => c.chatId === chatId)?.title ?? '(not listed)',
    messages: messages.map(m => ({ id: m.id, author: m.author, text: m.text, edited: m.edited, reactions: m.reactions, replyTo: m.replyTo, receipts: m.receipts }))
  }
}

/** Waits until every device shows the same chat and `done` holds for it: checked now and after any change any device reports. */
async function untilConverged(devices: DeviceProcess[], chatId: string, done: (s: Awaited<ReturnType<typeof shownOn>>) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const marks = devices.map(d => d.events.length)
    const states = await Promise.all(devices.map(d => shownOn(d, chatId)))
    const same = states.every(s => JSON.stringify(s) === JSON.stringify(states[0]))
    if (same && done(states[0]!)) return states[0]!
    const left = deadline - Date.now()
    if (left <= 0) {
      expect(states, 'what each device shows').toEqual(devices.map(() => states[0]))
      throw new Error(`the devices agree but not as expected: ${JSON.stringify(states[0])}`)
    }
    // the next change on any device (a message, an edit or reaction, a status, the chat list)
    const changed = (i: number) => (e: { event: string }) =>
      ['message', 'messages', 'message-changed', 'status', 'chats'].includes(e.event) && devices[i]!.events.indexOf(e as never) >= marks[i]!
    await Promise.race(devices.map((d, i) => d.waitForEvent(changed(i), left).catch(() => undefined)))
  }
}

it('edits, deletes for everyone, reactions, replies and renames made on five devices of three accounts while the relay is down converge to one state on all of them; a member removed while it is down gets nothing written after', async () => {
  const cast = await startCast(rig)
  const [alice1, alice2] = cast.alice
  const [bob1, bob2] = cast.bob
  const { carol } = cast
  const { ids } = cast
  const { chatId } = await alice1.request<{ chatId: string }>('create-group', { title: 'Saturday', members: [ids.bob, ids.carol] })
  for (const d of cast.all) await d.request('wait-chat', { chatId })
  const send = async (d: DeviceProcess, text: string) => (await d.request<{ id: string }>('send', { chatId, text })).id
  const plan = await send(alice1, 'plan for saturday')
  const snacks = await send(bob1, 'bring snacks')
  const drive = await send(carol, 'I can drive')
  for (const d of cast.all) await d.request('wait-messages', { chatId, count: 3 })

  // the relay goes away: the three accounts cannot reach each other
  const port = /\/tcp\/(\d+)\//.exec(cast.relay.address)![1]
  await cast.relay.stop()
  for (const d of cast.all) await d.waitForEvent(e => e.event === 'relay' && e.connected === false)
  const r = (d: DeviceProcess, messageId: string, emoji: string, on = true) => d.request('react', { chatId, messageId, emoji, on })
  const [, , , , , , , , , , late] = await Promise.all([
    alice1.request('edit', { chatId, messageId: plan, text: 'plan for sunday' }),
    alice2.request('edit', { chatId, messageId: plan, text: 'plan for monday' }),
    r(alice1, snacks, '👍'),
    r(alice2, snacks, '👍'),
    r(bob1, plan, '👍'),
    r(bob2, plan, '🎉'),
    bob2.request('delete', { chatId, messageId: snacks }),
    bob1.request('reply', { chatId, text: 'great, thanks', replyTo: drive }),
    carol.request('edit', { chatId, messageId: drive, text: 'I can drive both ways' }),
    carol.request('reply', { chatId, text: 'which snacks?', replyTo: snacks }),
    send(bob2, 'see you there'),
    r(carol, plan, '👍'),
    (async () => {
      await r(alice1, drive, '❤️')
      await r(alice1, drive, '❤️', false)
    })(),
    r(alice2, drive, '😮'),
    alice2.request('rename-chat', { chatId, title: 'Sunday' }),
    carol.request('rename-chat', { chatId, title: 'Monday' })
  ])
  expect(typeof late).toBe('string')

  // back on the same port and data: every device of every member ends showing the same
  const back = await rig.relay(cast.relayDir, [`/ip4/127.0.0.1/tcp/${port}`])
  const state = await untilConverged(cast.all, chatId, s => s.messages.length === 5 && s.messages.every(m => m.receipts.length === 2))
  const byText = new Map(state.messages.map(m => [m.text.split(' ').slice(0, 2).join(' '), m]))
  expect(['Sunday', 'Monday']).toContain(state.title)
  // the latest edit wins everywhere; the snacks message is gone, and the reply to it says so
  expect(['plan for sunday', 'plan for monday']).toContain(byText.get('plan for')!.text)
  expect(byText.get('plan for')).toMatchObject({ id: plan, edited: true })
  expect(state.messages.some(m => m.id === snacks)).toBe(false)
  expect(byText.get('which snacks?')!.replyTo).toEqual({ id: snacks, deleted: true })
  expect(byText.get('great, thanks')!.replyTo).toMatchObject({ id: drive, deleted: false, text: 'I can drive both ways' })
  expect(byText.get('I can')).toMatchObject({ id: drive, edited: true, text: 'I can drive both ways' })
  // one reaction per account and emoji, a removed one gone
  const sorted = (rs: Shown['reactions']) => rs.map(x => ({ emoji: x.emoji, accounts: [...x.accounts].sort() }))
  expect(sorted(byText.get('plan for')!.reactions)).toEqual([
    { emoji: '🎉', accounts: [ids.bob] },
    { emoji: '👍', accounts: [ids.bob, ids.carol].sort() }
  ])
  expect(byText.get('I can')!.reactions).toEqual([{ emoji: '😮', accounts: [ids.alice] }])
  expect(state.messages.find(m => m.id === late)).toMatchObject({ author: ids.bob, text: 'see you there' })

  // down again: Alice removes Carol on one device and writes on the other, Carol writes too
  const marks = cast.all.map(d => d.events.length)
  await back.stop()
  for (const [i, d] of cast.all.entries()) await d.waitForEvent(e => e.event === 'relay' && e.connected === false && d.events.indexOf(e) >= marks[i]!)
  const members = await alice1.request<string[]>('remove-member', { chatId, accountId: ids.carol })
  expect(members.sort()).toEqual([ids.alice, ids.bob].sort())
  const [, ownLast] = await Promise.all([send(carol, 'wait for me'), send(alice1, 'just the two of us')])
  await rig.relay(cast.relayDir, [`/ip4/127.0.0.1/tcp/${port}`])
  // the members' four devices agree, with Alice's message; Carol is refused from then on and never shows it
  const members4 = [alice1, alice2, bob1, bob2]
  const after = await untilConverged(members4, chatId, s => s.messages.some(m => m.id === ownLast))
  await carol.waitForEvent(e => e.event === 'error' && e.code === 'ERR_ACCESS_DENIED')
  expect((await shownOn(carol, chatId)).messages.some(m => m.id === ownLast)).toBe(false)
  for (const d of members4) expect((await d.request<Array<{ accountId: string }>>('members', { chatId })).map(m => m.accountId).sort()).toEqual([ids.alice, ids.bob].sort())
  expect(after.messages.filter(m => m.id !== ownLast && !m.text.startsWith('wait for')).map(m => m.id)).toEqual(state.messages.map(m => m.id))
}, 180_000)
