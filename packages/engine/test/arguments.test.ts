import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { linkDevices } from '../../../test/helpers/link-devices.js'
import { untilEngine } from '../../../test/helpers/until.js'
import { createEngine, type Engine } from '../src/node/index.js'

// The engine API checks its arguments: a wrong one is ERR_INVALID_ARGUMENT, and nothing is stored.

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
})

async function bare(name = 'a'): Promise<Engine> {
  const e = await createEngine({ store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }), network: false, deviceName: name })
  engines.push(e)
  return e
}

async function device(): Promise<Engine> {
  const e = await bare()
  await e.createAccount({ name: 'Ann', recovery: false })
  return e
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  await p.then(
    () => undefined,
    (err: { code?: string }) => err.code
  )

describe('engine arguments', () => {
  it('a chat title that is not a string is refused, and no chat is made', async () => {
    const e = await device()
    expect(await codeOf(e.createChat({} as { title: string }))).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(e.createChat({ title: 7 as unknown as string }))).toBe('ERR_INVALID_ARGUMENT')
    expect(e.listChats()).toEqual([])
  })

  it('a message that is not a non-empty string is refused, and nothing is stored', async () => {
    const e = await device()
    const { chatId } = await e.createChat({ title: 'notes' })
    for (const body of [{ a: 1 }, '', 42, null]) expect(await codeOf(e.sendMessage(chatId, body as string))).toBe('ERR_INVALID_ARGUMENT')
    expect(e.messageCount(chatId)).toBe(0)
  })

  it('revoking a peer id that is not a device of the account is refused, and nothing is revoked', async () => {
    const e = await device()
    expect(await codeOf(e.revokeDevice('12D3KooWtypo'))).toBe('ERR_INVALID_ARGUMENT')
    expect(await codeOf(e.revokeDevice(e.peerId))).toBe('ERR_INVALID_ARGUMENT')
    expect(e.listRevokedDevices()).toEqual([])
  })

  it('addDevice takes a device offer: anything else is refused, and no device is listed', async () => {
    const e = await device()
    const offer = (await bare('b')).deviceOffer()
    for (const bad of [
      undefined,
      null,
      'offer',
      {},
      { ...offer, peerId: 7 },
      { ...offer, peerId: '12D3KooWtypo' },
      { ...offer, peerId: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }, // an RSA-style peer id: no Ed25519 key in it
      { ...offer, agreementKey: 'not bytes' },
      { ...offer, agreementKey: undefined }
    ])
      expect(await codeOf(e.addDevice(bad as never)), JSON.stringify(bad)).toBe('ERR_INVALID_ARGUMENT')
    expect(e.listDevices().map(d => d.peerId)).toEqual([e.peerId])
    await e.addDevice(offer) // the check can pass: the same offer, whole, lists the device
    expect(
      e
        .listDevices()
        .map(d => d.peerId)
        .sort()
    ).toEqual([e.peerId, offer.peerId].sort())
  })

  it('acceptGrant takes a grant of addDevice for this device: anything else is refused, and the device joins no account', async () => {
    const a = await device()
    const b = await bare('b')
    const c = await bare('c')
    const grant = await a.addDevice(b.deviceOffer())
    for (const bad of [undefined, null, 'grant', {}, { ...grant, accountId: 3 }, { ...grant, chain: 'not bytes' }])
      expect(await codeOf(c.acceptGrant(bad as never)), JSON.stringify(bad)).toBe('ERR_INVALID_ARGUMENT')
    // well-formed, but not for this device: b's grant does not list c
    expect(await codeOf(c.acceptGrant(grant))).toBe('ERR_DEVICE_NOT_LISTED')
    // a grant naming another account than its chain's
    const other = await device()
    expect(await codeOf(c.acceptGrant({ ...grant, accountId: other.accountId! }))).toBe('ERR_WRONG_ACCOUNT')
    // a chain cut short or with a flipped byte does not verify
    const cut = grant.chain.slice(0, grant.chain.length - 1)
    const flipped = grant.chain.slice()
    flipped[flipped.length - 1]! ^= 1
    for (const chain of [cut, flipped, new Uint8Array(0)]) expect(await codeOf(c.acceptGrant({ ...grant, chain }))).toBe('ERR_INVALID_DEVICE_LIST')
    expect(c.accountId).toBeNull()
    // and the grant itself is good: b joins with it; a device with an account takes no second grant
    await b.acceptGrant(grant)
    expect(b.accountId).toBe(a.accountId)
    expect(await codeOf(b.acceptGrant(grant))).toBe('ERR_ENGINE_STATE')
    expect(b.accountId).toBe(a.accountId)
  })
})

describe('engine lifecycle', () => {
  it('after stop() every call is ERR_ENGINE_STATE, start() too, and nothing claims to be stored', async () => {
    const e = await device()
    const { chatId } = await e.createChat({ title: 'notes' })
    engines.splice(engines.indexOf(e), 1)
    await e.stop()
    expect(await codeOf(e.sendMessage(chatId, 'lost?'))).toBe('ERR_ENGINE_STATE')
    expect(await codeOf(e.start())).toBe('ERR_ENGINE_STATE')
    expect(await codeOf(e.createChat({ title: 'x' }))).toBe('ERR_ENGINE_STATE')
    expect(() => e.listChats()).toThrow(expect.objectContaining({ code: 'ERR_ENGINE_STATE' }))
    await e.stop() // a second stop is a no-op
  })

  it('goOffline() leaves the network and keeps the store: the device works locally and start() brings it back to its peers', async () => {
    const open = async (name: string): Promise<Engine> => {
      const e = await createEngine({
        store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
        deviceName: name,
        network: { listen: ['/ip4/127.0.0.1/tcp/0'] }
      })
      engines.push(e)
      await e.start()
      return e
    }
    const [a, b] = [await open('a'), await open('b')]
    await a.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await a.createChat({ title: 'notes' })
    await linkDevices(a, b)
    await a.goOffline()
    expect(a.multiaddrs()).toEqual([])
    await a.sendMessage(chatId, 'written offline')
    await a.start()
    a.dial(b.multiaddrs()[0]!)
    await untilEngine(b, () => b.listChats().length === 1 && b.listMessages(chatId).some(m => m.text === 'written offline'), 'b has what a wrote offline')
  })
})
