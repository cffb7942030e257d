import { randomBytes } from 'node:crypto'
import {
  STORE_PROTOCOL,
  STORE_PROTOCOL_VERSION,
  accountIdFromPublicKey,
  accountKeyFromSecret,
  decodeAccountCredentials,
  encodeStoreFrame,
  generateAccountKey,
  signDeviceCertificate,
  signDeviceList
} from '@tandem/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeviceProcess } from '../helpers/device-process.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { RoguePeer } from '../helpers/rogue-peer.js'
import { Rig, sentIds } from './relay-helpers.js'

const rig = new Rig()
let relay: RelayProcess
let a: DeviceProcess
let rogue: RoguePeer
let chatId: string
let credentials: string
let accountId: string

beforeAll(async () => {
  relay = await rig.relay()
  rogue = await RoguePeer.start()
  a = rig.device('a', await rig.dir('a'), ['--relay', relay.address])
  accountId = (await a.request<{ accountId: string }>('create-account', { name: 'Ann' })).accountId
  chatId = (await a.request<{ chatId: string }>('create-chat', { title: 'c' })).chatId
  credentials = await a.request<string>('credentials')
})
afterAll(async () => {
  await rogue.stop()
  await rig.cleanup()
})

/** The relay still serves its legitimate device: a new message reaches "sent". */
async function relayStillServesA(text: string): Promise<void> {
  const m = await a.request<{ id: string }>('send', { chatId, text })
  await a.waitForEvent(() => sentIds(a).has(m.id), 20_000)
}

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

describe('the relay refuses with typed errors and keeps serving everyone else', () => {
  it('refuses a certificate with a forged signature', async () => {
    const victim = accountKeyFromSecret(decodeAccountCredentials(credentials).secretKey)
    const other = generateAccountKey(random)
    const forged = { ...signDeviceCertificate(other, { peerId: rogue.peerId, name: 'eve', createdAt: 1 }), accountPublicKey: victim.publicKey }
    const s = await rogue.openStore(relay.address, STORE_PROTOCOL)
    s.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: forged, deviceList: null }))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_INVALID_CERTIFICATE' })
    await relayStillServesA('after forged')
  })

  it('refuses a frame before hello (no certificate at all)', async () => {
    const s = await rogue.openStore(relay.address, STORE_PROTOCOL)
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${accountId}`, since: 0 }))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_NOT_AUTHENTICATED' })
    await relayStillServesA('after no cert')
  })

  it("refuses a device of another account access to this account's docs", async () => {
    const eve = generateAccountKey(random)
    const cert = signDeviceCertificate(eve, { peerId: rogue.peerId, name: 'eve', createdAt: 1 })
    const list = signDeviceList(eve, { version: 1, devices: [{ peerId: rogue.peerId, name: 'eve', createdAt: 1 }], revoked: [], issuedAt: 1 })
    const s = await rogue.openStore(relay.address, STORE_PROTOCOL)
    s.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: cert, deviceList: list }))
    await s.frame(f => f.type === 'welcome')
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${accountId}`, since: 0 }))
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `chat:${chatId}`, since: 0 }))
    s.sendFrame(encodeStoreFrame({ type: 'append', docId: `chat:${chatId}`, uploadId: 1, final: true, chunk: new Uint8Array([1, 2, 3]) }))
    const denied = await s.frame(f => f.type === 'doc-error' && f.uploadId === 1)
    expect(denied).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    expect(s.frames.filter(f => f.type === 'doc-error').map(f => f.type === 'doc-error' && f.code)).toEqual(['ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED'])
    expect(s.frames.some(f => f.type === 'blob' || f.type === 'snapshot-data')).toBe(false)
    // its own account doc is fine: the stream was never closed
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${accountIdFromPublicKey(eve.publicKey)}`, since: 0 }))
    await s.frame(f => f.type === 'caught-up')
    s.abort()
    await relayStillServesA('after eve')
  })

  it('refuses a revoked device at once, and on every later connection', async () => {
    const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address])
    await b.request('join', { credentials })
    await b.request('wait-messages', { chatId, count: 1 }, 30_000)
    const bPeer = (await b.request<{ peerId: string }>('info')).peerId
    await a.request('revoke', { peerId: bPeer })
    const refusedByRelay = (): number => b.events.filter(e => e.event === 'relay' && e.connected === false && e.code === 'ERR_DEVICE_REVOKED').length
    await b.waitForEvent(() => refusedByRelay() >= 1, 20_000)
    // it reconnects (backing off) and is refused again, never welcomed
    await b.waitForEvent(() => refusedByRelay() >= 2, 20_000)
    await relayStillServesA('after revoke')
    // b's later messages never reach the relay, and a never sees them
    const before = (await a.request<{ chats: Array<{ messages: unknown[] }> }>('dump')).chats[0]!.messages.length
    await b.request('send', { chatId, text: 'from a revoked device' })
    await relayStillServesA('after revoked send')
    const after = (await a.request<{ chats: Array<{ messages: Array<{ text: string }> }> }>('dump')).chats[0]!.messages
    expect(after.length).toBe(before + 1)
    expect(after.some(m => m.text === 'from a revoked device')).toBe(false)
  })
})
