import { MemoryLevel } from 'memory-level'
import { createEngine, createMemoryLinkPair, type Engine, type EngineEvent } from '@tandem/engine'
import { afterEach, describe, expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { inProcessRelay, memoryDevice, toRelay } from '../relay/relay-helpers.js'

// Issue 16: typing and presence through y-protocols awareness, sealed, over the LAN (a sync
// session: here an in-memory link) and through a relay, never stored.

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
})

async function lanDevice(name: string): Promise<Engine> {
  const e = await createEngine({ store: new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' }), deviceName: name, network: false })
  stops.push(() => e.stop())
  await e.start()
  return e
}

function record(e: Engine): EngineEvent[] {
  const seen: EngineEvent[] = []
  e.subscribe(ev => seen.push(ev))
  return seen
}
const typingOf = (events: EngineEvent[]) => events.filter((e): e is Extract<EngineEvent, { type: 'typing' }> => e.type === 'typing')

describe('typing and presence', () => {
  it('over the LAN: typing shows on the other device and stops when it stops; showing a chat is presence; a device that vanishes is gone within seconds', async () => {
    const [phone, laptop] = [await lanDevice('phone'), await lanDevice('laptop')]
    await phone.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await phone.createChat({ title: 'typing' })
    await linkDevices(phone, laptop)
    const [a, b] = createMemoryLinkPair(phone.peerId, laptop.peerId)
    phone.addLink(a)
    laptop.addLink(b)
    await untilEngine(laptop, () => laptop.listChats().length === 1, 'the chat on the laptop')
    const onLaptop = record(laptop)

    phone.setTyping(chatId, true)
    await untilEngine(laptop, () => typingOf(onLaptop).some(e => e.typing), 'the laptop sees the phone typing')
    expect(typingOf(onLaptop)[0]).toEqual({ type: 'typing', chatId, account: phone.accountId, device: phone.peerId, typing: true })
    expect(laptop.presence(chatId)).toMatchObject([{ account: phone.accountId, device: phone.peerId, online: true, typing: true }])
    phone.setTyping(chatId, false)
    await untilEngine(laptop, () => typingOf(onLaptop).length === 2, 'the laptop sees the phone stop')
    expect(typingOf(onLaptop)[1]!.typing).toBe(false)
    // it said it stopped and shows the chat no more: it left, and was last seen now
    expect(laptop.presence(chatId)).toMatchObject([{ device: phone.peerId, online: false, typing: false }])

    // the phone shows the chat and types, then vanishes (the link cut: nothing more is said)
    phone.setPresent(chatId, true)
    phone.setTyping(chatId, true)
    await untilEngine(laptop, () => laptop.presence(chatId)[0]?.typing === true, 'typing again')
    const cutAt = Date.now()
    a.close()
    b.close()
    await untilEngine(laptop, () => typingOf(onLaptop).at(-1)?.typing === false, 'the vanished phone stops showing as typing', 15_000)
    const gone = onLaptop.filter((e): e is Extract<EngineEvent, { type: 'presence' }> => e.type === 'presence').at(-1)!
    expect(gone).toMatchObject({ device: phone.peerId, online: false })
    expect(gone.lastSeen).toBeLessThanOrEqual(cutAt) // last heard before the cut (not when the timeout noticed)
    // nothing of it was stored: no doc changed
    expect(laptop.stateVectors()).toEqual(phone.stateVectors())
  })

  it('through a relay: typing reaches the other device sealed, and a device going offline leaves at once', async () => {
    const relay = await inProcessRelay()
    stops.push(relay.stop)
    const [phone, laptop] = [await memoryDevice('phone', stops), await memoryDevice('laptop', stops)]
    await phone.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await phone.createChat({ title: 'typing' })
    toRelay(relay.service, phone)
    await linkDevices(phone, laptop)
    toRelay(relay.service, laptop)
    // both live on the chat at the relay: a message has gone from one to the other through it
    await phone.sendMessage(chatId, 'hello')
    await untilEngine(laptop, () => laptop.listChats().length === 1 && laptop.messageCount(chatId) === 1, 'the message on the laptop')
    const onLaptop = record(laptop)
    phone.setTyping(chatId, true)
    await untilEngine(laptop, () => typingOf(onLaptop).some(e => e.typing), 'the laptop sees the phone typing')
    expect(onLaptop.some(e => e.type === 'ephemeral')).toBe(false) // (not the app's own ephemeral data)
    const leftAt = Date.now()
    await phone.goOffline()
    await untilEngine(laptop, () => typingOf(onLaptop).at(-1)?.typing === false, 'the phone left when it went offline')
    // it said so (last seen as it left), rather than going silent (last seen when last heard)
    expect(onLaptop.filter(e => e.type === 'presence').at(-1)).toMatchObject({ online: false, device: phone.peerId })
    expect((onLaptop.filter(e => e.type === 'presence').at(-1) as { lastSeen: number }).lastSeen).toBeGreaterThanOrEqual(leftAt)
  })

  it('refuses bad input: a chat it does not have, a flag that is not a boolean', async () => {
    const phone = await lanDevice('phone')
    await phone.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await phone.createChat({ title: 't' })
    expect(() => phone.setTyping('nope', true)).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_CHAT' }))
    expect(() => phone.setTyping(chatId, 'yes' as unknown as boolean)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => phone.setPresent({} as unknown as string, true)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => phone.presence('nope')).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_CHAT' }))
    expect(phone.presence(chatId)).toEqual([])
  })
})
