import { join } from 'node:path'
import { createEngine, createMemoryLinkPair, type Engine, type Link } from '@tandem/engine'
import type { StoreService } from '@tandem/relay'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { untilEngine } from '../helpers/until.js'
import { memoryDevice } from '../relay/relay-helpers.js'

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

/**
 * The in-process relay's id, as a multiaddr: an invite names its relay by address, and devices
 * in this process reach that relay over memory links by this id (see `relayDevice`).
 */
export const IN_PROCESS_RELAY_ADDRESS = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWPHuC5JDV6HemoiHouxJ2eKDoiemYCASwZ49MKNYXZLtU'

/**
 * A device in this process (memory-level unless `options.store` says otherwise) whose relay is
 * `relay`, by IN_PROCESS_RELAY_ADDRESS: its short sessions (another account's chain, for an
 * invite or a group) open memory links to it; its own session is `toRelay`'s. Stopped by `stops`.
 */
export async function relayDevice(
  relay: { service: StoreService },
  name: string,
  stops: Array<() => Promise<unknown>>,
  options: Partial<Parameters<typeof createEngine>[0]> = {}
): Promise<Engine> {
  const self: { engine: Engine | null } = { engine: null }
  const e = await memoryDevice(name, stops, {
    relayIds: [IN_PROCESS_RELAY_ADDRESS],
    openRelayStream: async () => {
      const [d, s] = createMemoryLinkPair(self.engine!.peerId, IN_PROCESS_RELAY_ADDRESS)
      relay.service.addLink(s)
      return d
    },
    ...options
  })
  self.engine = e
  return e
}

/** Connects a `relayDevice` to its relay; returns the device's end (close it to cut the device off). */
export function toInProcessRelay(relay: { service: StoreService }, e: Engine): Link {
  const [d, s] = createMemoryLinkPair(e.peerId, IN_PROCESS_RELAY_ADDRESS)
  e.addRelayLink(IN_PROCESS_RELAY_ADDRESS, d)
  relay.service.addLink(s)
  return d
}
