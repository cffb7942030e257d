import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
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
