import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ChainLink,
  MAX_FRAME_BYTES,
  SYNC_PROTOCOL_VERSION,
  decodeChain,
  encodeSyncFrame,
  headOfLinks,
  peerIdFromSigningKey,
  proposeLink,
  signingKeyFromSeed,
  splitLinks,
  verifyChain
} from '@tandem/protocol'
import { TestAccount } from '@tandem/relay/testing'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DeviceProcess } from '../helpers/device-process.js'
import { RoguePeer } from '../helpers/rogue-peer.js'

interface Info {
  peerId: string
  accountId: string
  multiaddrs: string[]
}

const dirs: string[] = []
let a: DeviceProcess
let b: DeviceProcess
/** A peer gone bad that a's account lists (a device of the account): it gets past the hello. */
let rogue: RoguePeer
/** A peer the account never listed. */
let stranger: RoguePeer
const strangerSeed = new Uint8Array(randomBytes(32))
/** The account's chain as a grant for the rogue carries it (the rogue listed). */
let chain: ChainLink[]
let accountId: string
let target: string
let chatId: string
let sent = 0

async function device(label: string): Promise<DeviceProcess> {
  const dir = await mkdtemp(join(tmpdir(), `tandem-${label}-`))
  dirs.push(dir)
  return DeviceProcess.start(label, ['--data', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--name', label])
}

beforeAll(async () => {
  a = await device('a')
  b = await device('b')
  rogue = await RoguePeer.start()
  stranger = await RoguePeer.start(strangerSeed)
  accountId = (await a.request<{ accountId: string }>('create-account', { name: 'Ann', recovery: false })).accountId
  chatId = (await a.request<{ chatId: string }>('create-chat', { title: 'c' })).chatId
  target = (await a.request<Info>('info')).multiaddrs[0]!
  await b.joinVia(a)
  chain = await grantedChain(rogue.peerId)
  await b.request('dial', { addr: target })
  await b.request('wait-messages', { chatId, count: 0 })
})

afterAll(async () => {
  await Promise.all([a.stop(), b.stop(), rogue.stop(), stranger.stop()])
  await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
})

/** After every refusal, the refusing device still syncs both ways with its legitimate peer. */
async function stillSyncing(): Promise<void> {
  await a.request('send', { chatId, text: `from a ${sent}` })
  await b.request('send', { chatId, text: `from b ${sent}` })
  sent++
  await Promise.all([a, b].map(d => d.request('wait-messages', { chatId, count: 2 * sent }, 20_000)))
}

/** a lists a device by this peer id (a made-up agreement key): the chain of the grant, which lists it. */
async function grantedChain(peerId: string): Promise<ChainLink[]> {
  const offer = { peerId, agreementKey: randomBytes(32).toString('base64'), name: 'listed', platform: 'node' }
  const grant = await a.request<{ chain: string }>('add-device', { offer })
  return decodeChain(new Uint8Array(Buffer.from(grant.chain, 'base64')))
}

/** A hello naming `account` and the head of `links`, then `links` as the chain's runs (what a device sends when the heads differ). */
function helloWith(s: { sendFrame(bytes: Uint8Array): void }, links: ChainLink[], account = accountId, version = SYNC_PROTOCOL_VERSION): void {
  s.sendFrame(encodeSyncFrame({ type: 'hello', version, accountId: account, head: headOfLinks(links)! }))
  const runs = splitLinks(links)
  runs.forEach((run, i) => {
    s.sendFrame(encodeSyncFrame({ type: 'links', links: run, last: i === runs.length - 1 }))
  })
}

describe('a device refuses bad peers with typed errors and keeps serving', () => {
  it('refuses a peer that sends no hello', async () => {
    const s = await rogue.open(target)
    s.sendFrame(encodeSyncFrame({ type: 'sync-request', docId: `chat:${chatId}`, stateVector: new Uint8Array([0]) }))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_NOT_AUTHENTICATED' })
    await a.waitForEvent(e => e.event === 'refused' && e.code === 'ERR_NOT_AUTHENTICATED')
    await stillSyncing()
  })

  it('refuses a device of another account with ERR_WRONG_ACCOUNT', async () => {
    // the stranger is the first device of an account of its own: a real chain, the wrong account
    const other = new TestAccount(n => new Uint8Array(randomBytes(n)))
    const s = await stranger.open(target)
    helloWith(s, other.links, other.id)
    expect(await s.refusal()).toMatchObject({ code: 'ERR_WRONG_ACCOUNT' })
    await a.waitForEvent(e => e.event === 'refused' && e.code === 'ERR_WRONG_ACCOUNT')
    await stillSyncing()
  })

  it("refuses the account's real chain presented by a peer it does not list", async () => {
    const s = await stranger.open(target)
    helloWith(s, await grantedChain(peerIdFromSigningKey(signingKeyFromSeed(new Uint8Array(randomBytes(32))).publicKey)))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED' })
    await stillSyncing()
  })

  it('refuses forged chain links: one that lists the peer signed by itself, and one signed by a listed device with its signature altered', async () => {
    // a device of the account whose key the test holds (so it can sign a link that would be valid)
    const insiderKey = signingKeyFromSeed(new Uint8Array(randomBytes(32)))
    const real = await grantedChain(peerIdFromSigningKey(insiderKey.publicKey))
    const state = verifyChain(real, { accountId })
    const strangerKey = signingKeyFromSeed(strangerSeed)
    const device = { signingKey: strangerKey.publicKey, agreementKey: new Uint8Array(randomBytes(32)), name: 'eve', platform: 'node', linkedAt: Date.now() }
    const intents = [{ type: 'add-device' as const, device }]
    // signed by the stranger itself: a signer the chain does not list (proposeLink refuses to, so sign on a state that lists it)
    const selfListed = { ...state, devices: new Map([...state.devices, [Buffer.from(strangerKey.publicKey).toString('hex'), device]]) }
    const bySelf = proposeLink(selfListed, intents, { kind: 'device', key: strangerKey }, { issuedAt: Date.now() })
    // signed by the insider, then altered: the signature no longer matches
    const altered = proposeLink(state, intents, { kind: 'device', key: insiderKey }, { issuedAt: Date.now() })
    const badSignature = { ...altered, signature: altered.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) }
    for (const forged of [bySelf, badSignature]) {
      const s = await stranger.open(target)
      helloWith(s, [...real, forged])
      // the forged link is dropped as invalid: the chain without it does not list the stranger
      expect(await s.refusal()).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED' })
      await stillSyncing()
    }
    // and the forged links changed nothing: a lists no stranger
    const devices = await a.request<Array<{ peerId: string }>>('devices')
    expect(devices.map(d => d.peerId)).not.toContain(stranger.peerId)
  })

  it('refuses an unknown protocol version, in the hello and in the protocol id', async () => {
    const s = await rogue.open(target)
    helloWith(s, chain, accountId, SYNC_PROTOCOL_VERSION + 1)
    expect(await s.refusal()).toMatchObject({ code: 'ERR_UNSUPPORTED_VERSION' })
    await expect(rogue.open(target, '/tandem/sync/2.0.0')).rejects.toMatchObject({ name: 'UnsupportedProtocolError' })
    await stillSyncing()
  })

  it('closes the stream on a malformed frame from an authenticated peer', async () => {
    const s = await rogue.open(target)
    helloWith(s, chain)
    s.sendFrame(new Uint8Array([0xff, 0x01, 0x02]))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_MALFORMED_FRAME' })
    await stillSyncing()
  })

  it('closes the stream on an update that is not a Yjs update', async () => {
    const s = await rogue.open(target)
    helloWith(s, chain)
    s.sendFrame(encodeSyncFrame({ type: 'update', docId: `chat:${chatId}`, final: true, chunk: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x99]) }))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_MALFORMED_FRAME' })
    await stillSyncing()
  })

  it('closes the stream on an oversized frame', async () => {
    const s = await rogue.open(target)
    helloWith(s, chain)
    // a length prefix past the bound, followed by some of the promised bytes
    const prefix = [0x81, 0x80, 0x80, 0x01] // varint(2 MiB + 1)
    expect(2 * 1024 * 1024 + 1).toBeGreaterThan(MAX_FRAME_BYTES)
    s.sendRaw(new Uint8Array([...prefix, ...new Uint8Array(64 * 1024)]))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' })
    await stillSyncing()
  })
})
