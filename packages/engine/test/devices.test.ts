import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { decodeChain, encodeSyncFrame, proposeLink, SYNC_PROTOCOL_VERSION, signingKeyFromSeed, signLinkBody, verifyChain } from '@tandem/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, createMemoryLinkPair, type Engine, type EngineEvent } from '../src/node/index.js'
import { linkDevices } from '../../../test/helpers/link-devices.js'
import { untilEngine } from '../../../test/helpers/until.js'

const engines: Engine[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map(e => e.stop()))
  await Promise.all(dirs.splice(0).map(d => rm(d, { recursive: true, force: true })))
})

async function engine(name: string, dataDir?: string): Promise<Engine> {
  const store = dataDir === undefined ? new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }) : undefined
  const e = await createEngine({ store, dataDir, deviceName: name, network: false })
  await e.start()
  engines.push(e)
  return e
}

function connect(a: Engine, b: Engine): () => void {
  const [ab, ba] = createMemoryLinkPair(a.peerId, b.peerId)
  a.addLink(ab)
  b.addLink(ba)
  return () => {
    ab.close()
    ba.close()
  }
}

const events = (e: Engine): EngineEvent[] => {
  const seen: EngineEvent[] = []
  e.subscribe(ev => seen.push(ev))
  return seen
}

describe('the devices of an account', () => {
  it('lists each device with its name, platform and link time, and marks this one', async () => {
    const [phone, laptop] = [await engine('phone'), await engine('laptop')]
    const created = await phone.createAccount({ name: 'Ann', recovery: false })
    expect(created.recoveryPhrase).toBeNull()
    await linkDevices(phone, laptop)
    expect(laptop.accountId).toBe(phone.accountId)
    const list = laptop.listDevices()
    expect(list.map(d => [d.name, d.platform, d.thisDevice])).toEqual([
      ['phone', 'node', false],
      ['laptop', 'node', true]
    ])
    expect(list[0]!.linkedAt).toBeLessThanOrEqual(list[1]!.linkedAt)
  })

  it('gives a new account a 12-word recovery phrase, once', async () => {
    const phone = await engine('phone')
    const created = await phone.createAccount({ name: 'Ann' })
    expect(created.recoveryPhrase?.split(' ')).toHaveLength(12)
  })

  it('spreads a rename and a new device to a device that was away', async () => {
    const [a, b, c] = [await engine('a'), await engine('b'), await engine('c')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await linkDevices(a, b)
    await linkDevices(a, c)
    await a.renameDevice(b.peerId, 'work laptop')
    connect(a, b)
    await untilEngine(b, () => b.listDevices().length === 3 && b.listDevices().some(d => d.name === 'work laptop'), 'wait 1')
  })

  it('refuses to revoke anything but a listed device, with ERR_INVALID_ARGUMENT, and records nothing', async () => {
    const [a, b] = [await engine('a'), await engine('b')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await linkDevices(a, b)
    for (const bad of ['12D3KooWtypo', 'not a peer id', b.peerId.slice(0, -1), a.peerId]) {
      await expect(a.revokeDevice(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    }
    expect(a.listRevokedDevices()).toEqual([])
    expect(a.listDevices()).toHaveLength(2)
  })

  it('revokes a device: the others close its session, and it stops and erases the account from its disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-revoked-'))
    dirs.push(dir)
    const [a, b] = [await engine('a'), await engine('b', join(dir, 'b'))]
    await a.createAccount({ name: 'Ann', recovery: false })
    const chat = await a.createChat({ title: 'secret plans' })
    await linkDevices(a, b)
    const seen = events(b)
    connect(a, b)
    await untilEngine(b, () => b.listChats().length === 1 && b.connectedPeers().length === 1, 'wait 2')
    await a.revokeDevice(b.peerId)
    await untilEngine(b, () => seen.some(e => e.type === 'revoked'), 'wait 3')
    expect(a.listRevokedDevices()).toEqual([b.peerId])
    expect(a.connectedPeers()).toEqual([])
    expect(() => b.listChats()).toThrow(expect.objectContaining({ code: 'ERR_ENGINE_STATE' }))
    expect(await readdir(join(dir, 'b')).catch(() => [])).toEqual([])
    await a.sendMessage(chat.chatId, 'after the revoke')
  })

  it('refuses a revoked device that comes back, and one of another account, with typed errors', async () => {
    const [a, b, c] = [await engine('a'), await engine('b'), await engine('c')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await linkDevices(a, b)
    await linkDevices(a, c)
    await a.revokeDevice(b.peerId)
    // c has not heard yet; a tells it on connect, then c refuses b too
    const refused = events(a)
    connect(a, b)
    await untilEngine(a, () => refused.some(e => e.type === 'refused' && e.peerId === b.peerId), 'wait 4')
    expect(refused.find(e => e.type === 'refused')).toMatchObject({ error: { code: 'ERR_DEVICE_REVOKED' } })
  })

  it('ends two devices that revoke each other while apart with one agreed list on both', async () => {
    const [a, b, c] = [await engine('a'), await engine('b'), await engine('c')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await linkDevices(a, b)
    await linkDevices(a, c)
    connect(a, c)
    connect(b, c)
    await untilEngine(b, () => b.listDevices().length === 3, 'wait 5')
    await untilEngine(c, () => c.connectedPeers().length === 2, 'wait 6')
    // a and b are apart (no link between them); each revokes the other before hearing of it
    const [seenA, seenB] = [events(a), events(b)]
    await Promise.all([a.revokeDevice(b.peerId), b.revokeDevice(a.peerId)])
    // one of them learns it lost (from c, which holds both links and picks the same one they do)
    const revokedIn = (seen: EngineEvent[]) => seen.some(e => e.type === 'revoked')
    await Promise.race([untilEngine(a, () => revokedIn(seenA), 'a learns'), untilEngine(b, () => revokedIn(seenB), 'b learns')])
    const loser = revokedIn(seenA) ? a : b
    const winner = loser === a ? b : a
    await untilEngine(c, () => c.listDevices().length === 2 && c.listRevokedDevices().includes(loser.peerId), 'c agrees')
    expect(
      c
        .listDevices()
        .map(d => d.peerId)
        .sort()
    ).toEqual([winner.peerId, c.peerId].sort())
    expect(
      winner
        .listDevices()
        .map(d => d.peerId)
        .sort()
    ).toEqual([winner.peerId, c.peerId].sort())
    expect(c.listRevokedDevices()).toEqual([loser.peerId])
  })

  it('drops forged links a peer sends (bad signature, signed by a revoked device, a stranger) and keeps its list', async () => {
    const [a, b, c] = [await engine('a'), await engine('b'), await engine('c')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await linkDevices(a, b)
    await linkDevices(a, c)
    await a.revokeDevice(c.peerId)
    const links = decodeChain((await a.addDevice(b.deviceOffer())).chain)
    const head = verifyChain(links)
    const revokeA = { type: 'revoke-device' as const, peerId: a.peerId }
    // a revoked device's key, a stranger's key, and a real link with one signature bit flipped
    const { signature: _, ...body } = proposeLink(head, [revokeA], { kind: 'device', key: signingKeyOf(b) }, { issuedAt: 1 })
    const byRevoked = signLinkBody({ ...body, signer: { kind: 'device', publicKey: signingKeyOf(c).publicKey } }, signingKeyOf(c))
    const stranger = signingKeyFromSeed(new Uint8Array(32).fill(7))
    const byStranger = {
      ...proposeLink(head, [revokeA], { kind: 'device', key: signingKeyOf(b) }, { issuedAt: 1 }),
      signer: { kind: 'device' as const, publicKey: stranger.publicKey }
    }
    const flipped = proposeLink(head, [revokeA], { kind: 'device', key: signingKeyOf(b) }, { issuedAt: 2 })
    flipped.signature[0]! ^= 1
    for (const forged of [byRevoked, byStranger, flipped]) {
      const refused = events(a)
      const [toA, rogue] = createMemoryLinkPair(b.peerId, a.peerId)
      a.addLink(toA)
      rogue.start({ onFrame: () => {}, onError: () => {}, onClose: () => {} })
      const head = { version: forged.version, hash: new Uint8Array(32).fill(1) }
      await rogue.send(encodeSyncFrame({ type: 'hello', version: SYNC_PROTOCOL_VERSION, accountId: a.accountId!, head }))
      await rogue.send(encodeSyncFrame({ type: 'links', links: [...links.slice(0, forged.version - 1), forged], last: true }))
      await untilEngine(a, () => a.connectedPeers().length === 1 || refused.some(e => e.type === 'refused'), 'wait 9')
      rogue.close()
      expect(a.listDevices().map(d => d.peerId)).toContain(a.peerId)
      expect(a.listRevokedDevices()).toEqual([c.peerId])
    }
  })
})

/** The chain signing key of an engine's device (its libp2p key): for forging links in tests only. */
function signingKeyOf(e: Engine) {
  return (e as unknown as { account: { device: { signing: ReturnType<typeof signingKeyFromSeed> } } }).account.device.signing
}
