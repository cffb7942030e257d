// Linking through a relay's circuit: both devices run with --no-direct, so the existing
// device reaches the new one only at the circuit address its code lists, and the history
// comes from the relay (and the other device, through the circuit).
import { parseLinkCodeText } from '@tandem/protocol'
import { afterAll, expect, it } from 'vitest'
import { Rig } from '../relay/relay-helpers.js'
import { type DeviceRow, type Info, linkByCode } from './linking-helpers.js'

interface Dump {
  chats: Array<{ chatId: string; messages: Array<{ id: string; text: string }> }>
}

const rig = new Rig()
afterAll(() => rig.cleanup())

it('links a new device by code through the relay circuit (--no-direct on both), and it gets the whole history of 500 messages', async () => {
  const relay = await rig.relay()
  const args = ['--relay', relay.address, '--no-direct']
  const phone = rig.device('phone', await rig.dir('phone'), args)
  const laptop = rig.device('laptop', await rig.dir('laptop'), args)
  await phone.request('create-account', { name: 'Ann', recovery: false })
  const chat = await phone.request<{ chatId: string }>('create-chat', { title: 'family' })
  await phone.request('burst', { chatId: chat.chatId, prefix: 'm', count: 500, concurrency: 8, quiet: true }, 120_000)

  // a code shown and cancelled first: the second one must still name a circuit that answers
  // (replacing the relay session dropped the reservation: ERR_LINK_UNREACHABLE, NO_RESERVATION)
  await laptop.request('show-link-code')
  await laptop.request('cancel-link')
  const { digits, ms, code } = await linkByCode(laptop, phone)
  const addresses = parseLinkCodeText(code).addresses
  expect(addresses.some(a => a.includes('/p2p-circuit'))).toBe(true)
  console.log(`linked through the circuit in ${ms.toFixed(0)} ms (digits ${digits}); the code listed ${addresses.join(', ')}`)
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
  // no direct connection: they reach each other only through the relay
  const info = await laptop.request<Info>('info')
  expect(info.relays.some(r => r.connected)).toBe(true)
})
