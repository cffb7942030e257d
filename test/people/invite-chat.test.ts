import type { Engine, EngineEvent } from '@tandem/engine'
import { encodeMessageRecord } from '@tandem/engine/internal'
import { formatInviteText, segmentDocId } from '@tandem/protocol'
import type * as Y from 'yjs'
import { afterEach, expect, it } from 'vitest'
import type { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { Rig } from '../relay/relay-helpers.js'
import { account, netDevice, untilShows } from './people-helpers.js'

// Two accounts on one relay: an invite, a 1:1 chat every device of both sees, a safety number.

const rig = new Rig()
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
  await rig.cleanup()
})

async function twoAccounts(): Promise<{ relay: RelayProcess; alice: Engine[]; bob: Engine[] }> {
  const relay = await rig.relay()
  const alice = [await netDevice('alice-phone', relay.address, stops), await netDevice('alice-laptop', relay.address, stops)]
  const bob = [await netDevice('bob-phone', relay.address, stops), await netDevice('bob-laptop', relay.address, stops)]
  await account('Alice', alice[0]!, alice[1]!)
  await account('Bob', bob[0]!, bob[1]!)
  return { relay, alice, bob }
}

it('Bob accepts Alice’s invite: a 1:1 chat opens on both devices of each, messages both ways show on all four, and the safety numbers match', async () => {
  const { alice, bob } = await twoAccounts()
  const [alicePhone, aliceLaptop] = alice as [Engine, Engine]
  const [bobPhone, bobLaptop] = bob as [Engine, Engine]
  const invite = alicePhone.createInvite()
  expect(invite.text.startsWith('tandeminvite1-')).toBe(true)
  expect(invite.invite.accountId).toBe(alicePhone.accountId)

  // Alice's devices are all off the relay's mind: the chat reaches them through the relay alone
  const chat = await bobPhone.acceptInvite(invite.text)
  expect(chat.title).toBe('Alice')
  await bobPhone.sendMessage(chat.chatId, 'hello Alice, Bob here')
  await untilShows(alicePhone, chat.chatId, ['hello Alice, Bob here'], "Bob's message on Alice's phone")
  await untilShows(aliceLaptop, chat.chatId, ['hello Alice, Bob here'], "Bob's message on Alice's laptop")
  await aliceLaptop.sendMessage(chat.chatId, 'hi Bob, from my laptop')
  for (const [d, name] of [
    [alicePhone, "Alice's phone"],
    [bobPhone, "Bob's phone"],
    [bobLaptop, "Bob's laptop"]
  ] as const)
    await untilShows(d, chat.chatId, ['hello Alice, Bob here', 'hi Bob, from my laptop'], `both messages on ${name}`)

  // the same order everywhere, each written by its account
  const shown = (d: Engine) => d.listMessages(chat.chatId).map(m => `${m.author === alicePhone.accountId ? 'A' : 'B'}:${m.text}`)
  for (const d of [aliceLaptop, bobPhone, bobLaptop]) expect(shown(d)).toEqual(shown(alicePhone))
  expect(shown(alicePhone)).toEqual(['B:hello Alice, Bob here', 'A:hi Bob, from my laptop'])

  // contacts on both sides, and one safety number
  await untilEngine(alicePhone, () => alicePhone.listContacts().some(c => c.accountId === bobPhone.accountId), "Bob among Alice's contacts")
  expect(bobLaptop.listContacts().map(c => [c.accountId, c.name])).toEqual([[alicePhone.accountId, 'Alice']])
  expect(alicePhone.safetyNumber(bobPhone.accountId!)).toBe(bobLaptop.safetyNumber(alicePhone.accountId!))
  expect(alicePhone.safetyNumber(bobPhone.accountId!)).toMatch(/^(\d{5} ){11}\d{5}$/)
  expect(
    aliceLaptop
      .listMembers(chat.chatId)
      .map(m => m.accountId)
      .sort()
  ).toEqual([alicePhone.accountId, bobPhone.accountId].sort())
}, 120_000)

it('a garbled, expired or own invite is refused with a typed error, and nothing is stored', async () => {
  const relay = await rig.relay()
  const alice = await netDevice('alice', relay.address, stops)
  const bob = await netDevice('bob', relay.address, stops)
  await account('Alice', alice)
  await account('Bob', bob)
  const { text } = alice.createInvite()
  await expect(alice.acceptInvite(text)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  const typo = text.slice(0, 20) + (text[20] === 'q' ? 'p' : 'q') + text.slice(21)
  await expect(bob.acceptInvite(typo)).rejects.toMatchObject({ code: 'ERR_INVALID_INVITE' })
  await expect(bob.acceptInvite('hello')).rejects.toMatchObject({ code: 'ERR_INVALID_INVITE' })
  await expect(bob.acceptInvite({ text } as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  const { invite } = alice.createInvite({ ttlMs: 1000 })
  const expired = formatInviteText({ ...invite, expiresAt: Math.floor(Date.now() / 1000) * 1000 - 1000 })
  await expect(bob.acceptInvite(expired)).rejects.toMatchObject({ code: 'ERR_INVITE_EXPIRED' })
  expect(() => alice.createInvite({ ttlMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  expect(() => alice.safetyNumber('nobody')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  expect(bob.listChats()).toEqual([])
  expect(bob.listContacts()).toEqual([])
}, 60_000)

/** A device's view of a chat's newest record: its epoch, and the key generation each member's box is sealed to. */
const sealedTo = (device: Engine, chatId: string): { epoch: number; generations: Record<string, number> } => {
  const record = (
    device as unknown as { shared: { keys: { record(chatId: string): { keys: { epoch: number; boxes: Array<{ account: string; generation: number }> } } } } }
  ).shared.keys.record(chatId)
  return { epoch: record.keys.epoch, generations: Object.fromEntries(record.keys.boxes.map(b => [b.account, b.generation])) }
}

it('Alice revokes a device: her next message in the chat starts a new epoch, sealed to her new key generation, and Bob reads it', async () => {
  const { alice, bob } = await twoAccounts()
  const [alicePhone, aliceLaptop] = alice as [Engine, Engine]
  const [bobPhone] = bob as [Engine, Engine]
  const chat = await bobPhone.acceptInvite(alicePhone.createInvite().text)
  await bobPhone.sendMessage(chat.chatId, 'before the revocation')
  await untilShows(alicePhone, chat.chatId, ['before the revocation'], 'the first message on Alice’s phone')
  expect(sealedTo(alicePhone, chat.chatId)).toEqual({ epoch: 1, generations: { [alicePhone.accountId!]: 1, [bobPhone.accountId!]: 1 } })

  await alicePhone.revokeDevice(aliceLaptop.peerId)
  // the revocation starts Alice's generation 2 once the relay holds it; her phone writes next, in a new epoch
  await alicePhone.sendMessage(chat.chatId, 'after the revocation')
  await untilShows(bobPhone, chat.chatId, ['before the revocation', 'after the revocation'], 'the message after the revocation on Bob’s phone')
  expect(sealedTo(bobPhone, chat.chatId)).toEqual({ epoch: 2, generations: { [alicePhone.accountId!]: 2, [bobPhone.accountId!]: 1 } })
}, 120_000)

it('a message Bob’s phone writes as Alice’s is refused on Alice’s devices (ERR_FORGED_AUTHOR, counted as rejected) and never shown; Bob’s laptop’s next message still is', async () => {
  const { alice, bob } = await twoAccounts()
  const [alicePhone, aliceLaptop] = alice as [Engine, Engine]
  const [bobPhone, bobLaptop] = bob as [Engine, Engine]
  const chat = await bobPhone.acceptInvite(alicePhone.createInvite().text)
  await bobPhone.sendMessage(chat.chatId, 'a real one')
  await untilShows(aliceLaptop, chat.chatId, ['a real one'], 'the first message on Alice’s laptop')
  const rejected: EngineEvent[] = []
  aliceLaptop.subscribe(e => {
    if (e.type === 'rejected') rejected.push(e)
  })

  // Bob's phone writes a record into the chat's segment claiming Alice's account and phone, as its own write (sealed, signed and uploaded as Bob's)
  const docs = (bobPhone as unknown as { docs: { open(docId: string): Promise<Y.Doc> } }).docs
  const segment = await docs.open(segmentDocId(chat.chatId, 1))
  expect(segment.getMap('messages').size).toBe(1)
  segment.transact(() => {
    segment
      .getMap('messages')
      .set('forged-1', encodeMessageRecord({ id: 'forged-1', author: alicePhone.accountId!, device: alicePhone.peerId, text: 'I owe Bob 100', wall: Date.now(), counter: 0 }))
  })
  // (the phone's own later writes to the segment wait on Alice's side behind the refused one, as after any refused blob: Yjs applies a client's items in order)
  await untilShows(bobLaptop, chat.chatId, ['a real one', 'I owe Bob 100'], 'the forgery on Bob’s laptop (its own account’s devices are trusted)')
  await bobLaptop.sendMessage(chat.chatId, 'after the forgery')
  for (const d of [alicePhone, aliceLaptop]) await untilShows(d, chat.chatId, ['a real one', 'after the forgery'], 'Bob’s next message on Alice’s devices')
  const forged = (e: EngineEvent): boolean => e.type === 'rejected' && e.error.code === 'ERR_FORGED_AUTHOR'
  await untilEngine(aliceLaptop, () => rejected.some(forged), 'the forged blob rejected on Alice’s laptop')
  expect(rejected.find(forged)).toMatchObject({ chatId: chat.chatId, waiting: false })
  for (const d of [alicePhone, aliceLaptop]) expect(d.listMessages(chat.chatId).map(m => m.text)).toEqual(['a real one', 'after the forgery'])
}, 120_000)
