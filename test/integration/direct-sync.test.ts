import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DeviceProcess } from '../helpers/device-process.js'

interface Info {
  peerId: string
  accountId: string
  multiaddrs: string[]
}
interface Dump {
  chats: Array<{ chatId: string; messages: Array<{ id: string; text: string }> }>
  stateVectors: Record<string, string>
}

const devices: DeviceProcess[] = []
const dirs: string[] = []

async function device(label: string, extra: string[] = []): Promise<DeviceProcess> {
  const dir = await mkdtemp(join(tmpdir(), `tandem-${label}-`))
  dirs.push(dir)
  const d = DeviceProcess.start(label, ['--data', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--name', label, ...extra])
  devices.push(d)
  return d
}

afterEach(async () => {
  await Promise.all(devices.splice(0).map(d => d.stop()))
  await Promise.all(dirs.splice(0).map(d => rm(d, { recursive: true, force: true })))
})

describe('two devices on 127.0.0.1, direct dial', () => {
  it('syncs a 50,000-message chat to a fresh device completely', async () => {
    const a = await device('a', ['--no-sync'])
    await a.request('create-account', { name: 'Ann', recovery: false })
    const chat = await a.request<{ chatId: string }>('create-chat', { title: 'history' })
    await a.request('burst', { chatId: chat.chatId, prefix: 'm', count: 50_000, concurrency: 500 }, 170_000)
    const infoA = await a.request<Info>('info')

    const b = await device('b')
    await b.joinVia(a)
    const t0 = performance.now()
    await b.request('dial', { addr: infoA.multiaddrs[0] })
    await b.request('wait-messages', { chatId: chat.chatId, count: 50_000 }, 170_000)
    const ms = performance.now() - t0
    console.log(`50,000-message history synced to a fresh device in ${ms.toFixed(0)} ms`)

    const [dumpA, dumpB] = await Promise.all([a.request<Dump>('dump'), b.request<Dump>('dump')])
    const chatA = dumpA.chats.find(c => c.chatId === chat.chatId)!
    const chatB = dumpB.chats.find(c => c.chatId === chat.chatId)!
    expect(chatB.messages.length).toBe(50_000)
    expect(chatB.messages).toEqual(chatA.messages)
    expect(dumpB.stateVectors[`chat:${chat.chatId}`]).toEqual(dumpA.stateVectors[`chat:${chat.chatId}`])
  })
})
