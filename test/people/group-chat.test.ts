import { join } from 'node:path'
import { createEngine, type Engine, type EngineEvent } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { chatDocId, docKey, DecryptError, nobleAead, nobleSignatures, openSealed, sealedEpoch, segmentDocId, UnknownEpochError } from '@tandem/protocol'
import { HistoryStore } from '@tandem/relay'
import { Level } from 'level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { Rig } from '../relay/relay-helpers.js'
import { account, netDevice, untilShows } from './people-helpers.js'

// A group of three accounts on one relay: any member adds and renames, a member is removed,
// and the removed account's device gets nothing written after it (the relay refuses it, and
// the bytes do not open with the keys it holds) while it keeps what it had.

const rig = new Rig()
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
  await rig.cleanup()
})

/** The epoch keys a device holds for a chat (K_1 … K_e): what it could open the chat's bytes with. */
const heldChatKeys = (device: Engine, chatId: string): Uint8Array[] =>
  (device as unknown as { shared: { keys: { keys(chatId: string): Uint8Array[] | null } } }).shared.keys.keys(chatId) ?? []

/** Every blob a stopped relay's data directory holds for `docId`, with the epoch each is sealed in. */
async function relayBlobs(relayDir: string, docId: string): Promise<Array<{ epoch: number | null; bytes: Uint8Array }>> {
  const db = new Level<string, Uint8Array>(join(relayDir, 'history'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 26, accountQuotaBytes: 1 << 30, sync: false })
  try {
    const out: Array<{ epoch: number | null; bytes: Uint8Array }> = []
    for (const e of await history.entriesAfter(docId, 0, 1000)) {
      const parts: Uint8Array[] = []
      for (let n = 0; n < e.parts; n++) parts.push((await history.readPart(e.upload, n))!)
      const bytes = Buffer.concat(parts)
      out.push({ epoch: sealedEpoch(bytes), bytes })
    }
    return out
  } finally {
    await history.close()
  }
}

it('a group of three: any member adds and renames; a removed member gets nothing written after its removal (refused, and unopenable with its keys) and keeps what it had', async () => {
  const relayDir = await rig.dir('relay')
  const relay = await rig.relay(relayDir)
  const [alice, bob, carol] = [await netDevice('alice', relay.address, stops), await netDevice('bob', relay.address, stops), await netDevice('carol', relay.address, stops)]
  await account('Alice', alice)
  await account('Bob', bob)
  await account('Carol', carol)
  const carolEvents: EngineEvent[] = []
  carol.subscribe(e => carolEvents.push(e))

  const group = await alice.createGroup({ title: 'Trio', members: [bob.accountId!] })
  await alice.sendMessage(group.chatId, 'before carol came')
  await untilShows(bob, group.chatId, ['before carol came'], 'the group on Bob’s device')
  expect(bob.listChats().find(c => c.chatId === group.chatId)?.title).toBe('Trio')

  // Bob, a member, adds Carol: she reads the history
  expect((await bob.addMembers(group.chatId, [carol.accountId!])).sort()).toEqual([alice.accountId, bob.accountId, carol.accountId].sort())
  await untilShows(carol, group.chatId, ['before carol came'], 'the history on Carol’s device')
  await carol.renameChat(group.chatId, 'Trio, renamed by Carol')
  await carol.sendMessage(group.chatId, 'carol was here')
  for (const d of [alice, bob]) {
    await untilShows(d, group.chatId, ['carol was here'], 'Carol’s message')
    await untilEngine(d, () => d.listChats().find(c => c.chatId === group.chatId)?.title === 'Trio, renamed by Carol', 'the new title')
  }

  // Alice removes Carol: a new epoch sealed to Alice and Bob; the relay drops Carol's subscriptions
  const atRemoval = carolEvents.length
  expect((await alice.removeMember(group.chatId, carol.accountId!)).sort()).toEqual([alice.accountId, bob.accountId].sort())
  await untilEngine(bob, () => bob.listMembers(group.chatId).length === 2, 'Bob sees two members')
  await untilEngine(carol, () => carolEvents.some(e => e.type === 'error' && (e.error as { code?: string }).code === 'ERR_ACCESS_DENIED'), 'the relay refuses the chat to Carol')
  await alice.sendMessage(group.chatId, 'after carol left')
  await untilShows(bob, group.chatId, ['after carol left'], 'the message after the removal on Bob’s device')
  const before = ['before carol came', 'carol was here']
  expect(carol.listMessages(group.chatId).map(m => m.text)).toEqual(before)
  // not even bytes it could not open came after the removal (a blob waiting for an author's chain, before, is another story)
  expect(carolEvents.slice(atRemoval).filter(e => e.type === 'rejected' || e.type === 'message' || e.type === 'messages')).toEqual([])
  expect(heldChatKeys(carol, group.chatId)).toHaveLength(1)
  expect(heldChatKeys(bob, group.chatId)).toHaveLength(2)

  // the bytes of the message after the removal: sealed in epoch 2, which Carol holds no key of, and not under her epoch 1 key either
  const carolKeys = heldChatKeys(carol, group.chatId)
  for (const d of [alice, bob, carol]) await d.stop()
  await relay.stop()
  const docId = segmentDocId(group.chatId, 1)
  const blobs = await relayBlobs(relayDir, docId)
  const late = blobs.filter(b => b.epoch === 2)
  expect(late.length).toBeGreaterThan(0)
  expect(blobs.filter(b => b.epoch === 1).length).toBeGreaterThan(0)
  for (const b of late) {
    const open = (keyFor: (epoch: number) => Uint8Array | null) => openSealed('blob', docId, b.bytes, { keyFor, standing: () => 'listed' }, nobleSignatures, nobleAead)
    await expect(open(epoch => (carolKeys[epoch - 1] === undefined ? null : docKey(carolKeys[epoch - 1]!, docId)))).rejects.toThrow(UnknownEpochError)
    await expect(open(() => docKey(carolKeys[0]!, docId))).rejects.toThrow(DecryptError)
  }
  expect(chatDocId(group.chatId)).toBe(`chat:${group.chatId}`)
}, 120_000)

/** Error codes of the `error` events in `events`. */
const errorCodes = (events: EngineEvent[]): string[] => events.flatMap(e => (e.type === 'error' ? [(e.error as { code?: string }).code ?? ''] : []))

it('a member removed while its device is online learns it at once: a `removed` event, listMembers without it, the chat read-only (ERR_NOT_A_MEMBER) with its history, its connection up and its other chats going', async () => {
  const relay = await rig.relay()
  const [alice, carol] = [await netDevice('alice', relay.address, stops), await netDevice('carol', relay.address, stops)]
  await account('Alice', alice)
  await account('Carol', carol)
  const group = await alice.createGroup({ title: 'Duo+', members: [carol.accountId!] })
  await alice.sendMessage(group.chatId, 'hello carol')
  await untilShows(carol, group.chatId, ['hello carol'], 'the group on Carol’s device')
  const mine = await carol.sendMessage(group.chatId, 'hello alice')
  await untilShows(alice, group.chatId, ['hello alice'], 'Carol’s message on Alice’s device')
  const notes = await carol.createChat({ title: 'notes' })
  const events: EngineEvent[] = []
  carol.subscribe(e => events.push(e))

  await alice.removeMember(group.chatId, carol.accountId!)
  // the record that removed her no longer names her: the relay sends it to her all the same, and her device checks it
  await untilEngine(carol, () => events.some(e => e.type === 'removed'), 'Carol’s device hears she was removed', 20_000)
  expect(events.find(e => e.type === 'removed')).toEqual({ type: 'removed', chatId: group.chatId, by: alice.accountId })
  expect(carol.listMembers(group.chatId).map(m => m.accountId)).toEqual([alice.accountId])
  expect(carol.listMembers(group.chatId).some(m => m.self)).toBe(false)
  // read-only, with its history: what she sent before stays sent
  await expect(carol.sendMessage(group.chatId, 'still here?')).rejects.toMatchObject({ code: 'ERR_NOT_A_MEMBER' })
  await expect(carol.editMessage(group.chatId, mine.id, 'edited')).rejects.toMatchObject({ code: 'ERR_NOT_A_MEMBER' })
  await expect(carol.react(group.chatId, mine.id, '👍')).rejects.toMatchObject({ code: 'ERR_NOT_A_MEMBER' })
  expect(carol.listChats().some(c => c.chatId === group.chatId)).toBe(true)
  expect(carol.listMessages(group.chatId).map(m => [m.text, m.status === 'failed'])).toEqual([
    ['hello carol', false],
    ['hello alice', false]
  ])
  const sent = await carol.sendMessage(notes.chatId, 'my notes go on')
  await untilEngine(carol, () => carol.listMessages(notes.chatId).find(m => m.id === sent.id)?.status === 'sent', 'Carol’s note sent')
  expect(carol.relayStatus().every(r => r.connected)).toBe(true)
  // (one event: the relay's record comes again at each session, and changes nothing then)
  expect(events.filter(e => e.type === 'removed')).toHaveLength(1)
}, 60_000)

// simulator seed 20261144 with --people: the ticks of a message were read against the members of
// now, and with its one recipient gone it fell back to sent (failed on the removed device)
it('a message its one recipient had stays delivered after that recipient is removed, on the author’s device and on the removed one’s', async () => {
  const relay = await rig.relay()
  const [alice, carol] = [await netDevice('alice', relay.address, stops), await netDevice('carol', relay.address, stops)]
  await account('Alice', alice)
  await account('Carol', carol)
  const group = await alice.createGroup({ title: 'Duo+', members: [carol.accountId!] })
  const hello = await alice.sendMessage(group.chatId, 'hello carol')
  const statusOn = (device: Engine): string | undefined => device.listMessages(group.chatId).find(m => m.id === hello.id)?.status
  await untilEngine(alice, () => statusOn(alice) === 'delivered', 'Alice’s message delivered to Carol')
  await untilEngine(carol, () => statusOn(carol) === 'delivered', 'Alice’s message delivered on Carol’s device')
  const events: EngineEvent[] = []
  carol.subscribe(e => events.push(e))

  await alice.removeMember(group.chatId, carol.accountId!)
  expect(alice.listMembers(group.chatId).map(m => m.accountId)).toEqual([alice.accountId])
  expect(statusOn(alice)).toBe('delivered')
  expect(alice.listMessages(group.chatId).find(m => m.id === hello.id)?.receipts).toEqual([{ account: carol.accountId, status: 'delivered' }])
  await untilEngine(carol, () => events.some(e => e.type === 'removed'), 'Carol’s device hears she was removed', 20_000)
  expect(statusOn(carol)).toBe('delivered')
}, 60_000)

it('a member removed while its device is away learns it when it comes back: what it wrote meanwhile is `failed`, kept on the device and never sent, and stays so after a restart', async () => {
  const relay = await rig.relay()
  const carolStore = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  const carolOn = async (relays: string[]): Promise<Engine> => {
    const e = await createEngine({ store: carolStore, deviceName: 'carol', network: { listen: ['/ip4/127.0.0.1/tcp/0'], relays, mdns: false } })
    await e.start()
    return e
  }
  const alice = await netDevice('alice', relay.address, stops)
  let carol = await carolOn([relay.address])
  await account('Alice', alice)
  await account('Carol', carol)
  const group = await alice.createGroup({ title: 'Duo+', members: [carol.accountId!] })
  await alice.sendMessage(group.chatId, 'hello carol')
  await untilShows(carol, group.chatId, ['hello carol'], 'the group on Carol’s device')
  await carol.stop()

  // away (no relay to reach): Alice removes her, and she writes to the group, not knowing
  await alice.removeMember(group.chatId, carol.accountId!)
  carol = await carolOn([])
  const away = await carol.sendMessage(group.chatId, 'written while away')
  expect(away.status).toBe('pending')
  await carol.stop()

  carol = await carolOn([relay.address])
  stops.push(() => carol.stop())
  const events: EngineEvent[] = []
  carol.subscribe(e => events.push(e))
  await untilEngine(carol, () => events.some(e => e.type === 'removed'), 'Carol’s device hears she was removed', 20_000)
  await untilEngine(carol, () => carol.listMessages(group.chatId).find(m => m.id === away.id)?.status === 'failed', 'her message failed')
  expect(carol.listMembers(group.chatId).some(m => m.self)).toBe(false)
  expect(carol.listMessages(group.chatId).map(m => m.text)).toEqual(['hello carol', 'written while away'])
  expect(carol.relayStatus().every(r => r.connected)).toBe(true)
  // (the relay refuses the chat to her, and the record she held, offered as she came back, as stale: nothing else)
  expect(errorCodes(events).filter(c => c !== 'ERR_ACCESS_DENIED' && c !== 'ERR_STALE_MEMBERSHIP')).toEqual([])
  expect(alice.listMessages(group.chatId).map(m => m.text)).toEqual(['hello carol'])

  // after a restart: still failed (the record that removed her is in her account doc), nothing waits to go
  await carol.stop()
  carol = await carolOn([relay.address])
  await untilEngine(carol, () => carol.relayStatus().every(r => r.connected), 'Carol back on the relay', 20_000)
  expect(carol.listMessages(group.chatId).find(m => m.id === away.id)?.status).toBe('failed')
  await expect(carol.sendMessage(group.chatId, 'again?')).rejects.toMatchObject({ code: 'ERR_NOT_A_MEMBER' })
  // (`failed`: by then nothing of the group's docs waits in her outbox, see SentTracker.isFailed)
}, 90_000)

it('group changes with bad input are typed errors: an unknown chat, this account itself, a chat of one account, a non-account', async () => {
  const relay = await rig.relay()
  const [alice, bob] = [await netDevice('alice', relay.address, stops), await netDevice('bob', relay.address, stops)]
  await account('Alice', alice)
  await account('Bob', bob)
  const own = await alice.createChat({ title: 'notes' })
  await expect(alice.addMembers('nope', [bob.accountId!])).rejects.toMatchObject({ code: 'ERR_UNKNOWN_CHAT' })
  await expect(alice.addMembers(own.chatId, [bob.accountId!])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  await expect(alice.createGroup({ title: 'g', members: [alice.accountId!] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  await expect(alice.createGroup({ title: 'g', members: ['bob'] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  await expect(alice.createGroup({ title: 7 as unknown as string, members: [bob.accountId!] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  const group = await alice.createGroup({ title: 'g', members: [bob.accountId!] })
  await expect(alice.removeMember(group.chatId, alice.accountId!)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  await expect(alice.removeMember(group.chatId, `a${'q'.repeat(32)}`)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  expect(
    alice
      .listChats()
      .map(c => c.title)
      .sort()
  ).toEqual(['g', 'notes'])
}, 60_000)
