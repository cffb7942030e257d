import { type BlobCodec, RelayState } from '@tandem/engine/internal'
import { HistoryStore } from '@tandem/relay'
import { readCheckedRecord, type KeyRange, type KeyValueStore } from '@tandem/storage'
import type { Disk } from '@tandem/storage/testing'
import * as Y from 'yjs'
import type { Rng } from './rng.js'
import type { SimKeys } from './sim-keys.js'
import { readOnly } from './step-invariants.js'
import type { Tracker } from './tracker.js'
import { RELAY_PEER_ID, type DeviceNode } from './world.js'

/** Metadata a device cannot rebuild: damaged, the engine must refuse to open (ERR_STORE_CORRUPT), never become a new device. */
export const IDENTITY_KEYS: readonly string[] = ['meta!peer-key', 'meta!agreement-key', 'meta!account', 'meta!chain']
/** Bytes of the checksum in front of every value a device stores (`@tandem/storage`'s checked records). */
const CHECK_BYTES = 4
const OUTBOX = `meta!relay/${RELAY_PEER_ID}/out/`

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
 * - what it loses it gets back: a fault only damages what can be had again — a doc's record
 *   whose every update the relay holds durably or the device's own outbox will upload (read
 *   from both disks with the engine's and the relay's own readers), metadata other than the
 *   outbox, an identity only when the relay holds everything of that device — so the run must
 *   converge with nothing left to repair and every message acknowledged as stored on every
 *   device, as without faults.
 */
export class StorageFaults {
  private readonly damages: Damage[] = []
  /** Devices whose identity a fault destroyed: their next start must fail with ERR_STORE_CORRUPT. */
  readonly identityLost = new Set<DeviceNode>()
  injectedCount = 0

  constructor(
    private readonly tracker: Tracker,
    private readonly relayDisk: Disk,
    private readonly keys: SimKeys,
    private readonly where: () => string
  ) {}

  /** Damages one record on a crashed device's disk; returns what it did (for the trace), or null if nothing could be damaged safely. */
  async inject(d: DeviceNode, rng: Rng): Promise<string | null> {
    if (d.engine !== null || d.peerId === '' || this.identityLost.has(d)) return null
    const records = new Map<string, Uint8Array>()
    for await (const [key, value] of d.disk.db.iterator({})) records.set(key, value)
    const docKeys = [...records.keys()].filter(k => /^(log|snap)!/.test(k))
    // what the relay and the outbox hold is sealed: opened with the account's keys (the engine's KeyRing and BlobCodec)
    const { codec, reads } = await this.keys.opener(d, docIdsOf(docKeys))
    const unopened = (what: string, err: unknown): null => {
      this.tracker.violations.push(
        `unopenable ${this.where()}: the keys of ${d.name}'s account (its relay's chain, every agreement key of its devices) do not open ${what}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`
      )
      return null
    }
    const relay = await relayDocs(this.relayDisk, new Set([...docIdsOf(docKeys)].filter(reads)), codec, unopened)
    // an identity now and then, when the relay holds all of the device's docs (it is set up again empty)
    const identity = rng.chance(0.1)
    let pool: string[]
    if (identity) pool = docKeys.every(k => covered(records.get(k)!, relay.get(docIdOf(k)))) ? IDENTITY_KEYS.filter(k => records.has(k)) : []
    else {
      const outbox = await outboxDocs(d.disk, relay, codec, unopened)
      pool = [...records.keys()].filter(
        k => (k.startsWith('meta!') && !IDENTITY_KEYS.includes(k) && !k.startsWith(OUTBOX)) || (docKeys.includes(k) && covered(records.get(k)!, outbox.get(docIdOf(k))))
      )
    }
    if (pool.length === 0) return null
    const key = rng.pick(pool)
    const value = records.get(key)!
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
    if (identity) this.identityLost.add(d)
    // the device's record of what the relay acknowledged of a chat: its messages may read stored again
    // (of a chat doc or of one of its segments, `chat:<id>:<n>`)
    const acked = new RegExp(`^meta!relay/${RELAY_PEER_ID}/doc/chat:([^:]+)(:[0-9]+)?$`).exec(key)
    if (acked !== null) this.tracker.forget(d.name, acked[1]!)
    // a log entry of a chat doc: the delivered and read marks in it are gone until the relay sends the doc whole
    // again (the engine opens the doc with what verifies, and says so), and the statuses they made may read lower
    const chatLog = /^log!chat:([^:!]+)!/.exec(key)
    if (chatLog !== null) this.tracker.forget(d.name, chatLog[1]!)
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
}

const docIdOf = (key: string): string => (key.startsWith('log!') ? key.slice(4, key.lastIndexOf('!')) : key.slice(5))
const docIdsOf = (keys: string[]): Set<string> => new Set(keys.map(docIdOf))
/** A blob the account's keys did not open: reported (a violation), and counted as not held. */
type Unopened = (what: string, err: unknown) => null

/**
 * What the relay holds durably of each doc: its snapshot and log on disk, opened and applied
 * (the relay's own reader, the engine's blob codec with the account's keys).
 */
async function relayDocs(disk: Disk, docIds: Set<string>, codec: BlobCodec, unopened: Unopened): Promise<Map<string, Y.Doc>> {
  const history = await HistoryStore.open(readOnly(disk.db), { maxBlobBytes: Number.MAX_SAFE_INTEGER, accountQuotaBytes: Number.MAX_SAFE_INTEGER })
  const blob = async (docId: string, what: string, upload: string, parts: number): Promise<Uint8Array | null> => {
    const chunks: Uint8Array[] = []
    for (let n = 0; n < parts; n++) {
      const part = await history.readPart(upload, n)
      if (part === undefined) return null
      chunks.push(part)
    }
    try {
      return (await codec.decode(docId, Buffer.concat(chunks))).update
    } catch (err) {
      return unopened(`${what} of ${docId} on the relay's disk`, err)
    }
  }
  const out = new Map<string, Y.Doc>()
  for (const docId of docIds) {
    const doc = new Y.Doc({ gc: false })
    out.set(docId, doc)
    const meta = await history.meta(docId)
    if (meta === null) continue
    const updates: Array<Uint8Array | null> = []
    if (meta.snapshot !== null) updates.push(await blob(docId, `the snapshot covering seq ${meta.snapshot.covers}`, meta.snapshot.upload, meta.snapshot.parts))
    for (const e of await history.entriesAfter(docId, meta.snapshot?.covers ?? 0, Number.MAX_SAFE_INTEGER)) updates.push(await blob(docId, `seq ${e.seq}`, e.upload, e.parts))
    for (const u of updates) if (u !== null) Y.applyUpdate(doc, u)
  }
  return out
}

/** The relay's docs plus what the device's outbox will upload to it (read by the engine's own RelayState, opened with the account's keys). */
async function outboxDocs(disk: Disk, relay: Map<string, Y.Doc>, codec: BlobCodec, unopened: Unopened): Promise<Map<string, Y.Doc>> {
  // the part of a DocStore RelayState reads: metadata entries that verify, and no damage found
  const store = {
    damage: { records: [] },
    async metaEntries(prefix: string): Promise<Array<[string, Uint8Array]>> {
      const out: Array<[string, Uint8Array]> = []
      for await (const [key, value] of disk.db.iterator({ gte: `meta!${prefix}`, lt: `meta!${prefix}\uffff` })) {
        const payload = readCheckedRecord(key, value)
        if (payload !== null) out.push([key.slice('meta!'.length), payload])
      }
      return out
    }
  }
  const entries = await new RelayState(store as never, RELAY_PEER_ID).load()
  const out = new Map(relay)
  for (const e of entries) {
    const doc = out.get(e.docId)
    if (doc === undefined) continue
    let update: Uint8Array | null
    try {
      update = (await codec.decode(e.docId, e.blob)).update
    } catch (err) {
      update = unopened(`upload ${e.uploadId} of ${e.docId} in the device's outbox`, err)
    }
    if (update !== null) Y.applyUpdate(doc, update)
  }
  return out
}

/** Whether every update in a stored record (a Yjs update after its checksum) is in `doc`. */
function covered(stored: Uint8Array, doc: Y.Doc | undefined): boolean {
  if (doc === undefined || stored.byteLength < CHECK_BYTES) return false
  try {
    return Y.decodeUpdate(stored.subarray(CHECK_BYTES)).structs.every(s => Y.getState(doc.store, s.id.client) >= s.id.clock + s.length)
  } catch {
    return false
  }
}

async function* mapValues(entries: AsyncIterable<[string, Uint8Array]>, f: (key: string, value: Uint8Array) => Uint8Array): AsyncIterable<[string, Uint8Array]> {
  for await (const [key, value] of entries) yield [key, f(key, value)]
}
