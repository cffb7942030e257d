import type { DeviceEvent, DeviceProcess } from '../device-process.js'

/** The three devices of the demo: Alice's laptop and phone (one account), Bob's laptop. */
export interface DemoDevices {
  aliceLaptop: DeviceProcess
  alicePhone: DeviceProcess
  bobLaptop: DeviceProcess
}

/** What the first run made, kept in demo.json: a later run finds the demo ready. */
export interface DemoState {
  alice: string
  bob: string
  chatId: string
  notesChatId: string
}

/** The 1:1 chat's history: who says it, from which device. */
const HISTORY: Array<[keyof DemoDevices, string]> = [
  ['aliceLaptop', 'Hi Bob! This chat is end-to-end encrypted: the relay only keeps sealed blobs.'],
  ['bobLaptop', 'Hi Alice. And it is on both of your devices?'],
  ['alicePhone', 'Yes, this one I sent from my phone. Watch the ticks: ✓ sent, ✓✓ delivered, then read.']
]

/**
 * The first run: Alice makes her account on the laptop and links the phone by code (the
 * laptop confirms the six digits for her), Bob makes his, Alice's invite opens their 1:1 chat,
 * a few messages go back and forth, and Alice has a "Notes to self". Every step waits for what
 * it needs on the other devices, so the demo starts converged.
 */
export async function setUpDemo(d: DemoDevices, say: (line: string) => void): Promise<DemoState> {
  say('First run: setting up Alice (laptop and phone) and Bob…')
  const alice = (await d.aliceLaptop.request<{ accountId: string }>('create-account', { name: 'Alice', recovery: false })).accountId
  const { text } = await d.alicePhone.request<{ text: string }>('show-link-code')
  await d.aliceLaptop.request('link-device', { code: text, confirm: 'auto' })
  await d.alicePhone.waitForEvent((e: DeviceEvent) => e.event === 'linked', 60_000)
  const bob = (await d.bobLaptop.request<{ accountId: string }>('create-account', { name: 'Bob', recovery: false })).accountId

  const invite = await d.aliceLaptop.request<{ text: string }>('create-invite')
  const { chatId } = await d.bobLaptop.request<{ chatId: string }>('accept-invite', { text: invite.text })
  for (const device of [d.aliceLaptop, d.alicePhone]) await device.request('wait-chat', { chatId })
  for (const [i, [who, text]] of HISTORY.entries()) {
    // who answers has read what came before: its ticks show read, the last one stays unread
    const [last] = i === 0 ? [] : await d[who].request<Array<{ id: string }>>('list-messages', { chatId, limit: 1 })
    if (last !== undefined) await d[who].request('mark-read', { chatId, messageId: last.id })
    await d[who].request('send', { chatId, text })
    // each waits for the one before on every device, so the history reads as a conversation
    for (const device of Object.values(d)) await device.request('wait-messages', { chatId, count: i + 1 })
  }
  const notes = await d.aliceLaptop.request<{ chatId: string }>('create-chat', { title: 'Notes to self' })
  await d.aliceLaptop.request('send', { chatId: notes.chatId, text: 'Show the demo: link a browser tab as a third device.' })
  await d.alicePhone.request('wait-messages', { chatId: notes.chatId, count: 1 })
  return { alice, bob, chatId, notesChatId: notes.chatId }
}
