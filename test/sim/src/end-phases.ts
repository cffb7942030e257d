import { converged, removedChats, whyNotConverged } from './invariants.js'
import { CALM } from './network.js'
import type { ChainWatch } from './chain-invariants.js'
import { whyChatsNotConverged } from './people-invariants.js'
import type { Scheduler } from './scheduler.js'
import type { Tracker } from './tracker.js'
import type { DeviceNode, World } from './world.js'

/** How long, in virtual time, the world has to converge once everything is healed (and again for the new devices). */
export const LIVENESS_BUDGET_MS = 120_000

/** The devices that should be running: all but those set up again as another node. */
export const serving = (world: World): DeviceNode[] => world.devices.filter(d => !d.retired)

export interface EndContext {
  world: World
  sched: Scheduler
  people: boolean
  tracker: Tracker
  chainWatch: ChainWatch
  accounts: number
  restart(d: DeviceNode): Promise<void>
  joined(d: DeviceNode): Promise<void>
  note(line: string): void
}

/**
 * A run's two end phases. Liveness: every fault healed, every device running, the world must
 * converge within the budget. Relay completeness: a new device per account, cut off from every
 * peer, must get everything from the relay alone. Returns what they found, and the chats each
 * account was removed from (left out of the final checks once a device joined from the relay
 * alone: see removedChats).
 */
export async function endPhases(c: EndContext): Promise<{ ended: string[]; skip: Map<number, Set<string>> | undefined }> {
  const { world, sched } = c
  // ── liveness: heal everything, the system must converge ─────────────────
  c.note('liveness: heal, restart, calm network')
  world.net.heal()
  world.net.faults = CALM
  if (world.relay.service === null) await world.startRelay()
  for (const d of [...world.devices]) if (d.engine === null && !d.retired) await c.restart(d)
  // converged: every device of each account alike (invariants.ts), and every device of every member of each chat between accounts (people-invariants.ts)
  // once a device joined from the relay alone, chats its account was removed from are left out (see removedChats)
  let skip: Map<number, Set<string>> | undefined
  const whyNot = async (): Promise<string | null> => whyNotConverged(serving(world), skip) ?? (c.people ? await whyChatsNotConverged(world, c.tracker.people) : null)
  const deadline = sched.now + LIVENESS_BUDGET_MS
  let done = false
  while (!done && sched.now < deadline) {
    await sched.runUntil(sched.now + 500)
    done = converged(serving(world)) && (await whyNot()) === null
  }
  await sched.settle()
  // the device lists after healing come before liveness: a device list that never settles is its own finding
  const ended: string[] = await c.chainWatch.deviceLists()
  if (!done) ended.push(`liveness: not converged within ${LIVENESS_BUDGET_MS / 1000} s of virtual time after healing: ${await whyNot()}`)

  // ── a new device per account gets everything from the relay alone ───────
  if (done) {
    for (let a = 0; a < c.accounts; a++) {
      const fresh = world.addDevice(a, 0)
      await world.startDevice(fresh)
      // no LAN links or circuits for it: only the relay's store
      for (const d of world.devices)
        if (d !== fresh) {
          world.net.block(fresh.peerId, d.peerId)
          world.net.block(d.peerId, fresh.peerId)
        }
      await sched.await(c.joined(fresh))
    }
    const freshDeadline = sched.now + LIVENESS_BUDGET_MS
    let ok = false
    while (!ok && sched.now < freshDeadline) {
      await sched.runUntil(sched.now + 500)
      skip = removedChats(serving(world))
      ok = converged(serving(world), skip) && (await whyNot()) === null
    }
    if (!ok) ended.push(`relay completeness: a new device did not get the full history from the relay alone: ${await whyNot()}`)
  }
  return { ended, skip }
}
