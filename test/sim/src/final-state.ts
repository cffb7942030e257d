import type { ChatEntry, Engine } from '@tandem/engine'
import type { World } from './world.js'

/** The end state of a run, as one string: identical for two runs of one seed, or the replay is not exact. */
export function finalState(world: World): string {
  const devices = world.devices
    .filter(d => d.engine !== null)
    .map(d => {
      const e = d.engine!
      const svs = Object.entries(e.stateVectors())
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([doc, sv]) => `${doc}=${Buffer.from(sv).toString('base64')}`)
      const chats = safeChats(e).map(c => ({ chat: c.chatId, messages: e.listMessages(c.chatId).map(m => `${m.id}:${m.status}:${m.text}`) }))
      return { device: d.name, peerId: e.peerId, svs, chats }
    })
  return JSON.stringify({ devices, relay: world.relay.history?.stats() ?? null })
}

/** A device's chats, or none while it has no account yet. */
export function safeChats(e: Engine): ChatEntry[] {
  try {
    return e.listChats()
  } catch {
    return []
  }
}

export function dedupe(xs: string[]): string[] {
  const out = [...new Set(xs)]
  return out.length > 20 ? [...out.slice(0, 20), `… and ${out.length - 20} more`] : out
}
