// Recovery with the phrase: every device of the account is gone; a fresh data directory with
// the relay, the account id and the 12 words brings the account back with its whole history,
// and the lost device is revoked. A wrong phrase is refused and changes nothing.
import { afterAll, expect, it } from 'vitest'
import { Rig } from '../relay/relay-helpers.js'
import { type DeviceRow, failure, type Info } from './linking-helpers.js'

interface Dump {
  chats: Array<{ chatId: string; title: string; messages: Array<{ id: string; text: string }> }>
}

const rig = new Rig()
afterAll(() => rig.cleanup())

const shown = (d: Dump) => d.chats.map(c => ({ title: c.title, messages: c.messages.map(m => ({ id: m.id, text: m.text })) }))

it('a fresh device with the recovery phrase gets the account and its history back; the lost device is revoked', async () => {
  const relay = await rig.relay()
  const withRelay = ['--relay', relay.address]
  const lost = rig.device('lost', await rig.dir('lost'), withRelay)
  const created = await lost.request<{ accountId: string; recoveryPhrase: string }>('create-account', { name: 'Ann' })
  expect(created.recoveryPhrase.split(' ')).toHaveLength(12)
  const chat = await lost.request<{ chatId: string }>('create-chat', { title: 'notes' })
  await lost.request('burst', { chatId: chat.chatId, prefix: 'm', count: 200, concurrency: 8, quiet: true }, 60_000)
  // the relay holds all of it: every message acked (sent) before the device is lost
  const sentIds = (): number => lost.events.filter(e => e.event === 'status' && e.status === 'sent').reduce((n, e) => n + (e.messageIds as string[]).length, 0)
  await lost.waitForEvent(() => sentIds() >= 200, 30_000)
  const before = await lost.request<Dump & { chats: Array<{ messages: Array<{ status: string }> }> }>('dump')
  const lostId = (await lost.request<Info>('info')).peerId
  await lost.kill() // lost: never stopped cleanly, never seen again

  const fresh = rig.device('fresh', await rig.dir('fresh'), withRelay)
  const words = created.recoveryPhrase.split(' ')
  const wrong = [...words.slice(0, 11), words[11] === 'abandon' ? 'ability' : 'abandon'].join(' ')
  expect(await failure(fresh.request('recover', { accountId: created.accountId, recoveryPhrase: wrong }))).toBe('ERR_INVALID_CREDENTIALS')
  expect((await fresh.request<Info>('info')).accountId).toBeNull()

  const t0 = performance.now()
  const info = await fresh.request<{ accountId: string }>('recover', { accountId: created.accountId, recoveryPhrase: created.recoveryPhrase }, 60_000)
  expect(info.accountId).toBe(created.accountId)
  await fresh.request('wait-messages', { chatId: chat.chatId, count: 200 }, 60_000)
  console.log(`recovered with 200 messages in ${(performance.now() - t0).toFixed(0)} ms`)
  expect(shown(await fresh.request<Dump>('dump'))).toEqual(shown(before))
  const devices = await fresh.request<DeviceRow[]>('devices')
  expect(devices.map(d => d.name)).toEqual(['fresh'])
  expect(await fresh.request<string[]>('dump').then(d => (d as unknown as { revoked: string[] }).revoked)).toContain(lostId)

  // a new phrase replaces the old one
  const rotated = await fresh.request<{ recoveryPhrase: string }>('set-recovery-phrase')
  expect(rotated.recoveryPhrase.split(' ')).toHaveLength(12)
  expect(rotated.recoveryPhrase).not.toBe(created.recoveryPhrase)
})
