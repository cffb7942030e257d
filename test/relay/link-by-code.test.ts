import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEngine, type Engine, type EngineOptions, type NetworkOptions } from '@tandem/engine'
import { createLogger, createRelay, type Relay } from '@tandem/relay'
import { afterEach, describe, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'

// Linking by code between real engines, a real relay and real libp2p on 127.0.0.1: the new
// device shows a code, the existing one reads it, both show the same six digits, and the new
// device ends with the account's whole history.

const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
})

async function dir(name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `tandem-link-${name}-`))
  stops.push(() => rm(d, { recursive: true, force: true }))
  return d
}

async function relay(options: { now?: () => number } = {}): Promise<Relay> {
  const r = await createRelay({ dataDir: await dir('relay'), listen: ['/ip4/127.0.0.1/tcp/0'], sync: false, logger: createLogger({ level: 'silent' }), ...options })
  await r.start()
  stops.push(() => r.stop())
  return r
}

async function device(name: string, network: NetworkOptions, options: Partial<EngineOptions> = {}): Promise<Engine> {
  const e = await createEngine({ dataDir: await dir(name), deviceName: name, network: { listen: ['/ip4/127.0.0.1/tcp/0'], ...network }, ...options })
  stops.push(() => e.stop())
  await e.start()
  return e
}

/** Links `laptop` from `phone` by code: the person sees the same digits on both and confirms. */
async function linkByCode(phone: Engine, laptop: Engine): Promise<{ digits: string[]; code: string }> {
  const invite = await laptop.showLinkCode()
  const shownOnLaptop = new Promise<string>(resolve => invite.on('confirmation', resolve))
  const digits: string[] = []
  const linked = phone.linkDevice(invite.text, {
    confirm: async ({ confirmation }) => {
      digits.push(confirmation, await shownOnLaptop)
      return digits[0] === digits[1]
    }
  })
  await Promise.all([linked, invite.done])
  return { digits, code: invite.text }
}

describe('linking a device by code', () => {
  it('links through the relay circuit when the devices may not dial each other, and the new device gets the whole history', async () => {
    const r = await relay()
    const relays = [r.multiaddrs()[0]!]
    const phone = await device('phone', { relays, directDial: false })
    await phone.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await phone.createChat({ title: 'history' })
    for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => phone.sendMessage(chatId, `message ${i + j}`)))
    const laptop = await device('laptop', { relays, directDial: false })
    const { digits, code } = await linkByCode(phone, laptop)
    expect(code).toMatch(/^tandem1/i)
    expect(digits[0]).toMatch(/^\d{6}$/)
    expect(digits[0]).toBe(digits[1])
    expect(laptop.accountId).toBe(phone.accountId)
    await untilEngine(laptop, () => laptop.listChats().length === 1 && laptop.messageCount(chatId) === 300, 'the whole history on the laptop', 30_000)
    expect(phone.listDevices().map(d => d.name)).toEqual(['phone', 'laptop'])
    await untilEngine(laptop, () => laptop.listDevices().length === 2, 'the laptop lists both')
  })

  it('links directly on the same network without a relay', async () => {
    const phone = await device('phone', {})
    await phone.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await phone.createChat({ title: 'lan' })
    await phone.sendMessage(chatId, 'hello laptop')
    const laptop = await device('laptop', {})
    await linkByCode(phone, laptop)
    // the phone dials the laptop it just linked: it knows its addresses from the session
    laptop.dial(phone.multiaddrs()[0]!)
    await untilEngine(laptop, () => laptop.listChats().length === 1 && laptop.messageCount(chatId) === 1, 'the history on the laptop', 20_000)
  })

  it('with a passphrase set, links only once the new device gives it', async () => {
    const phone = await device('phone', {})
    await phone.createAccount({ name: 'Ann', recovery: false })
    await phone.setPassphrase('correct horse')
    const laptop = await device('laptop', {})
    const invite = await laptop.showLinkCode()
    const asked: number[] = []
    invite.on('passphrase-needed', request => {
      asked.push(request.wrongAttempts)
      invite.enterPassphrase(request.wrongAttempts === 0 ? 'wrong horse' : 'correct horse')
    })
    await Promise.all([phone.linkDevice(invite.text, { confirm: async () => true }), invite.done])
    expect(asked).toEqual([0, 1])
    expect(laptop.accountId).toBe(phone.accountId)
  })

  it('recovers the account on a fresh device from its id and recovery phrase when every device is lost', async () => {
    const r = await relay()
    const relays = [r.multiaddrs()[0]!]
    const phone = await device('phone', { relays })
    const created = await phone.createAccount({ name: 'Ann' })
    const { chatId } = await phone.createChat({ title: 'kept' })
    for (let i = 0; i < 20; i++) await phone.sendMessage(chatId, `before the loss ${i}`)
    await untilEngine(phone, () => phone.listMessages(chatId).every(m => m.status === 'sent'), 'the history on the relay', 20_000)
    await phone.stop() // lost
    const fresh = await device('new phone', { relays })
    await expect(fresh.recoverAccount({ accountId: created.accountId, recoveryPhrase: `${'abandon '.repeat(11)}about` })).rejects.toMatchObject({ code: 'ERR_INVALID_CREDENTIALS' })
    await expect(fresh.recoverAccount({ accountId: created.accountId, recoveryPhrase: created.recoveryPhrase!.replace(/^\S+/, 'zzz') })).rejects.toMatchObject({
      code: 'ERR_INVALID_CREDENTIALS'
    })
    const info = await fresh.recoverAccount({ accountId: created.accountId, recoveryPhrase: created.recoveryPhrase!.toUpperCase() })
    expect(info.accountId).toBe(created.accountId)
    await untilEngine(fresh, () => fresh.listChats().length === 1 && fresh.messageCount(chatId) === 20, 'the history on the new phone', 30_000)
    expect(fresh.listDevices().map(d => d.name)).toEqual(['new phone'])
    expect(fresh.listRevokedDevices()).toEqual([phone.peerId])
  })

  it('lists both when two devices each link a new device at the same moment (the relay arbitrates, the loser rebases)', async () => {
    const r = await relay()
    const relays = [r.multiaddrs()[0]!]
    const phone = await device('phone', { relays })
    await phone.createAccount({ name: 'Ann', recovery: false })
    const laptop = await device('laptop', { relays })
    await linkByCode(phone, laptop)
    await untilEngine(laptop, () => laptop.relayStatus().every(s => s.connected), 'the laptop at the relay')
    const [tablet, watch] = [await device('tablet', { relays }), await device('watch', { relays })]
    // both existing devices sign a successor of the same link: one of them loses at the relay
    await Promise.all([linkByCode(phone, tablet), linkByCode(laptop, watch)])
    for (const e of [phone, laptop, tablet, watch]) {
      await untilEngine(e, () => e.listDevices().length === 4, `${e.listDevices().find(d => d.thisDevice)?.name} lists all four`, 20_000)
    }
    expect(
      phone
        .listDevices()
        .map(d => d.name)
        .sort()
    ).toEqual(['laptop', 'phone', 'tablet', 'watch'])
    expect(watch.listRevokedDevices()).toEqual([])
  })

  it('revokes a device nobody has seen for the configured time, from the next device that comes online, by the relay clock too', async () => {
    let [relaySkew, phoneSkew] = [0, 0]
    const r = await relay({ now: () => Date.now() + relaySkew })
    const relays = [r.multiaddrs()[0]!]
    const phone = await device('phone', { relays }, { runtime: { now: () => Date.now() + phoneSkew }, revokeInactiveAfterMs: 7 * 86_400_000 })
    await phone.createAccount({ name: 'Ann', recovery: false })
    const laptop = await device('laptop', { relays })
    await linkByCode(phone, laptop)
    await untilEngine(phone, () => phone.listDevices().every(d => d.lastActiveAt !== null), 'the relay reports the laptop active')
    await laptop.stop() // left in a drawer
    const comeBack = async (): Promise<void> => {
      await phone.goOffline()
      let reported = false
      const off = phone.subscribe(e => {
        if (e.type === 'account') reported = true
      })
      await phone.start()
      await untilEngine(phone, () => reported, 'the relay reports activity to the phone back online', 20_000)
      off()
    }
    // a week and a day later by the phone's clock alone (a wrong clock): nobody is revoked
    phoneSkew = 8 * 86_400_000
    await comeBack()
    expect(phone.listRevokedDevices()).toEqual([])
    // and by the relay's too: the laptop is revoked
    relaySkew = phoneSkew
    await comeBack()
    await untilEngine(phone, () => phone.listRevokedDevices().includes(laptop.peerId), 'the laptop revoked', 20_000)
    expect(phone.listDevices().map(d => d.name)).toEqual(['phone'])
    await expect(createEngine({ dataDir: await dir('x'), network: false, maxDevices: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(createEngine({ dataDir: await dir('y'), network: false, revokeInactiveAfterMs: 5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('ends two devices that revoke each other at the same moment with one list on every device and the relay', async () => {
    const r = await relay()
    const relays = [r.multiaddrs()[0]!]
    const [phone, laptop, tablet] = [await device('phone', { relays }), await device('laptop', { relays }), await device('tablet', { relays })]
    await phone.createAccount({ name: 'Ann', recovery: false })
    await linkByCode(phone, laptop)
    await linkByCode(phone, tablet)
    for (const e of [phone, laptop, tablet]) await untilEngine(e, () => e.listDevices().length === 3 && e.relayStatus().every(s => s.connected), 'all three at the relay')
    const revoked = new Set<string>()
    for (const e of [phone, laptop]) e.subscribe(ev => ev.type === 'revoked' && revoked.add(e.peerId))
    await Promise.allSettled([phone.revokeDevice(laptop.peerId), laptop.revokeDevice(phone.peerId)])
    // the relay took one of the two links first: that one stands everywhere
    await untilEngine(tablet, () => tablet.listDevices().length === 2, 'the tablet lists two', 20_000)
    await Promise.race([phone, laptop].map(e => untilEngine(e, () => revoked.has(e.peerId), 'one of them revoked', 20_000)))
    const loser = revoked.has(phone.peerId) ? phone : laptop
    const winner = loser === phone ? laptop : phone
    expect(tablet.listRevokedDevices()).toEqual([loser.peerId])
    expect(winner.listRevokedDevices()).toEqual([loser.peerId])
    expect(revoked.size).toBe(1) // the winner never erased itself, though it heard the loser's link first
    // the relay agrees: a device with the relay's chain alone (recovery reads it) sees the same list
    const reader = await device('reader', { relays })
    await linkByCode(winner, reader)
    await untilEngine(reader, () => reader.listRevokedDevices().includes(loser.peerId), 'a new device sees the same revocation')
  })
})
