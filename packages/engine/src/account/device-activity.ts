import type { EventHub } from '../core/event-hub.js'
import type { Runtime } from '../runtime.js'

/**
 * When each device of the account was last active: what relays report (when they last
 * served it, by their clock) and what this device sees itself (a session with it, by its
 * own clock). The device list shows it; inactive devices are judged on it, against both
 * clocks, because a revocation is for good and one wrong clock must not cause it.
 */
export class DeviceActivity {
  /** Last active, by whichever clock said so last (what `listDevices` shows). */
  private readonly lastActive = new Map<string, number>()
  /** When a relay last served each device, by the relay's clock. */
  private readonly relaySeen = new Map<string, number>()

  constructor(
    events: EventHub,
    private readonly runtime: Runtime,
    private readonly self: string
  ) {
    // a device this one has a session with is active now, whatever a relay last said
    events.subscribe(e => {
      if (e.type === 'peer') this.lastActive.set(e.peerId, runtime.now())
    })
  }

  /** A relay's report; true when what the device list shows changed. */
  report(devices: ReadonlyArray<{ peerId: string; lastSeenAt: number }>): boolean {
    let changed = false
    for (const d of devices) {
      this.relaySeen.set(d.peerId, Math.max(d.lastSeenAt, this.relaySeen.get(d.peerId) ?? 0))
      if (d.lastSeenAt > (this.lastActive.get(d.peerId) ?? 0)) {
        this.lastActive.set(d.peerId, d.lastSeenAt)
        changed = true
      }
    }
    return changed
  }

  /** Now for this device; null when nobody has said. */
  lastActiveAt(peerId: string): number | null {
    return peerId === this.self ? this.runtime.now() : (this.lastActive.get(peerId) ?? null)
  }

  /**
   * The devices silent for longer than `limitMs` by both clocks: the relay's report read
   * against the relay's own time for this device (it serves it right now), and no session
   * here for as long (never seen counts from when it was linked). None before a relay reported.
   */
  silent<D extends { peerId: string; linkedAt: number }>(devices: readonly D[], limitMs: number): D[] {
    const relayNow = this.relaySeen.get(this.self)
    if (relayNow === undefined) return []
    const now = this.runtime.now()
    return devices.filter(
      d =>
        d.peerId !== this.self &&
        relayNow - Math.max(d.linkedAt, this.relaySeen.get(d.peerId) ?? 0) > limitMs &&
        now - Math.max(d.linkedAt, this.lastActive.get(d.peerId) ?? 0) > limitMs
    )
  }
}
