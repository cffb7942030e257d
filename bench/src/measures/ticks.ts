// (11) Read ticks (issue 16): how long after a device marks a chat read its account's other
// device shows it (its chat list's read watermark and unread count), through a relay: real
// processes (a relay, a phone, a laptop) that reach each other only through the relay
// (`--no-direct`: its store protocol, and its circuit). A delivered tick
// travels the same way (a device's watermark in the chat doc, uploaded and fanned out), but is
// only written for other accounts' messages: measured between accounts in people.ts (14).
import { DeviceProcess } from '@tandem/device/device-process'
import { RelayProcess } from '@tandem/device/relay-process'
import { tempDir } from '../proc.js'
import { percentile } from '../stats.js'

export interface TicksResult {
  count: number
  /** ms from the phone's markRead call to the laptop's chat list showing it, both on this machine's clock. */
  p50: number
  p99: number
  max: number
  samples: number[]
}

export async function benchTicks(count: number): Promise<TicksResult> {
  const relay = await RelayProcess.start(await tempDir('ticks-relay'))
  const devices: DeviceProcess[] = []
  try {
    const device = async (label: string): Promise<DeviceProcess> => {
      const d = DeviceProcess.start(label, ['--data', await tempDir(`ticks-${label}`), '--name', label, '--relay', relay.address, '--no-direct'])
      devices.push(d)
      return d
    }
    const phone = await device('phone')
    await phone.request('create-account', { name: 'Ann', recovery: false })
    const { chatId } = await phone.request<{ chatId: string }>('create-chat', { title: 'ticks' })
    const laptop = await device('laptop')
    await laptop.joinVia(phone)
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push((await phone.request<{ id: string }>('send', { chatId, text: `tick ${i}` })).id)
    await laptop.request('wait-messages', { chatId, count }, 120_000)
    // one warm-up read, then one read at a time: each waits for the last to show on the laptop
    const samples: number[] = []
    for (let i = 0; i < count; i++) {
      const shown = laptop.request<{ at: number }>('wait-read', { chatId, messageId: ids[i] }, 30_000)
      const { at } = await phone.request<{ at: number }>('mark-read', { chatId, messageId: ids[i] })
      const seen = (await shown).at
      if (i > 0) samples.push(Math.round((seen - at) * 100) / 100)
    }
    return { count: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples), samples }
  } finally {
    await Promise.all(devices.map(d => d.stop()))
    await relay.stop()
  }
}
