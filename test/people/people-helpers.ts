import { join } from 'node:path'
import { createEngine, type Engine } from '@tandem/engine'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { untilEngine } from '../helpers/until.js'

/**
 * A device in this process: a real libp2p node on 127.0.0.1 with a memory-level store, reaching
 * `relay` (a RelayProcess's address). Stopped by `stops`.
 */
export async function netDevice(name: string, relay: string, stops: Array<() => Promise<unknown>>): Promise<Engine> {
  const e = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: name,
    network: { listen: ['/ip4/127.0.0.1/tcp/0'], relays: [relay], mdns: false }
  })
  stops.push(() => e.stop())
  await e.start()
  return e
}

/** A new account on `first`, with `others` linked to it (offer, grant, accept); every device ends connected to the relay. */
export async function account(name: string, first: Engine, ...others: Engine[]): Promise<void> {
  await first.createAccount({ name, recovery: false })
  for (const d of others) await d.acceptGrant(await first.addDevice(d.deviceOffer()))
  for (const d of [first, ...others]) await untilEngine(d, () => d.relayStatus().every(r => r.connected), `${name}'s device on the relay`, 20_000)
}

/** Resolves once the device lists the chat and shows every one of `texts` in it. */
export async function untilShows(device: Engine, chatId: string, texts: string[], what: string, timeoutMs = 20_000): Promise<void> {
  await untilEngine(
    device,
    () => {
      if (!device.listChats().some(c => c.chatId === chatId)) return false
      const shown = new Set(device.listMessages(chatId).map(m => m.text))
      return texts.every(t => shown.has(t))
    },
    what,
    timeoutMs
  )
}

/** Every key of a stopped relay's store (doc ids are visible to relays: that is how a test sees which docs it holds). */
export async function relayKeys(dataDir: string): Promise<string[]> {
  const db = new Level<string, Uint8Array>(join(dataDir, 'history'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  try {
    return await db.keys().all()
  } finally {
    await db.close()
  }
}
