import type { Rng } from './rng.js'
import { RELAY_ID, type DeviceNode, type World } from './world.js'

/** What the device-chain workload does at one of the workload's moments. */
export type ChainAction = 'link' | 'revoke' | 'mutualRevoke'

/** Chance that a workload moment also brings a device-chain action (drawn from the chain's own stream). */
export const CHAIN_ACTION_CHANCE = 0.035
const CHAIN_ACTIONS: Readonly<Record<ChainAction, number>> = { link: 3, revoke: 3, mutualRevoke: 4 }
/** A new device is linked only while its account has fewer devices than this that are not revoked… */
const MAX_CURRENT_DEVICES = 5
/** …and fewer than this in all (revoked and set up again included): every device costs a seed time. */
const MAX_DEVICES = 8
/** Devices of an account that no revocation under way may remove: it keeps a device to list new ones, whatever a fork decides. */
const MIN_KEPT = 2

/**
 * The device chain's workload (issue 13), beside the messaging one and drawn from a random
 * stream of its own (so the seeds' other choices stay where they were): linking a new device by
 * grant, at any time (partitions may hold), revoking a device from another, and two devices
 * revoking each other at the same step — either cut off from the relay and from each other first
 * (their links fork apart, and meet when the partition heals) or connected. Every choice comes
 * from the seed; every action is one bounded step (what it starts runs on the virtual clock).
 */
export class ChainWorkload {
  /** Devices a revocation targeted (both of a mutual one, since either may lose): never counted on to stay. */
  private readonly doomed = new Set<DeviceNode>()
  links = 0
  revocations = 0
  mutual = 0

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly note: (line: string) => void,
    private readonly pending: Array<Promise<unknown>>,
    /** Starts a new device of the account and has it join by grant (run-seed's linking). */
    private readonly link: (account: number) => Promise<boolean>
  ) {}

  /** One workload moment: usually nothing, sometimes one device-chain action. */
  async maybeAct(): Promise<void> {
    if (!this.rng.chance(CHAIN_ACTION_CHANCE)) return
    const action = this.rng.weighted(CHAIN_ACTIONS)
    if (action === 'link') await this.linkOne()
    else if (action === 'revoke') this.revokeOne()
    else this.revokeEachOther()
  }

  /** Whether the account may take one more device (the run's own linking action asks too). */
  roomFor(account: number): boolean {
    const all = this.world.devices.filter(d => d.account === account)
    return all.filter(d => !d.revoked).length < MAX_CURRENT_DEVICES && all.length < MAX_DEVICES
  }

  private async linkOne(): Promise<void> {
    const account = this.rng.int(0, this.world.accountIds.length - 1)
    if (this.roomFor(account) && (await this.link(account))) this.links++
  }

  /** A live device revokes another device it lists, up or down (never itself). */
  private revokeOne(): void {
    const revoker = this.pickMember()
    if (revoker === null) return
    const targets = this.world.devices.filter(t => t !== revoker && t.account === revoker.account && !t.revoked && !this.doomed.has(t) && lists(revoker, t))
    if (targets.length === 0) return
    const target = this.rng.pick(targets)
    // a device set up again under another identity (retired) still stands in the chain: revoking it takes no one the account keeps
    if (!target.retired && this.kept(revoker.account) - 1 < MIN_KEPT) return
    this.doomed.add(target)
    this.revocations++
    this.note(`${revoker.name} revokes ${target.name}`)
    this.pending.push(this.revoke(revoker, target))
  }

  /**
   * Two live devices that list each other revoke each other in the same step; half the time
   * each is first cut off from everything (the relay, each other, every device): forks made
   * apart, which meet when the partition heals.
   */
  private revokeEachOther(): void {
    const a = this.pickMember()
    if (a === null) return
    const others = this.world.live().filter(b => b !== a && b.account === a.account && !this.doomed.has(b) && b.engine!.accountId !== null && lists(a, b) && lists(b, a))
    if (others.length === 0 || this.kept(a.account) - 1 < MIN_KEPT) return
    const b = this.rng.pick(others)
    const apart = this.rng.chance(0.5)
    if (apart) {
      const nodes = [...this.world.devices.map(d => d.peerId).filter(p => p !== ''), RELAY_ID]
      for (const x of [a.peerId, b.peerId])
        for (const n of nodes)
          if (n !== x) {
            this.world.net.block(x, n)
            this.world.net.block(n, x)
          }
    }
    this.doomed.add(a)
    this.doomed.add(b)
    this.mutual++
    this.note(`${a.name} and ${b.name} revoke each other${apart ? ', both cut off from the relay and from each other' : ', connected'}`)
    this.pending.push(this.revoke(a, b), this.revoke(b, a))
  }

  private revoke(by: DeviceNode, target: DeviceNode): Promise<void> {
    return by.engine!.revokeDevice(target.peerId).then(
      () => {
        this.note(`${by.name} revoked ${target.name}: its link is signed (and held by the relay, if it was reached within 10 s)`)
      },
      (err: unknown) => {
        this.note(`${by.name} could not revoke ${target.name}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`)
      }
    )
  }

  /** A live device in its account, not the target of a revocation under way. */
  private pickMember(): DeviceNode | null {
    const live = this.world.live().filter(d => d.engine!.accountId !== null && !this.doomed.has(d))
    return live.length === 0 ? null : this.rng.pick(live)
  }

  /** Devices of the account no revocation under way may remove (set up again ones not counted: their replacement is). */
  private kept(account: number): number {
    return this.world.devices.filter(d => d.account === account && !d.retired && !this.doomed.has(d)).length
  }
}

/** Whether device `by` lists device `d` now (a device it cannot list it cannot revoke). */
function lists(by: DeviceNode, d: DeviceNode): boolean {
  if (d.peerId === '') return false
  try {
    return by.engine!.listDevices().some(x => x.peerId === d.peerId)
  } catch {
    return false // still joining: no account doc yet
  }
}
