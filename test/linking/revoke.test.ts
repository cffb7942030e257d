// Revoking a device, between real processes and a real relay: the relay refuses it within a
// second, it gets nothing written afterwards, its connections close, its data directory no
// longer holds the account, and a copy of it that kept its keys cannot list a new device.
import { cp, readdir } from 'node:fs/promises'
import { afterAll, expect, it } from 'vitest'
import type { DeviceProcess } from '../helpers/device-process.js'
import { Rig } from '../relay/relay-helpers.js'
import { type DeviceRow, failure, type Info, linkByCode, nextEvent, type ShownCode } from './linking-helpers.js'

const rig = new Rig()
afterAll(() => rig.cleanup())
let relayAddress = ''
/** A copy of the revoked laptop's data taken before the revoke (a backup restored later), for the last test. */
let backupDir = ''

const texts = (d: DeviceProcess): string[] => d.events.filter(e => e.event === 'message').map(e => (e.message as { text: string }).text)

it('a revoked device is refused at once, gets nothing more, is disconnected and erased; with its keys kept it cannot list a device', async () => {
  const relay = await rig.relay()
  relayAddress = relay.address
  const withRelay = ['--relay', relay.address]
  const phone = rig.device('phone', await rig.dir('phone'), withRelay)
  await phone.request('create-account', { name: 'Ann', recovery: false })
  const chat = await phone.request<{ chatId: string }>('create-chat', { title: 'family' })
  const laptopDir = await rig.dir('laptop')
  let laptop = rig.device('laptop', laptopDir, withRelay)
  await linkByCode(laptop, phone)
  const laptopId = (await laptop.request<Info>('info')).peerId
  await laptop.request('wait-messages', { chatId: chat.chatId, count: 0 })

  // a thief's copy of the laptop's data, keys included, taken while it was a device of the account
  await laptop.stop()
  const stolenDir = await rig.dir('stolen')
  await cp(laptopDir, stolenDir, { recursive: true })
  backupDir = await rig.dir('backup')
  await cp(laptopDir, backupDir, { recursive: true })
  laptop = rig.device('laptop', laptopDir, withRelay)
  await laptop.request('watch')
  await phone.request('send', { chatId: chat.chatId, text: 'before the revoke' })
  await laptop.request('wait-messages', { chatId: chat.chatId, count: 1 })

  const beforeRevoke = phone.events.length
  const t0 = performance.now()
  await phone.request('revoke', { peerId: laptopId })
  const revoked = await nextEvent(laptop, 'revoked', 0, 5_000)
  const refusedMs = performance.now() - t0
  console.log(`the relay refused the revoked laptop ${refusedMs.toFixed(0)} ms after the revoke (it got the links revoking it, then the error)`)
  expect(refusedMs).toBeLessThan(1_000)
  expect(revoked.accountId).toBe((await phone.request<Info>('info')).accountId)

  // nothing written after the revoke reaches it
  for (let i = 0; i < 5; i++) await phone.request('send', { chatId: chat.chatId, text: `after the revoke ${i}` })
  await phone.waitForEvent(e => e.event === 'status' && e.status === 'sent' && phone.events.indexOf(e) > 0, 10_000)
  expect(texts(laptop)).toEqual(['before the revoke'])

  // its connections are closed: the phone no longer has it as a peer, and it has no relay
  if ((await phone.request<Info>('info')).peers.includes(laptopId)) {
    await phone.waitForEvent(e => e.event === 'peer' && e.peerId === laptopId && e.status === 'disconnected' && phone.events.indexOf(e) >= beforeRevoke, 5_000)
  }
  expect((await phone.request<Info>('info')).peers).not.toContain(laptopId)
  const laptopInfo = await laptop.request<Info>('info')
  expect(laptopInfo.peers).toEqual([])
  expect(laptopInfo.relays.filter(r => r.connected)).toEqual([])
  expect((await phone.request<DeviceRow[]>('devices')).map(d => d.name)).toEqual(['phone'])

  // its data directory holds nothing of the account: no files, and a device opened on it is new
  await laptop.stop()
  const left = await readdir(laptopDir, { recursive: true })
  console.log(`files left in the revoked device's data directory: ${JSON.stringify(left)}`)
  expect(left).toEqual([])
  const reopened = rig.device('reopened', laptopDir, [])
  const again = await reopened.request<Info>('info')
  expect(again.accountId).toBeNull()
  expect(again.peerId).not.toBe(laptopId)
  await reopened.stop()

  // the stolen copy, offline, signs a link listing a new device: it cannot know it was revoked
  const stolen = rig.device('stolen', stolenDir, [])
  expect((await stolen.request<Info>('info')).accountId).toBe(revoked.accountId)
  const accompliceDir = await rig.dir('accomplice')
  let accomplice = rig.device('accomplice', accompliceDir, [])
  await accomplice.joinVia(stolen)
  await Promise.all([stolen.stop(), accomplice.stop()])
  // online, the relay and the phone reject that chain: the accomplice is never listed; the
  // relay's chain shows the only device that listed it was revoked before, so it is out of
  // the account for good, and erases what it held of it
  accomplice = rig.device('accomplice', accompliceDir, [...withRelay, '--peer', (await phone.request<Info>('info')).multiaddrs[0]!])
  const out = await accomplice.waitForEvent(e => e.event === 'revoked', 20_000)
  console.log(`the accomplice of the stolen copy, online: ${JSON.stringify(out)}`)
  await accomplice.stop()
  expect(await readdir(accompliceDir, { recursive: true })).toEqual([])
  expect((await phone.request<DeviceRow[]>('devices')).map(d => d.name)).toEqual(['phone'])
  expect(texts(accomplice)).toEqual([])

  // the stolen copy online: the relay sends it the links that revoke it, so it learns and
  // erases the account; its attempt to link a device fails with a typed error either way
  // (the engine stopped, or the relay refused the link it signed if that came first)
  const stolenOnline = rig.device('stolen', stolenDir, withRelay)
  const newcomer = rig.device('newcomer', await rig.dir('newcomer'), withRelay)
  const code = await newcomer.request<ShownCode>('show-link-code')
  const error = await failure(stolenOnline.request('link-device', { code: code.text, confirm: 'auto' }))
  console.log(`the stolen copy linking a device online: ${error}`)
  expect(['ERR_ENGINE_STATE', 'ERR_REVOKED_SIGNER']).toContain(error)
  await stolenOnline.waitForEvent(e => e.event === 'revoked', 10_000)
  expect((await newcomer.request<Info>('info')).accountId).toBeNull()
  expect((await phone.request<DeviceRow[]>('devices')).map(d => d.name)).toEqual(['phone'])
})

// A revoked device that comes online only after the revoke (a restored backup, a stolen
// copy, a phone that was off): the relay sends it the links that revoke it before refusing
// it, so it learns from the chain and erases the account (it used to be refused on every
// redial and keep the account).
it('a revoked device that comes online later learns it and erases the account', async () => {
  const backup = rig.device('backup', backupDir, ['--relay', relayAddress])
  await nextEvent(backup, 'revoked', 0, 10_000)
  await backup.stop()
  expect(await readdir(backupDir, { recursive: true })).toEqual([])
})
