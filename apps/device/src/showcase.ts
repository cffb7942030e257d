#!/usr/bin/env node
// `npm start`: three devices of one account on this machine (laptop, phone, tablet), each a real
// tandem-device process with its own store under .tandem-demo/, synced over libp2p on 127.0.0.1.
// Lines typed here are sent from the laptop and shown arriving on the other two.
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { DeviceProcess, type DeviceEvent } from './device-process.js'

interface Info { peerId: string; accountId: string | null; multiaddrs: string[] }
interface Chat { chatId: string; title: string }

const root = resolve(process.env.TANDEM_DEMO_DIR ?? '.tandem-demo')
const names = ['laptop', 'phone', 'tablet'] as const

await mkdir(root, { recursive: true })
const devices = names.map(name => DeviceProcess.start(name, ['--data', join(root, name), '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0']))
const stopAll = async (): Promise<void> => { await Promise.all(devices.map(d => d.stop())) }
process.on('SIGINT', () => { void stopAll().then(() => process.exit(0)) })

try {
  const [laptop, ...others] = devices as [DeviceProcess, DeviceProcess, DeviceProcess]
  const info = await laptop.request<Info>('info')
  if (info.accountId === null) await laptop.request('create-account', { name: 'Demo' })
  const credentials = await laptop.request<string>('credentials')
  for (const d of others) {
    const i = await d.request<Info>('info')
    if (i.accountId === null) await d.request('join', { credentials })
  }
  const chats = await laptop.request<Chat[]>('chats')
  const chat = chats[0] ?? await laptop.request<Chat>('create-chat', { title: 'Notes to self' })

  // phone and tablet dial the laptop, tablet also dials the phone: a full mesh on loopback
  const addr = async (d: DeviceProcess): Promise<string> => (await d.request<Info>('info')).multiaddrs[0]!
  await others[0]!.request('dial', { addr: await addr(laptop) })
  await others[1]!.request('dial', { addr: await addr(laptop) })
  await others[1]!.request('dial', { addr: await addr(others[0]!) })
  const history = await Promise.all(devices.map(d => d.request<number>('wait-messages', { chatId: chat.chatId, count: 0 })))
  for (const d of devices) await d.request('watch')

  console.log(`Tandem showcase: 3 devices of account ${(await laptop.request<Info>('info')).accountId}`)
  for (const [i, d] of devices.entries()) console.log(`  ${names[i]!.padEnd(6)} ${(await d.request<Info>('info')).peerId}  (${history[i]} messages in "${chat.title}")`)

  const sendAndTrace = async (text: string): Promise<void> => {
    const t0 = performance.now()
    const arrivals = others.map((d, i) => d.waitForEvent((e: DeviceEvent) =>
      e.event === 'message' && (e.message as { text: string }).text === text, 10_000)
      .then(() => `${names[i + 1]} ${(performance.now() - t0).toFixed(1)} ms`))
    await laptop.request('send', { chatId: chat.chatId, text })
    console.log(`laptop → "${text}"  arrived on: ${(await Promise.all(arrivals)).join(', ')}`)
  }

  if (process.stdin.isTTY) {
    console.log('Type a line and press Enter to send it from the laptop; Ctrl-D to quit.')
    const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' })
    rl.prompt()
    for await (const line of rl) {
      if (line.trim() !== '') await sendAndTrace(line.trim()).catch(err => { console.error((err as Error).message) })
      rl.prompt()
    }
  } else {
    for (const text of ['hello from the laptop', 'this line reaches the phone and the tablet', `sent at ${new Date().toISOString()}`]) {
      await sendAndTrace(text)
    }
  }
} finally {
  await stopAll()
}
