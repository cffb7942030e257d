import type { KeyRange, KeyValueStore } from '@tandem/storage'
import * as Y from 'yjs'
import type { Rng } from './rng.js'
import type { Tracker } from './tracker.js'
import type { DeviceNode } from './world.js'

/** Metadata a device cannot rebuild: damaged, the engine must refuse to open (ERR_STORE_CORRUPT), never become a new device. */
export const IDENTITY_KEYS: readonly string[] = ['meta!peer-key', 'meta!account', 'meta!device-cert']
/** Bytes of the checksum in front of every value a device stores (`@tandem/storage`'s checked records). */
const CHECK_BYTES = 4
const MESSAGE_ID = /^[0-9a-f]{24}$/

/** A fault waiting for the device's next incarnation to read it, or one it read (and must report). */
interface Damage {
  device: DeviceNode
  key: string
  /** `flip`: a byte of the value on disk is changed for good. `torn`: the next read of it returns only its first bytes; the disk is intact. */
  kind: 'flip' | 'torn'
  /** A torn read's length. */
  tornAt: number
  what: string
  /** Where it was injected, and (once read) where the engine read it. */
  injected: string
  read?: { incarnation: number; where: string }
}

/**
 * Storage faults on the devices' disks: a flipped byte in a stored value, or a torn read (the
 * value comes back cut short once, the disk intact). A fault is injected into a crashed
 * device's disk and met by its next incarnation as it opens its store. The engine checks every
 * value it reads (checked records), so:
 *
 * - it never shows altered data (StepInvariants: every shown message is one the workload sent,
 *   as it sent it);
 * - a damaged record it read is in its `storeDamage()` report by the next step (checked here);
 * - a damaged identity is ERR_STORE_CORRUPT at open, never a new device (run-seed.ts sets such
 *   a device up again, as its user would);
 * - the damaged docs are fetched whole again from the relay: the run still converges, nothing
 *   left marked for repair, and every message the relay had acknowledged is back on every
 *   device. Only what the damaged record alone held may be lost (`mayBeLost`: messages in it
 *   that were not sent when it was damaged, exempt from the end's durability check).
 */
export class StorageFaults {
  private readonly damages: Damage[] = []
  /** Messages (ids) that a damaged record held and that no relay had acknowledged then. */
  readonly mayBeLost = new Set<string>()
  /** Devices whose identity a fault destroyed: their next start must fail with ERR_STORE_CORRUPT. */
  readonly identityLost = new Set<DeviceNode>()
  injectedCount = 0

  constructor(
    private readonly tracker: Tracker,
    private readonly where: () => string
  ) {}

  /** Damages one record on a crashed device's disk; returns what it did (for the trace), or null if there was nothing to damage. */
  async inject(d: DeviceNode, rng: Rng): Promise<string | null> {
    if (d.engine !== null || d.peerId === '' || this.identityLost.has(d)) return null
    const keys: string[] = []
    for await (const key of d.disk.db.keys({})) if (/^(log|snap|meta)!/.test(key)) keys.push(key)
    if (keys.length === 0) return null
    // an identity record now and then (most runs would lose the device otherwise)
    const identity = rng.chance(0.1)
    const pool = identity ? keys.filter(k => IDENTITY_KEYS.includes(k)) : keys.filter(k => !IDENTITY_KEYS.includes(k))
    if (pool.length === 0) return null
    const key = rng.pick(pool)
    const value = (await d.disk.db.get(key))!
    const kind = identity || rng.chance(0.5) ? 'flip' : 'torn'
    const at = rng.int(0, value.byteLength - 1)
    let what: string
    if (kind === 'flip') {
      const damaged = new Uint8Array(value)
      damaged[at]! ^= rng.int(1, 255)
      await d.disk.db.batch([{ type: 'put', key, value: damaged }])
      what = `byte ${at} of ${value.byteLength} flipped`
    } else what = `the next read returns ${at} of its ${value.byteLength} bytes`
    this.damages.push({ device: d, key, kind, tornAt: at, what, injected: this.where() })
    this.injectedCount++
    if (IDENTITY_KEYS.includes(key)) {
      this.identityLost.add(d)
      this.loseUnsent(d)
    } else this.lose(d, key, value)
    // the device's record of what the relay acknowledged of a chat: its messages may read stored again
    const acked = /^meta!relay\/[^/]+\/doc\/chat:(.+)$/.exec(key)
    if (acked !== null) this.tracker.forget(d.name, acked[1]!)
    return `damage ${d.name}'s store: ${key}, ${what}`
  }

  /**
   * The store a device's new incarnation opens: every read of a damaged record is noted (its
   * report is then due), and a torn read returns the value cut short, once.
   */
  wrap(d: DeviceNode, store: KeyValueStore): KeyValueStore {
    const pending = this.damages.filter(x => x.device === d && x.read === undefined)
    if (pending.length === 0) return store
    const byKey = new Map(pending.map(x => [x.key, x]))
    const incarnation = d.incarnation
    const seen = (key: string, value: Uint8Array): Uint8Array => {
      const x = byKey.get(key)
      if (x === undefined) return value
      byKey.delete(key)
      x.read = { incarnation, where: this.where() }
      return x.kind === 'torn' ? value.slice(0, x.tornAt) : value
    }
    return {
      open: () => store.open(),
      close: () => store.close(),
      batch: (ops, options) => store.batch(ops, options),
      keys: (range: KeyRange) => store.keys(range),
      get: async key => {
        const value = await store.get(key)
        return value === undefined ? undefined : seen(key, value)
      },
      iterator: (range: KeyRange) => mapValues(store.iterator(range), seen)
    }
  }

  /** Every damaged record a running engine read is in its report. */
  check(): void {
    for (let i = this.damages.length - 1; i >= 0; i--) {
      const x = this.damages[i]!
      if (x.read === undefined) continue
      const d = x.device
      if (d.incarnation !== x.read.incarnation) {
        x.read = undefined // that incarnation died before it was up: the next one reads it again (unless it was deleted)
        continue
      }
      if (d.engine === null) continue // still opening
      const found = d.engine.storeDamage().found
      if (!found.some(r => r.key === x.key))
        this.tracker.violations.push(
          `damage unreported ${this.where()}: ${d.name} read its damaged record ${x.key} (${x.kind}: ${x.what}; injected ${x.injected}) at ${x.read.where}, and storeDamage() does not list it (it lists ${found.length} records)`
        )
      this.damages.splice(i, 1)
    }
  }

  /** A record of a doc is gone: the messages in it that no relay held yet may go with it. */
  private lose(d: DeviceNode, key: string, value: Uint8Array): void {
    if (!/^(log|snap)!chat:/.test(key)) return
    const sent = this.tracker.sent.get(d.account) ?? new Set<string>()
    let ids: string[]
    try {
      ids = Y.decodeUpdate(value.subarray(CHECK_BYTES))
        .structs.filter((s): s is Y.Item => s instanceof Y.Item)
        .map(s => s.parentSub)
        .filter((k): k is string => k !== null && MESSAGE_ID.test(k))
    } catch {
      // not a readable update: anything of this account not yet sent may be in it
      ids = [...(this.tracker.stored.get(d.account)?.keys() ?? [])]
    }
    for (const id of ids) if (!sent.has(id)) this.mayBeLost.add(id)
  }

  /** A device set up again has lost everything of its own that no relay held yet. */
  private loseUnsent(d: DeviceNode): void {
    const sent = this.tracker.sent.get(d.account) ?? new Set<string>()
    for (const [id, text] of this.tracker.stored.get(d.account) ?? []) if (text.startsWith(`${d.name}#`) && !sent.has(id)) this.mayBeLost.add(id)
  }
}

async function* mapValues(entries: AsyncIterable<[string, Uint8Array]>, f: (key: string, value: Uint8Array) => Uint8Array): AsyncIterable<[string, Uint8Array]> {
  for await (const [key, value] of entries) yield [key, f(key, value)]
}
