import { afterEach, expect, it } from 'vitest'
import type { DeviceProcess } from '../helpers/device-process.js'
import { Rig } from '../relay/relay-helpers.js'
import { relayKeys } from './people-helpers.js'

// People on different relays, every part a process: two `tandem-relay` processes, Alice's
// device on relay A, Bob's two on relay B, each a `tandem-device --control` process. Bob's
// laptop accepts Alice's invite (naming relay A); his phone, which never saw the invite,
// finds the chat in his account doc and reaches relay A for it.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

interface Dump {
  chats: Array<{ chatId: string; title: string; messages: Array<{ text: string }> }>
}

const textsIn = async (d: DeviceProcess, chatId: string): Promise<string[]> =>
  ((await d.request<Dump>('dump')).chats.find(c => c.chatId === chatId)?.messages ?? []).map(m => m.text)

it('Alice on relay A, Bob’s two devices on relay B, all processes: the chat on A reaches Bob’s other device through his account doc, and relay B holds nothing of it or of Alice', async () => {
  const [dirA, dirB] = [await rig.dir('relay-a'), await rig.dir('relay-b')]
  const [relayA, relayB] = [await rig.relay(dirA), await rig.relay(dirB)]
  const device = async (label: string, relay: string): Promise<DeviceProcess> => rig.device(label, await rig.dir(label), ['--relay', relay])
  const alice = await device('alice', relayA.address)
  const [bobLaptop, bobPhone] = [await device('bob-laptop', relayB.address), await device('bob-phone', relayB.address)]
  const { accountId: aliceId } = await alice.request<{ accountId: string }>('create-account', { name: 'Alice', recovery: false })
  const { accountId: bobId } = await bobLaptop.request<{ accountId: string }>('create-account', { name: 'Bob', recovery: false })
  await bobPhone.joinVia(bobLaptop)

  const invite = await alice.request<{ text: string; relay: string }>('create-invite')
  expect(invite.relay).toBe(relayA.address)
  const chat = await bobLaptop.request<{ chatId: string }>('accept-invite', { text: invite.text })
  await bobPhone.request('wait-chat', { chatId: chat.chatId })
  await bobPhone.request('send', { chatId: chat.chatId, text: 'from the phone that never saw the invite' })
  await alice.request('wait-messages', { chatId: chat.chatId, count: 1 })
  await alice.request('send', { chatId: chat.chatId, text: 'hello both of you' })
  for (const d of [alice, bobLaptop, bobPhone]) {
    await d.request('wait-messages', { chatId: chat.chatId, count: 2 })
    expect(await textsIn(d, chat.chatId)).toEqual(['from the phone that never saw the invite', 'hello both of you'])
  }

  // every process off: which docs each relay holds, read from its keys
  for (const d of [alice, bobLaptop, bobPhone]) await d.stop()
  await relayA.stop()
  await relayB.stop()
  const [onA, onB] = [await relayKeys(dirA), await relayKeys(dirB)]
  expect(
    onA.some(k => k.startsWith(`doc!chat:${chat.chatId}`)),
    "the chat's doc on relay A"
  ).toBe(true)
  expect(
    onB.filter(k => k.includes(chat.chatId) || k.includes(aliceId)),
    "the chat's or Alice's keys on relay B"
  ).toEqual([])
  expect(
    onA.filter(k => k.startsWith('doc!') && k.includes(bobId)),
    "Bob's account doc on relay A"
  ).toEqual([])
  expect(
    onB.some(k => k === `doc!account:${bobId}`),
    "Bob's account doc on relay B"
  ).toBe(true)
}, 180_000)
