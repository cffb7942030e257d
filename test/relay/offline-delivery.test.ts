import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { DeviceProcess } from '../helpers/device-process.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { acceptGrant, grantFor } from '../helpers/grant.js'

interface Dump {
  chats: Array<{ chatId: string; messages: Array<{ id: string; text: string; status: string }> }>
}

const stops: Array<() => Promise<unknown>> = []
const dirs: string[] = []
const tmp = async (label: string): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), `tandem-${label}-`))
  dirs.push(d)
  return d
}
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
  await Promise.all(dirs.splice(0).map(d => rm(d, { recursive: true, force: true })))
})

function device(label: string, dir: string, relay: RelayProcess): DeviceProcess {
  const d = DeviceProcess.start(label, ['--data', dir, '--relay', relay.address, '--name', label])
  stops.push(() => d.stop())
  return d
}

it('B receives 1,000 messages A sent while B was off, from the relay alone', async () => {
  const relay = await RelayProcess.start(await tmp('relay'))
  stops.push(() => relay.stop())
  const aDir = await tmp('a')
  const a = device('a', aDir, relay)
  await a.request('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'offline' })
  await a.request('burst', { chatId, prefix: 'm', count: 1000, concurrency: 8 })
  // every message reaches "sent" (acked by the relay) before A goes away
  await a.waitForEvent(() => a.events.filter(e => e.event === 'status').reduce((n, e) => n + (e.messageIds as string[]).length, 0) >= 1000, 60_000)
  const dumpA = await a.request<Dump>('dump')
  expect(dumpA.chats[0]!.messages.filter(m => m.status === 'sent')).toHaveLength(1000)
  // B is listed by A, which then goes off: B joins while A is off
  const b = device('b', await tmp('b'), relay)
  const grant = await grantFor(a, b)
  await a.stop()

  await acceptGrant(b, grant)
  await b.request('wait-messages', { chatId, count: 1000 }, 60_000)
  const dumpB = await b.request<Dump>('dump')
  expect(dumpB.chats.find(c => c.chatId === chatId)!.messages.map(m => m.text)).toEqual(dumpA.chats[0]!.messages.map(m => m.text))
})
