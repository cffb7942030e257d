import { randomBytes } from 'node:crypto'
import {
  STORE_PROTOCOL,
  STORE_PROTOCOL_VERSION,
  type ChainLink,
  decodeChain,
  encodeStoreFrame,
  headOfLinks,
  peerIdFromSigningKey,
  proposeLink,
  signingKeyFromSeed,
  verifyChain
} from '@tandem/protocol'
import { TestAccount } from '@tandem/relay/testing'
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
let accountId: string
/** A rogue whose key the test holds (it can sign chain links as it). */
const eveSeed = new Uint8Array(randomBytes(32))
let eve: RoguePeer

beforeAll(async () => {
  relay = await rig.relay()
  rogue = await RoguePeer.start()
  eve = await RoguePeer.start(eveSeed)
  a = rig.device('a', await rig.dir('a'), ['--relay', relay.address])
  accountId = (await a.request<{ accountId: string }>('create-account', { name: 'Ann', recovery: false })).accountId
  chatId = (await a.request<{ chatId: string }>('create-chat', { title: 'c' })).chatId
})
afterAll(async () => {
  await Promise.all([rogue.stop(), eve.stop()])
  await rig.cleanup()
})

/** The relay still serves its legitimate device: a new message reaches "sent". */
async function relayStillServesA(text: string): Promise<void> {
  const m = await a.request<{ id: string }>('send', { chatId, text })
  await a.waitForEvent(() => sentIds(a).has(m.id), 20_000)
}

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

describe('the relay refuses with typed errors and keeps serving everyone else', () => {
  it("refuses forged links on an account's chain: one that lists the peer signed by itself, one by a listed device with its signature altered", async () => {
    // the account's real chain, from a grant for a device whose key the test holds
    const insiderKey = signingKeyFromSeed(random(32))
    const offer = { peerId: peerIdFromSigningKey(insiderKey.publicKey), agreementKey: Buffer.from(random(32)).toString('base64'), name: 'insider', platform: 'node' }
    const real: ChainLink[] = decodeChain(new Uint8Array(Buffer.from((await a.request<{ chain: string }>('add-device', { offer })).chain, 'base64')))
    const state = verifyChain(real, { accountId })
    const eveKey = signingKeyFromSeed(eveSeed)
    const device = { signingKey: eveKey.publicKey, agreementKey: random(32), name: 'eve', platform: 'node', linkedAt: 1 }
    const intents = [{ type: 'add-device' as const, device }]
    const selfListed = { ...state, devices: new Map([...state.devices, [Buffer.from(eveKey.publicKey).toString('hex'), device]]) }
    const bySelf = proposeLink(selfListed, intents, { kind: 'device', key: eveKey }, { issuedAt: Date.now() })
    const signed = proposeLink(state, intents, { kind: 'device', key: insiderKey }, { issuedAt: Date.now() })
    const badSignature = { ...signed, signature: signed.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) }
    for (const forged of [bySelf, badSignature]) {
      const s = await eve.openStore(relay.address, STORE_PROTOCOL)
      s.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId, head: headOfLinks([...real, forged]) }))
      s.sendFrame(encodeStoreFrame({ type: 'offer-links', links: [...real, forged], last: true }))
      s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${accountId}`, since: 0 }))
      // a peer of the account's that is not listed yet is welcomed (a device just linked offers its link itself), but the
      // forged link is refused, the relay's chain comes back, and no doc is served
      const refused = await s.frame(f => f.type === 'doc-error' && f.docId === '')
      expect(refused).toMatchObject({ code: forged === bySelf ? 'ERR_SIGNER_NOT_CURRENT' : 'ERR_INVALID_DEVICE_LIST' })
      expect(await s.frame(f => f.type === 'doc-error' && f.docId === `account:${accountId}`)).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED' })
      expect(s.frames.some(f => f.type === 'blob' || f.type === 'snapshot-data' || f.type === 'subscribed')).toBe(false)
      s.abort()
      await relayStillServesA('after forged')
    }
    const devices = await a.request<Array<{ peerId: string }>>('devices')
    expect(devices.map(d => d.peerId)).not.toContain(eve.peerId)
  })

  it('refuses a frame before hello (no certificate at all)', async () => {
    const s = await rogue.openStore(relay.address, STORE_PROTOCOL)
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${accountId}`, since: 0 }))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_NOT_AUTHENTICATED' })
    await relayStillServesA('after no cert')
  })

  it("refuses a device of another account access to this account's docs", async () => {
    // eve is the first device of an account of her own: the relay takes its genesis and welcomes her
    let first = true
    const other = new TestAccount(n => {
      if (first && n === 32) {
        first = false
        return eveSeed
      }
      return random(n)
    })
    expect(other.first.peerId).toBe(eve.peerId)
    const s = await eve.openStore(relay.address, STORE_PROTOCOL)
    s.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: other.id, head: headOfLinks(other.links) }))
    s.sendFrame(encodeStoreFrame({ type: 'offer-links', links: other.links, last: true }))
    await s.frame(f => f.type === 'welcome')
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${accountId}`, since: 0 }))
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `chat:${chatId}`, since: 0 }))
    s.sendFrame(encodeStoreFrame({ type: 'append', docId: `chat:${chatId}`, uploadId: 1, final: true, chunk: new Uint8Array([1, 2, 3]) }))
    const denied = await s.frame(f => f.type === 'doc-error' && f.uploadId === 1)
    expect(denied).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    expect(s.frames.filter(f => f.type === 'doc-error').map(f => f.type === 'doc-error' && f.code)).toEqual(['ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED'])
    expect(s.frames.some(f => f.type === 'blob' || f.type === 'snapshot-data')).toBe(false)
    // its own account doc is fine: the stream was never closed
    s.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: other.doc, since: 0 }))
    await s.frame(f => f.type === 'caught-up')
    s.abort()
    await relayStillServesA('after eve')
  })

  it('refuses a revoked device at once, and on every later connection; a revoked device process learns it and stops', async () => {
    // a device whose key the test holds, listed by a: welcomed, then revoked while connected
    const seed = random(32)
    const insider = await RoguePeer.start(seed)
    try {
      const offer = { peerId: insider.peerId, agreementKey: Buffer.from(random(32)).toString('base64'), name: 'insider', platform: 'node' }
      expect(peerIdFromSigningKey(signingKeyFromSeed(seed).publicKey)).toBe(insider.peerId)
      const links = decodeChain(new Uint8Array(Buffer.from((await a.request<{ chain: string }>('add-device', { offer })).chain, 'base64')))
      const hello = encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId, head: headOfLinks(links) })
      const s = await insider.openStore(relay.address, STORE_PROTOCOL)
      s.sendFrame(hello)
      s.sendFrame(encodeStoreFrame({ type: 'offer-links', links, last: true }))
      await s.frame(f => f.type === 'welcome')
      await a.request('revoke', { peerId: insider.peerId })
      expect(await s.refusal()).toMatchObject({ code: 'ERR_DEVICE_REVOKED' })
      for (let i = 0; i < 2; i++) {
        const again = await insider.openStore(relay.address, STORE_PROTOCOL)
        again.sendFrame(hello)
        again.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${accountId}`, since: 0 }))
        expect(await again.refusal()).toMatchObject({ code: 'ERR_DEVICE_REVOKED' })
        // (it may hear the links that revoke it first: a device away when it was revoked learns it here) but no doc is served
        expect(again.frames.some(f => f.type === 'subscribed' || f.type === 'blob' || f.type === 'snapshot-data')).toBe(false)
      }
    } finally {
      await insider.stop()
    }
    await relayStillServesA('after revoking the insider')

    // a device process: revoked, it learns it (the links come before its sessions end), stops and erases its data
    const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address])
    await b.joinVia(a)
    await b.request('wait-messages', { chatId, count: 1 }, 30_000)
    const bPeer = (await b.request<{ peerId: string }>('info')).peerId
    const before = (await a.request<{ chats: Array<{ messages: unknown[] }> }>('dump')).chats[0]!.messages.length
    await a.request('revoke', { peerId: bPeer })
    await b.waitForEvent(e => e.event === 'revoked' && e.accountId === accountId, 20_000)
    await expect(b.request('send', { chatId, text: 'from a revoked device' })).rejects.toMatchObject({ code: 'ERR_ENGINE_STATE' })
    await relayStillServesA('after revoke')
    const after = (await a.request<{ chats: Array<{ messages: Array<{ text: string }> }> }>('dump')).chats[0]!.messages
    expect(after.length).toBe(before + 1)
    expect((await a.request<Array<{ peerId: string }>>('devices')).map(d => d.peerId)).not.toContain(bPeer)
  })
})
