// Linking over a LAN: both devices inside a network namespace this test creates (ip netns,
// loopback only, multicast routed to lo), mDNS on, no relay. The new device is reached at
// the addresses its code lists and then finds the existing one by mDNS for the history.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { DEVICE_MAIN, DeviceProcess } from '../helpers/device-process.js'
import { NetNamespace } from '../helpers/netns.js'
import { type DeviceRow, linkByCode } from './linking-helpers.js'

interface Dump {
  chats: Array<{ chatId: string; messages: Array<{ id: string; text: string }> }>
  stateVectors: Record<string, string>
}

const ns = NetNamespace.create('tandem-link')
const devices: DeviceProcess[] = []
const dirs: string[] = []

afterAll(async () => {
  await Promise.all(devices.map(d => d.stop()))
  ns.destroy()
  await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
})

async function device(label: string): Promise<DeviceProcess> {
  const dir = await mkdtemp(join(tmpdir(), `tandem-link-lan-${label}-`))
  dirs.push(dir)
  const d = DeviceProcess.start(label, ['--data', dir, '--listen', '/ip4/0.0.0.0/tcp/0', '--mdns', '--name', label], ns.wrap(['node', DEVICE_MAIN]))
  devices.push(d)
  return d
}

it('links a new device by code on the LAN (mDNS, no relay), and it gets the whole history of 500 messages', async () => {
  const [phone, laptop] = await Promise.all([device('phone'), device('laptop')])
  await phone.request('create-account', { name: 'Ann', recovery: false })
  const chat = await phone.request<{ chatId: string }>('create-chat', { title: 'family' })
  await phone.request('burst', { chatId: chat.chatId, prefix: 'm', count: 500, concurrency: 8, quiet: true }, 120_000)

  const { digits, ms } = await linkByCode(laptop, phone)
  console.log(`linked on the LAN in ${ms.toFixed(0)} ms (digits ${digits})`)
  const t0 = performance.now()
  await laptop.request('wait-messages', { chatId: chat.chatId, count: 500 }, 90_000)
  console.log(`500 messages on the new device ${(performance.now() - t0).toFixed(0)} ms after the link`)

  const [a, b] = await Promise.all([phone.request<Dump>('dump'), laptop.request<Dump>('dump')])
  // (what each device shows; `status` is per device: the relay's ack reaches the writer)
  const shown = (d: Dump) => d.chats.map(c => ({ chatId: c.chatId, messages: c.messages.map(m => ({ id: m.id, text: m.text })) }))
  expect(shown(b)).toEqual(shown(a))
  expect(b.chats[0]!.messages).toHaveLength(500)
  const lists = await Promise.all([phone, laptop].map(d => d.request<DeviceRow[]>('devices')))
  for (const list of lists) expect(list.map(d => d.name)).toEqual(['phone', 'laptop'])
})
