import type { Rng } from './rng.js'
import { RELAY_ID, type World, type DeviceNode } from './world.js'
import type { NetFaults } from './network.js'

/**
 * The workload: a table of weighted actions that grows with the engine
 * (replies, edits, reactions, reads, typing, linking, revocation, membership
 * join it as the engine learns them). Fault weights scale with the seed's
 * fault rate, so each seed explores a different world.
 */
export type Action =
  | 'send'
  | 'burst'
  | 'createChat'
  | 'updateChat'
  | 'rename'
  | 'linkDevice'
  | 'partition'
  | 'heal'
  | 'crashDevice'
  | 'damageStore'
  | 'restartDevice'
  | 'crashRelay'
  | 'restartRelay'
  | 'netWeather'

export function actionTable(faultRate: number): Record<Action, number> {
  return {
    send: 50,
    burst: 6,
    createChat: 2,
    updateChat: 3,
    rename: 1,
    linkDevice: 0.7,
    partition: 4 * faultRate,
    heal: 3,
    crashDevice: 1.5 * faultRate,
    // a crash that leaves the device's store damaged: a flipped byte or a torn read (storage-faults.ts)
    damageStore: 1 * faultRate,
    restartDevice: 4,
    crashRelay: 0.6 * faultRate,
    restartRelay: 3,
    netWeather: 1 * faultRate
  }
}

/** Per-seed network weather: from a calm LAN to a lossy, jittery mess. */
export function weather(rng: Rng, faultRate: number): NetFaults {
  const rough = Math.min(1, faultRate)
  return {
    latencyMs: rng.float() * 10,
    jitterMs: rng.float() * 10,
    spikeChance: rng.float() * 0.05 * rough,
    spikeMs: 200,
    resetChance: rng.float() * 0.004 * rough
  }
}

/** A partition: symmetric groups, one direction only, one device cut off, or a whole link class. */
export function partition(rng: Rng, world: World): string {
  const nodes = [...world.devices.map(d => d.peerId).filter(p => p !== ''), RELAY_ID]
  const kind = rng.pick(['groups', 'one-way', 'isolate', 'lan', 'relay'] as const)
  const net = world.net
  switch (kind) {
    case 'groups': {
      const side = new Set(nodes.filter(() => rng.chance(0.5)))
      for (const a of nodes) for (const b of nodes) if (side.has(a) !== side.has(b)) net.block(a, b)
      return `partition groups {${[...side].map(short).join(',')}} | rest`
    }
    case 'one-way': {
      const a = rng.pick(nodes)
      const b = rng.pick(nodes.filter(n => n !== a))
      net.block(a, b)
      return `partition one-way ${short(a)} → ${short(b)}`
    }
    case 'isolate': {
      const a = rng.pick(nodes)
      for (const b of nodes)
        if (b !== a) {
          net.block(a, b)
          net.block(b, a)
        }
      return `partition isolate ${short(a)}`
    }
    case 'lan':
      for (const a of nodes) for (const b of nodes) if (a !== b) net.block(a, b, 'lan')
      return 'partition: every LAN path cut'
    case 'relay':
      for (const a of nodes) {
        net.block(a, RELAY_ID, 'relay')
        net.block(RELAY_ID, a, 'relay')
      }
      return 'partition: every relay path cut'
  }
}

export const short = (peerId: string): string => (peerId === RELAY_ID ? 'relay' : peerId.slice(-6))

export function pickLive(rng: Rng, world: World): DeviceNode | null {
  const live = world.live()
  return live.length === 0 ? null : rng.pick(live)
}
