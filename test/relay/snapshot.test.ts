import { afterAll, expect, it } from 'vitest'
import { Rig, sentIds, type Dump } from './relay-helpers.js'

const rig = new Rig()
afterAll(() => rig.cleanup())

it('a device compacts the relay log with a snapshot once caught up, and a new device gets snapshot + short tail', async () => {
  const relay = await rig.relay()
  const a = rig.device('a', await rig.dir('a'), ['--relay', relay.address, '--no-sync'])
  await a.request('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'long' })
  // one at a time: every message is its own upload, its own entry in the relay's log
  for (let i = 0; i < 600; i++) await a.request('send', { chatId, text: `one at a time ${i}` })
  await a.waitForEvent(() => sentIds(a).size >= 600, 60_000)

  const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address, '--no-sync'])
  await b.joinVia(a)
  await b.request('wait-messages', { chatId, count: 600 }, 60_000)
  const ids = (d: Dump): string[] => d.chats.find(c => c.chatId === chatId)!.messages.map(m => m.id)
  expect(ids(await b.request<Dump>('dump'))).toEqual(ids(await a.request<Dump>('dump')))
  // the chat's backlog as the relay announced it: a snapshot and a short tail, not 600 entries
  const backlog = Math.max(...b.events.filter(e => e.event === 'progress').map(e => e.entriesTotal as number))
  expect(backlog).toBeGreaterThan(0)
  expect(backlog).toBeLessThan(150)
})
