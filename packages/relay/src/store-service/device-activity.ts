import type { DeviceActivity, ListedDevice } from '@tandem/protocol'
import type { AccessRecords } from '../access/access-records.js'
import type { RelayTimers } from '../timers.js'

/** A device's time is refreshed from its frames at most this often: "seen a minute ago" is what people read. */
export const ACTIVITY_RESOLUTION_MS = 60_000
/** Changed times reach the records at most this long after they change: a crash loses at most this much of a hint. */
export const ACTIVITY_FLUSH_MS = 60_000

/**
 * When the relay last served each device (peer id → ms), per account: what a device shows
 * beside each of its account's devices ("last seen"). Kept in memory while the account
 * has sessions, read from the records at its first, written back lazily (a lost minute is
 * a stale hint, never a wrong decision: nothing is admitted or refused on it).
 */
export class DeviceActivityLog {
  private readonly accounts = new Map<string, Promise<Map<string, number>>>()
  private readonly dirty = new Set<string>()
  private timer: unknown = null
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly records: AccessRecords,
    private readonly timers: RelayTimers,
    private readonly now: () => number
  ) {}

  /** Notes that the relay serves `peerId` now. True when the time moved by a resolution step or more (worth telling). */
  async seen(accountId: string, peerId: string, force = false): Promise<boolean> {
    const times = await this.load(accountId)
    const at = this.now()
    const before = times.get(peerId) ?? 0
    if (!force && at - before < ACTIVITY_RESOLUTION_MS) return false
    times.set(peerId, at)
    this.markDirty(accountId)
    return true
  }

  /** The listed devices with their times (0: never served by this relay), in the chain's order. */
  async of(accountId: string, devices: readonly ListedDevice[]): Promise<DeviceActivity[]> {
    const times = await this.load(accountId)
    return devices.map(d => ({ peerId: d.peerId, lastSeenAt: times.get(d.peerId) ?? 0 }))
  }

  /** Forgets an account with no session left once its times are written. */
  release(accountId: string): void {
    if (!this.dirty.has(accountId)) this.accounts.delete(accountId)
  }

  /** Writes every changed time now. */
  async flush(): Promise<void> {
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
    const accounts = [...this.dirty]
    this.dirty.clear()
    const writes = accounts.map(async accountId => {
      const times = await this.accounts.get(accountId)
      if (times === undefined) return
      await this.records.putDeviceActivity(
        accountId,
        // the most recent first: the records keep at most MAX_ACTIVITY_ENTRIES, and the oldest matter least
        [...times].map(([peerId, lastSeenAt]) => ({ peerId, lastSeenAt })).sort((a, b) => b.lastSeenAt - a.lastSeenAt)
      )
    })
    this.flushing = this.flushing.then(() => Promise.allSettled(writes)).then(() => {})
    await this.flushing
  }

  private markDirty(accountId: string): void {
    this.dirty.add(accountId)
    this.timer ??= this.timers.setTimeout(() => {
      this.timer = null
      void this.flush()
    }, ACTIVITY_FLUSH_MS)
  }

  private load(accountId: string): Promise<Map<string, number>> {
    let times = this.accounts.get(accountId)
    if (times === undefined) {
      times = this.records.deviceActivity(accountId).then(
        list => new Map(list.map(d => [d.peerId, d.lastSeenAt])),
        () => new Map<string, number>()
      )
      this.accounts.set(accountId, times)
    }
    return times
  }
}
