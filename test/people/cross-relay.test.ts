import { createEngine, type Engine } from '@tandem/engine'
import { afterEach, expect, it } from 'vitest'
import { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { Rig } from '../relay/relay-helpers.js'
import { account, netDevice, relayKeys, untilShows } from './people-helpers.js'

// Issue 16, people on different relays: a relay per family (two `tandem-relay` processes),
// Alice's devices on relay A, Bob's on relay B. A chat lives on the relay its invite named;
// every member's devices reach it, and neither home relay learns the other family's docs.

const rig = new Rig()
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
  await rig.cleanup()
})

/** A device on a data directory (it restarts with what it held), reaching `relay`. */
async function diskDevice(name: string, dataDir: string, relay: string): Promise<Engine> {
  const e = await createEngine({ dataDir, deviceName: name, network: { listen: ['/ip4/127.0.0.1/tcp/0'], relays: [relay], mdns: false } })
  await e.start()
  return e
}

const portOf = (address: string): string => /\/tcp\/(\d+)/.exec(address)![1]!

it('Alice on relay A invites Bob on relay B: the chat lives on A and shows on all four devices both ways, Alice learns Bob’s name, B keeps none of it nor of Alice, A none of Bob’s own docs, and each keeps working with the other relay down', async () => {
  const [dirA, dirB] = [await rig.dir('relay-a'), await rig.dir('relay-b')]
  let relayA = await RelayProcess.start(dirA)
  let relayB = await RelayProcess.start(dirB)
  stops.push(
    () => relayA.stop(),
    () => relayB.stop()
  )
  const [alicePhone, aliceLaptop] = [await netDevice('alice-phone', relayA.address, stops), await netDevice('alice-laptop', relayA.address, stops)]
  const laptopDir = await rig.dir('bob-laptop')
  const bobPhone = await netDevice('bob-phone', relayB.address, stops)
  let bobLaptop = await diskDevice('bob-laptop', laptopDir, relayB.address)
  stops.push(() => bobLaptop.stop())
  await account('Alice', alicePhone, aliceLaptop)
  await account('Bob', bobPhone, bobLaptop)
  const aliceId = alicePhone.accountId!
  const bobId = bobPhone.accountId!

  // the invite names relay A, which none of Bob's devices uses: accepting it makes them reach it
  const invite = alicePhone.createInvite()
  expect(invite.invite.relay).toBe(relayA.address)
  const chat = await bobPhone.acceptInvite(invite.text)
  await bobPhone.sendMessage(chat.chatId, 'hello Alice, from relay B')
  await untilShows(aliceLaptop, chat.chatId, ['hello Alice, from relay B'], "Bob's message on Alice's laptop")
  await aliceLaptop.sendMessage(chat.chatId, 'hi Bob, from relay A')
  for (const [d, name] of [
    [alicePhone, "Alice's phone"],
    [bobPhone, "Bob's phone"],
    [bobLaptop, "Bob's laptop (told of the chat by his account doc, from relay B)"]
  ] as const)
    await untilShows(d, chat.chatId, ['hello Alice, from relay B', 'hi Bob, from relay A'], `both messages on ${name}`)
  // Alice's side learns who accepted from the chat doc (sealed): Bob is her contact by name, and the chat is titled with it
  for (const d of [alicePhone, aliceLaptop]) {
    await untilEngine(d, () => d.listChats().find(c => c.chatId === chat.chatId)?.title === 'Bob', "the chat titled 'Bob' on Alice's devices")
    expect(d.listContacts().map(c => [c.accountId, c.name])).toEqual([[bobId, 'Bob']])
  }
  expect(bobLaptop.listChats().find(c => c.chatId === chat.chatId)?.title).toBe('Alice')
  // Bob's devices now reach relay A too, and only for the chat; Alice's reach A alone
  for (const d of [bobPhone, bobLaptop]) await untilEngine(d, () => d.relayStatus().length === 2 && d.relayStatus().every(r => r.connected), 'both relays connected')
  expect(alicePhone.relayStatus().map(r => r.relay)).toEqual([relayA.peerId])
  await untilEngine(bobPhone, () => bobPhone.listMessages(chat.chatId).every(m => m.status !== 'pending'), "Bob's message sent (acked by relay A)")

  // Bob's laptop restarts with his home relay down: it reaches relay A from what it keeps, and the chat goes on both ways on all of Bob's devices
  const portB = portOf(relayB.address)
  await relayB.stop()
  await bobLaptop.stop()
  bobLaptop = await diskDevice('bob-laptop', laptopDir, relayB.address)
  await untilEngine(bobLaptop, () => bobLaptop.relayStatus().some(r => r.relay === relayA.peerId && r.connected), "Bob's restarted laptop on relay A")
  await bobLaptop.sendMessage(chat.chatId, 'relay B is down, still here')
  await untilShows(alicePhone, chat.chatId, ['relay B is down, still here'], "Bob's message with his relay down, on Alice's phone")
  await untilShows(bobPhone, chat.chatId, ['relay B is down, still here'], "Bob's laptop's message on his phone, through relay A")
  await alicePhone.sendMessage(chat.chatId, 'got it')
  await untilShows(bobLaptop, chat.chatId, ['got it'], "Alice's answer on Bob's laptop with his relay down")

  // relay B back, relay A down: Bob's notes to self live on B and go on
  relayB = await RelayProcess.start(dirB, [], [`/ip4/127.0.0.1/tcp/${portB}`])
  const portA = portOf(relayA.address)
  await relayA.stop()
  const notes = await bobPhone.createChat({ title: 'Groceries' })
  await bobPhone.sendMessage(notes.chatId, 'milk, with relay A down')
  await untilShows(bobLaptop, notes.chatId, ['milk, with relay A down'], "Bob's note on his laptop through relay B")
  await untilEngine(bobPhone, () => bobPhone.listMessages(notes.chatId).every(m => m.status !== 'pending'), "Bob's note sent (acked by relay B)")
  relayA = await RelayProcess.start(dirA, [], [`/ip4/127.0.0.1/tcp/${portA}`])

  // every process off: which docs each relay holds, read from its keys
  for (const s of stops.splice(0).reverse()) await s()
  const [onA, onB] = [await relayKeys(dirA), await relayKeys(dirB)]
  expect(
    onA.some(k => k.startsWith(`doc!chat:${chat.chatId}`)),
    "the chat's doc on relay A"
  ).toBe(true)
  expect(
    onB.filter(k => k.includes(chat.chatId)),
    "keys of the chat on Bob's relay"
  ).toEqual([])
  expect(
    onB.filter(k => k.includes(aliceId)),
    "keys of Alice's account on Bob's relay"
  ).toEqual([])
  expect(
    onB.some(k => k === `doc!account:${bobId}`),
    "Bob's account doc on relay B"
  ).toBe(true)
  expect(
    onB.some(k => k.startsWith(`doc!chat:${notes.chatId}`)),
    "Bob's notes on relay B"
  ).toBe(true)
  expect(
    onA.filter(k => k.startsWith('doc!') && (k.includes(bobId) || k.includes(notes.chatId))),
    "Bob's own docs on relay A"
  ).toEqual([])
}, 180_000)

it('Bob on relay B makes a group with Alice, whose devices reach only relay A: they learn where it lives through the 1:1 chat on A, reach relay B for it, and the group works both ways on all four devices', async () => {
  const [relayA, relayB] = [await rig.relay(), await rig.relay()]
  const [alicePhone, aliceLaptop] = [await netDevice('alice-phone', relayA.address, stops), await netDevice('alice-laptop', relayA.address, stops)]
  const [bobPhone, bobLaptop] = [await netDevice('bob-phone', relayB.address, stops), await netDevice('bob-laptop', relayB.address, stops)]
  await account('Alice', alicePhone, aliceLaptop)
  await account('Bob', bobPhone, bobLaptop)
  const direct = await bobPhone.acceptInvite(alicePhone.createInvite().text)
  await untilEngine(alicePhone, () => alicePhone.listChats().some(c => c.chatId === direct.chatId), 'the 1:1 chat on Alice’s phone')

  const group = await bobLaptop.createGroup({ title: 'Trip', members: [alicePhone.accountId!] })
  await bobLaptop.sendMessage(group.chatId, 'tickets booked')
  for (const [d, name] of [
    [alicePhone, "Alice's phone"],
    [aliceLaptop, "Alice's laptop"]
  ] as const) {
    await untilShows(d, group.chatId, ['tickets booked'], `the group's first message on ${name}`)
    await untilEngine(d, () => d.listChats().find(c => c.chatId === group.chatId)?.title === 'Trip', `the group's title on ${name}`)
    expect(d.relayStatus().map(r => r.relay)).toEqual([relayA.peerId, relayB.peerId])
  }
  await aliceLaptop.sendMessage(group.chatId, 'great, I bring snacks')
  for (const d of [alicePhone, bobPhone, bobLaptop]) await untilShows(d, group.chatId, ['tickets booked', 'great, I bring snacks'], 'both group messages')
}, 120_000)
