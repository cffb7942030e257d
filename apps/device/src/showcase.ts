#!/usr/bin/env node
// `npm start`: a relay and two devices of one account on this machine (a laptop and a phone),
// each a real process with its own store under .tandem-demo/. Lines typed here are sent from the
// laptop and shown arriving on the phone, and as "sent" once the relay has them on disk.
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { DeviceProcess, type DeviceEvent } from './device-process.js'
import { RelayProcess } from './relay-process.js'

interface Info {
  peerId: string
  accountId: string | null
  multiaddrs: string[]
}
interface Chat {
  chatId: string
  title: string
}

const root = resolve(process.env.TANDEM_DEMO_DIR ?? '.tandem-demo')
await mkdir(root, { recursive: true })

const relay = await RelayProcess.start(join(root, 'relay'))
const names = ['laptop', 'phone'] as const
const devices = names.map(name => DeviceProcess.start(name, ['--data', join(root, name), '--name', name, '--relay', relay.address]))
const stopAll = async (): Promise<void> => {
  await Promise.all(devices.map(d => d.stop()))
  await relay.stop()
}
process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(0))
})

try {
  const [laptop, phone] = devices as [DeviceProcess, DeviceProcess]
  if ((await laptop.request<Info>('info')).accountId === null) await laptop.request('create-account', { name: 'Demo' })
  if ((await phone.request<Info>('info')).accountId === null) {
    // the phone shows a link code, the laptop reads it (a person would compare the six digits on both)
    const { text } = await phone.request<{ text: string }>('show-link-code')
    await laptop.request('link-device', { code: text, confirm: 'auto' })
    await phone.waitForEvent((e: DeviceEvent) => e.event === 'linked', 30_000)
  }
  const chat = (await laptop.request<Chat[]>('chats'))[0] ?? (await laptop.request<Chat>('create-chat', { title: 'Notes to self' }))
  const history = await Promise.all(devices.map(d => d.request<number>('wait-messages', { chatId: chat.chatId, count: 0 })))
  for (const d of devices) await d.request('watch')

  console.log(`Tandem showcase: relay ${relay.peerId} (${relay.address.split('/p2p/')[0]}, metrics at ${relay.httpUrl}/metrics)`)
  for (const [i, d] of devices.entries()) {
    console.log(`  ${names[i]!.padEnd(6)} ${(await d.request<Info>('info')).peerId}  (${history[i]} messages in "${chat.title}")`)
  }

  const sendAndTrace = async (text: string): Promise<void> => {
    const t0 = performance.now()
    const arrived = phone.waitForEvent((e: DeviceEvent) => e.event === 'message' && (e.message as { text: string }).text === text, 10_000).then(() => performance.now() - t0)
    const sent = await laptop.request<{ id: string; status: string }>('send', { chatId: chat.chatId, text })
    const acked =
      sent.status === 'sent'
        ? Promise.resolve(performance.now() - t0)
        : laptop.waitForEvent(e => e.event === 'status' && (e.messageIds as string[]).includes(sent.id), 10_000).then(() => performance.now() - t0)
    const [onPhone, onRelay] = await Promise.all([arrived, acked])
    console.log(`laptop → "${text}"  on the phone in ${onPhone.toFixed(1)} ms, sent (on the relay's disk) in ${onRelay.toFixed(1)} ms`)
  }

  if (process.stdin.isTTY) {
    console.log('Type a line and press Enter to send it from the laptop; Ctrl-D to quit.')
    const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' })
    rl.prompt()
    for await (const line of rl) {
      if (line.trim() !== '')
        await sendAndTrace(line.trim()).catch(err => {
          console.error((err as Error).message)
        })
      rl.prompt()
    }
  } else {
    for (const text of ['hello from the laptop', 'this line reaches the phone and the relay', `sent at ${new Date().toISOString()}`]) {
      await sendAndTrace(text)
    }
  }
} finally {
  await stopAll()
}
