import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { untilEngine } from '../../../test/helpers/until.js'
import { createEngine, type Engine } from '../src/node/index.js'

// The engine API checks its arguments: a wrong one is ERR_INVALID_ARGUMENT, and nothing is stored.

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
})

async function device(): Promise<Engine> {
  const e = await createEngine({ store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }), network: false, deviceName: 'a' })
  engines.push(e)
  await e.createAccount({ name: 'Ann' })
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
    await a.createAccount({ name: 'Ann' })
    const { chatId } = await a.createChat({ title: 'notes' })
    await b.joinAccount(a.exportAccountCredentials())
    await a.goOffline()
    expect(a.multiaddrs()).toEqual([])
    await a.sendMessage(chatId, 'written offline')
    await a.start()
    a.dial(b.multiaddrs()[0]!)
    await untilEngine(b, () => b.listChats().length === 1 && b.listMessages(chatId).some(m => m.text === 'written offline'), 'b has what a wrote offline')
  })
})
