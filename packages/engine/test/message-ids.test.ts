import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { createEngine, systemRuntime } from '../src/node/index.js'
import { messageIdOf, segmentOfMessage } from '../src/chat/chat-view.js'

describe('message ids', () => {
  it('name their segment, the send time and the device, and tell apart two devices sending in the same millisecond', () => {
    const at = { wall: Date.UTC(2026, 11, 6), counter: 3 }
    const a = messageIdOf(7, at, '12D3KooWKEnJCg8u1T9qX9zFgpEZyS5bdsSKvNHwNRoAEKjbHYPj')
    const b = messageIdOf(7, at, '12D3KooWrelayrelayrelayrelayrelayrelayrelayrelay9ZcdQ')
    expect(segmentOfMessage(a)).toBe(7)
    expect(a).not.toBe(b)
    expect(messageIdOf(7, { ...at, counter: 4 }, '12D3KooWKEnJCg8u1T9qX9zFgpEZyS5bdsSKvNHwNRoAEKjbHYPj')).not.toBe(a)
  })

  it('are never reused by a device restarted on a clock set back', async () => {
    const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    let now = 1_800_000_000_000
    const runtime = { ...systemRuntime, now: () => now }
    const first = await createEngine({ store: db, deviceName: 'a', network: false, runtime })
    await first.start()
    await first.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await first.createChat({ title: 'ids' })
    const sent = [await first.sendMessage(chatId, 'one'), await first.sendMessage(chatId, 'two')]
    await first.stop()
    now -= 60_000 // the clock was set back while the device was off
    const again = await createEngine({ store: db, deviceName: 'a', network: false, runtime })
    await again.start()
    sent.push(await again.sendMessage(chatId, 'three'))
    expect(new Set(sent.map(m => m.id)).size).toBe(3)
    expect(again.listMessages(chatId).map(m => m.text)).toEqual(['one', 'two', 'three'])
    await again.stop()
  })
})
