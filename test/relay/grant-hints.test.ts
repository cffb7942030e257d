import { createMemoryLinkPair } from '@tandem/engine'
import { accountDocId, decodeStoreFrame, MAX_CHAT_HINTS, StoreFrameTag } from '@tandem/protocol'
import { expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { counted } from './counted-link.js'
import { IN_PROCESS_RELAY, memoryDevicesPerTest, writerOnRelay } from './relay-helpers.js'

// Issue 15, the first screen: a grant names the granter's most recent chats and each one's
// newest segment, so a new device subscribes to them at once, beside its account doc, instead
// of learning the chat from the account doc and the segment from the chat's index, one after
// the other (the engines and the store service in one process, over memory links whose frames
// are read in the order they are sent).

const SEGMENT = 10
const { stops, device } = memoryDevicesPerTest(SEGMENT)

it('a device joining by grant subscribes to the chat the grant names and to its newest segment before the relay has sent it the account doc or the chat’s index, and to every doc once', async () => {
  const { relay, a, chatId } = await writerOnRelay(stops, device)
  for (let i = 0; i < SEGMENT * 3; i++) await a.sendMessage(chatId, `message ${i}`)
  await untilEngine(a, () => a.listMessages(chatId).every(m => m.status === 'sent'), 'the history on the relay')

  const b = await device('b')
  const grant = await a.addDevice(b.deviceOffer())
  expect(grant.hints).toEqual([{ chatId, segment: 3 }])
  await b.acceptGrant(grant)
  const order: string[] = []
  const [d, s] = createMemoryLinkPair(b.peerId, IN_PROCESS_RELAY)
  const note = (tag: number, what: string) => (bytes: Uint8Array) => {
    if (bytes[0] !== tag) return
    const frame = decodeStoreFrame(bytes)
    if ('docId' in frame) order.push(`${what} ${frame.docId}`)
  }
  b.addRelayLink(IN_PROCESS_RELAY, counted(d, { bytes: 0 }, note(StoreFrameTag.subscribe, 'subscribe')))
  relay.service.addLink(counted(s, { bytes: 0 }, note(StoreFrameTag['caught-up'], 'caught-up')))
  const shows = (text: string): boolean => {
    try {
      return b.listMessages(chatId).some(m => m.text === text)
    } catch {
      return false // (ERR_UNKNOWN_CHAT while its doc is still being opened)
    }
  }
  await untilEngine(b, () => shows(`message ${SEGMENT * 3 - 1}`), 'the newest message on the new device', 20_000)

  const at = (entry: string): number => {
    const i = order.indexOf(entry)
    expect(i, `${entry} in ${order.join(', ')}`).toBeGreaterThanOrEqual(0)
    return i
  }
  const account = accountDocId(b.accountInfo!.accountId)
  expect(at(`subscribe chat:${chatId}`)).toBeLessThan(at(`caught-up ${account}`))
  expect(at(`subscribe chat:${chatId}:3`)).toBeLessThan(at(`caught-up chat:${chatId}`))
  await untilEngine(b, () => b.messageCount(chatId) === SEGMENT * 3, 'the whole chat on the new device', 20_000)
  // (the chat opened between the relay's welcome and the client's pass over every open doc was
  // subscribed by both, and its whole backfill came twice)
  const subscribed = order.filter(e => e.startsWith('subscribe '))
  expect(subscribed.filter((e, i) => subscribed.indexOf(e) !== i)).toEqual([])
  expect(subscribed).toContain(`subscribe chat:${chatId}:1`)
})

it('a grant names the pinned chats first, then the others by their newest message, archived ones left out, at most MAX_CHAT_HINTS', async () => {
  const a = await device('a')
  await a.createAccount({ name: 'Ann', recovery: false })
  const chats: string[] = []
  for (let i = 0; i < MAX_CHAT_HINTS + 2; i++) {
    const { chatId } = await a.createChat({ title: `chat ${i}` })
    await a.sendMessage(chatId, `in chat ${i}`)
    chats.push(chatId)
  }
  await a.updateChat(chats[0]!, { pinned: true })
  await a.updateChat(chats.at(-1)!, { archived: true })
  const b = await device('b')
  const { hints } = await a.addDevice(b.deviceOffer())
  // newest first: the last chat written in is archived, so the one before it leads after the pinned one
  const expected = [chats[0]!, ...chats.slice(1, -1).reverse()].slice(0, MAX_CHAT_HINTS)
  expect(hints).toEqual(expected.map(chatId => ({ chatId, segment: 1 })))
})

it('a grant whose hints are not chats and segments is refused with ERR_INVALID_ARGUMENT, and the device joins nothing', async () => {
  const { a, chatId } = await writerOnRelay(stops, device)
  const b = await device('b')
  const grant = await a.addDevice(b.deviceOffer())
  for (const hints of [
    [{ chatId, segment: -1 }],
    [{ chatId: 'x:y', segment: 1 }],
    [{ chatId, segment: 1.5 }],
    Array.from({ length: MAX_CHAT_HINTS + 1 }, () => ({ chatId, segment: 1 })),
    'chats'
  ]) {
    await expect(b.acceptGrant({ ...grant, hints: hints as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(b.accountInfo).toBeNull()
  }
  await b.acceptGrant(grant)
  expect(b.accountInfo?.accountId).toBe(a.accountInfo!.accountId)
})
