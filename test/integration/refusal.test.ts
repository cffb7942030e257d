import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  MAX_FRAME_BYTES,
  SYNC_PROTOCOL_VERSION,
  accountKeyFromSecret,
  decodeAccountCredentials,
  encodeSyncFrame,
  generateAccountKey,
  signDeviceCertificate
} from '@tandem/protocol'
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
let rogue: RoguePeer
let target: string
let credentials: string
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
  await a.request('create-account', { name: 'Ann' })
  chatId = (await a.request<{ chatId: string }>('create-chat', { title: 'c' })).chatId
  credentials = await a.request<string>('credentials')
  target = (await a.request<Info>('info')).multiaddrs[0]!
  await b.request('join', { credentials })
  await b.request('dial', { addr: target })
  await b.request('wait-messages', { chatId, count: 0 })
})

afterAll(async () => {
  await Promise.all([a.stop(), b.stop(), rogue.stop()])
  await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
})

/** After every refusal, the refusing device still syncs both ways with its legitimate peer. */
async function stillSyncing(): Promise<void> {
  await a.request('send', { chatId, text: `from a ${sent}` })
  await b.request('send', { chatId, text: `from b ${sent}` })
  sent++
  await Promise.all([a, b].map(d => d.request('wait-messages', { chatId, count: 2 * sent }, 20_000)))
}

const hello = (cert: ReturnType<typeof signDeviceCertificate>, version = SYNC_PROTOCOL_VERSION): Uint8Array => encodeSyncFrame({ type: 'hello', version, certificate: cert })

describe('a device refuses bad peers with typed errors and keeps serving', () => {
  it('refuses a peer that sends no certificate', async () => {
    const s = await rogue.open(target)
    s.sendFrame(encodeSyncFrame({ type: 'sync-request', docId: `chat:${chatId}`, stateVector: new Uint8Array([0]) }))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_NOT_AUTHENTICATED' })
    await a.waitForEvent(e => e.event === 'refused' && e.code === 'ERR_NOT_AUTHENTICATED')
    await stillSyncing()
  })

  it('refuses a certificate from another account', async () => {
    const other = generateAccountKey(n => new Uint8Array(randomBytes(n)))
    const s = await rogue.open(target)
    s.sendFrame(hello(signDeviceCertificate(other, { peerId: rogue.peerId, name: 'eve', createdAt: Date.now() })))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_WRONG_ACCOUNT' })
    await stillSyncing()
  })

  it('refuses a certificate with a forged signature', async () => {
    const victim = accountKeyFromSecret(decodeAccountCredentials(credentials).secretKey)
    const other = generateAccountKey(n => new Uint8Array(randomBytes(n)))
    const forged = { ...signDeviceCertificate(other, { peerId: rogue.peerId, name: 'eve', createdAt: Date.now() }), accountPublicKey: victim.publicKey }
    const s = await rogue.open(target)
    s.sendFrame(hello(forged))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_INVALID_CERTIFICATE' })
    await stillSyncing()
  })

  it('refuses a valid certificate presented by another peer id (a stolen certificate)', async () => {
    const keys = accountKeyFromSecret(decodeAccountCredentials(credentials).secretKey)
    const info = await b.request<Info>('info')
    const s = await rogue.open(target)
    s.sendFrame(hello(signDeviceCertificate(keys, { peerId: info.peerId, name: 'b', createdAt: Date.now() })))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_INVALID_CERTIFICATE' })
    await stillSyncing()
  })

  it('refuses an unknown protocol version, in the hello and in the protocol id', async () => {
    const keys = accountKeyFromSecret(decodeAccountCredentials(credentials).secretKey)
    const s = await rogue.open(target)
    s.sendFrame(hello(signDeviceCertificate(keys, { peerId: rogue.peerId, name: 'future', createdAt: Date.now() }), SYNC_PROTOCOL_VERSION + 1))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_UNSUPPORTED_VERSION' })
    await expect(rogue.open(target, '/tandem/sync/2.0.0')).rejects.toMatchObject({ name: 'UnsupportedProtocolError' })
    await stillSyncing()
  })

  it('closes the stream on a malformed frame from an authenticated peer', async () => {
    const keys = accountKeyFromSecret(decodeAccountCredentials(credentials).secretKey)
    const s = await rogue.open(target)
    s.sendFrame(hello(signDeviceCertificate(keys, { peerId: rogue.peerId, name: 'buggy', createdAt: Date.now() })))
    s.sendFrame(new Uint8Array([0xff, 0x01, 0x02]))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_MALFORMED_FRAME' })
    await stillSyncing()
  })

  it('closes the stream on an update that is not a Yjs update', async () => {
    const keys = accountKeyFromSecret(decodeAccountCredentials(credentials).secretKey)
    const s = await rogue.open(target)
    s.sendFrame(hello(signDeviceCertificate(keys, { peerId: rogue.peerId, name: 'buggy', createdAt: Date.now() })))
    s.sendFrame(encodeSyncFrame({ type: 'update', docId: `chat:${chatId}`, final: true, chunk: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x99]) }))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_MALFORMED_FRAME' })
    await stillSyncing()
  })

  it('closes the stream on an oversized frame', async () => {
    const keys = accountKeyFromSecret(decodeAccountCredentials(credentials).secretKey)
    const s = await rogue.open(target)
    s.sendFrame(hello(signDeviceCertificate(keys, { peerId: rogue.peerId, name: 'big', createdAt: Date.now() })))
    // a length prefix past the bound, followed by some of the promised bytes
    const prefix = [0x81, 0x80, 0x80, 0x01] // varint(2 MiB + 1)
    expect(2 * 1024 * 1024 + 1).toBeGreaterThan(MAX_FRAME_BYTES)
    s.sendRaw(new Uint8Array([...prefix, ...new Uint8Array(64 * 1024)]))
    expect(await s.refusal()).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' })
    await stillSyncing()
  })
})
