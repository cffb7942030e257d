// Runs devices with mDNS on, each inside a network namespace this test creates (ip netns, loopback
// only, multicast routed to lo): no multicast leaves the machine.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { DEVICE_MAIN, DeviceProcess } from '../helpers/device-process.js'
import { NetNamespace } from '../helpers/netns.js'

interface Dump {
  chats: Array<{ chatId: string; messages: Array<{ id: string; text: string; wall: number; counter: number }> }>
  stateVectors: Record<string, string>
  devices: unknown[]
}

const ns = NetNamespace.create('tandem-lan')
const devices: DeviceProcess[] = []
const dirs: string[] = []

afterAll(async () => {
  await Promise.all(devices.map(d => d.stop()))
  ns.destroy()
  await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
})

async function device(label: string): Promise<DeviceProcess> {
  const dir = await mkdtemp(join(tmpdir(), `tandem-lan-${label}-`))
  dirs.push(dir)
  // no --peer: the devices must find each other by mDNS alone
  const d = DeviceProcess.start(label, ['--data', dir, '--listen', '/ip4/0.0.0.0/tcp/0', '--mdns', '--name', label], ns.wrap(['node', DEVICE_MAIN]))
  devices.push(d)
  return d
}

it('three devices of one account find each other by mDNS and converge on 600 concurrent messages', async () => {
  const [a, b, c] = await Promise.all([device('a'), device('b'), device('c')])
  await a.request('create-account', { name: 'Ann', recovery: false })
  const chat = await a.request<{ chatId: string }>('create-chat', { title: 'family' })
  await b.joinVia(a)
  await c.joinVia(a)

  // every device learns of the chat from the others (account doc over mDNS-found sessions)
  await Promise.all([b, c].map(d => d.request('wait-messages', { chatId: chat.chatId, count: 0 }, 60_000)))

  await Promise.all([a, b, c].map((d, i) => d.request('burst', { chatId: chat.chatId, prefix: `dev${i}`, count: 200, concurrency: 4 }, 120_000)))
  await Promise.all([a, b, c].map(d => d.request('wait-messages', { chatId: chat.chatId, count: 600 }, 120_000)))

  const dumps = await Promise.all([a, b, c].map(d => d.request<Dump>('dump')))
  const messages = dumps.map(d => d.chats.find(x => x.chatId === chat.chatId)!.messages)
  expect(messages[0]).toHaveLength(600)
  expect(new Set(messages[0]!.map(m => m.id)).size).toBe(600)
  expect(messages[1]).toEqual(messages[0])
  expect(messages[2]).toEqual(messages[0])
  // full decoded state and Yjs state vectors agree too
  expect(dumps[1]!.chats).toEqual(dumps[0]!.chats)
  expect(dumps[2]!.chats).toEqual(dumps[0]!.chats)
  expect(dumps[1]!.stateVectors).toEqual(dumps[0]!.stateVectors)
  expect(dumps[2]!.stateVectors).toEqual(dumps[0]!.stateVectors)
  expect(dumps[0]!.devices).toHaveLength(3)
  // display order is the hybrid-logical-clock order, not arrival order
  const order = messages[0]!.map(m => [m.wall, m.counter, m.id] as const)
  const sorted = [...order].sort((x, y) => x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0))
  expect(order).toEqual(sorted)
})
