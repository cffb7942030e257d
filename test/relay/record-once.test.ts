import { createMemoryLinkPair } from '@tandem/engine'
import { decodeStoreFrame, StoreFrameTag } from '@tandem/protocol'
import { expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'
import { counted } from './counted-link.js'
import { IN_PROCESS_RELAY, memoryDevicesPerTest, writerOnRelay } from './relay-helpers.js'

// A new device subscribes to a chat doc and every one of its segments, each served under the
// chat's membership record: it offers that record once per connection, not once per segment
// (the engines and the store service in one process, over memory links whose frames are read).

const SEGMENT = 10
const SEGMENTS = 8
const { stops, device } = memoryDevicesPerTest(SEGMENT)

it('a new device offers a chat’s membership record once on a connection, however many of its segments it subscribes to', async () => {
  const { relay, a, chatId } = await writerOnRelay(stops, device)
  for (let i = 0; i < SEGMENT * SEGMENTS; i++) await a.sendMessage(chatId, `message ${i}`)
  await untilEngine(a, () => a.relayStatus().every(r => r.pendingUploads === 0) && a.listMessages(chatId).every(m => m.status === 'sent'), 'the history on the relay')

  const b = await device('b')
  await linkDevices(a, b)
  const offered: string[] = []
  const subscribed = new Set<string>()
  const [d, s] = createMemoryLinkPair(b.peerId, IN_PROCESS_RELAY)
  b.addRelayLink(
    IN_PROCESS_RELAY,
    counted(d, { bytes: 0 }, bytes => {
      if (bytes[0] === StoreFrameTag.membership) {
        const frame = decodeStoreFrame(bytes)
        if (frame.type === 'membership') offered.push(frame.record.docId)
      } else if (bytes[0] === StoreFrameTag.subscribe) {
        const frame = decodeStoreFrame(bytes)
        if (frame.type === 'subscribe') subscribed.add(frame.docId)
      }
    })
  )
  relay.service.addLink(s)
  await untilEngine(b, () => b.listChats().some(c => c.chatId === chatId) && b.messageCount(chatId) === SEGMENT * SEGMENTS, 'the whole chat on the new device', 20_000)
  await b.loadMessages(chatId, { limit: SEGMENT * SEGMENTS })
  // the chat doc and each segment subscribed, the chat's record offered once
  expect([...subscribed].filter(id => id.includes(chatId)).length).toBeGreaterThanOrEqual(SEGMENTS + 1)
  expect(offered.filter(id => id.includes(chatId))).toEqual([`chat:${chatId}`])
})
