import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterEach, expect, it } from 'vitest'
import { Rig, type Dump } from './relay-helpers.js'

// The device process with a damaged store on disk: it starts with what verifies, says on
// stderr what it found and what it fetches again, and gets it back from a real relay process.

const rig = new Rig()
afterEach(() => rig.cleanup())

it('a device started on a damaged store says what was damaged and gets it back from the relay', async () => {
  const relay = await rig.relay()
  const dir = await rig.dir('damaged')
  const before = rig.device('a', dir, ['--relay', relay.address])
  await before.request('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await before.request<{ chatId: string }>('create-chat', { title: 'kept' })
  await before.request('burst', { chatId, prefix: 'm', count: 30, concurrency: 1 })
  await before.waitForEvent(() => before.events.filter(e => e.event === 'status').reduce((n, e) => n + (e.messageIds as string[]).length, 0) >= 30)
  const original = await before.request<Dump>('dump')
  await before.stop()

  // one bit flipped in each stored log entry of the chat, as a failing disk would
  const db = new ClassicLevel<string, Uint8Array>(join(dir, 'store'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const damaged: string[] = []
  for await (const [key, value] of db.iterator({ gte: `log!chat:${chatId}!`, lt: `log!chat:${chatId}!~` })) {
    const v = value.slice()
    v[v.length >> 1]! ^= 0x04
    await db.put(key, v)
    damaged.push(key)
  }
  await db.close()
  expect(damaged.length).toBeGreaterThan(0)

  const after = rig.device('a-again', dir, ['--relay', relay.address])
  await after.waitForEvent(e => e.event === 'repaired' && e.chatId === chatId)
  await after.waitForStderr(l => l === `tandem-device: chat:${chatId} repaired from the relay`)
  const lines = after.stderr.filter(l => l.startsWith('tandem-device:'))
  console.log(lines.join('\n'))
  for (const key of damaged) expect(lines).toContain(`tandem-device: damaged store record ${JSON.stringify(key)}: checksum mismatch: the record is damaged (ERR_STORE_CORRUPT)`)
  expect(lines).toContain(`tandem-device: 1 doc will be fetched whole from the relay: chat:${chatId}`)
  expect(lines).toContain(`tandem-device: chat:${chatId} repaired from the relay`)
  const repaired = await after.request<Dump>('dump')
  expect(repaired.chats.find(c => c.chatId === chatId)!.messages).toEqual(original.chats.find(c => c.chatId === chatId)!.messages)
  expect(await after.request('store-damage')).toEqual({ found: expect.any(Array), repairing: [] })
})
