// The engine and the relay's store service in one process (in-memory links, memory-level
// stores), for the end-to-end sealing tests in packages/engine/test/e2e-*.test.ts: what the
// relay holds can be read back exactly (its HistoryStore and access records), written into
// directly (a relay that lies), and a device's key material read from a copy of its store.
import { createLogger, HistoryStore, LevelAccessRecords, RelayMetrics, StoreService } from '@tandem/relay'
import { type ChainLink, nobleSignatures } from '@tandem/protocol'
import { createMemoryLinkPair, type Link } from '@tandem/transport'
import { MemoryLevel } from 'memory-level'
import * as Y from 'yjs'
import { openDevice } from '../../../packages/engine/src/core/open-device.js'
import type { EngineEvent } from '../../../packages/engine/src/events.js'
import { KeyRing } from '../../../packages/engine/src/keys/key-ring.js'
import { AccountDoc } from '../../../packages/engine/src/model/account-doc.js'
import { MessageLog } from '../../../packages/engine/src/model/message-log.js'
import { createEngine, type Engine, nodePlatform, systemRuntime } from '../../../packages/engine/src/node/index.js'
import { nodeCompression } from '../../../packages/engine/src/node/compression.js'
import { BlobCodec } from '../../../packages/engine/src/relay/blob-codec.js'

export type Store = MemoryLevel<string, Uint8Array>
export const RELAY_ID = 'relay'

export const newStore = (): Store => new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
export const randomBytes = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n))

export interface Device {
  engine: Engine
  store: Store
  /** Every event since the device was made. */
  events: EngineEvent[]
  /** Frames on its relay links: what the device sent the relay, and what the relay sent it. */
  toRelay: Uint8Array[]
  fromRelay: Uint8Array[]
}

/** A blob as the relay holds it. */
export interface HeldBlob {
  seq: number
  bytes: Uint8Array
  uploader: string
  snapshot: boolean
}

/** A device's own keys and its copy of the device chain, read from (a copy of) its store. */
export interface DeviceKeys {
  peerId: string
  signing: { publicKey: Uint8Array; secretKey: Uint8Array }
  agreement: { publicKey: Uint8Array; secretKey: Uint8Array }
  /** The chain as the device held it, and the ring it opened from it. */
  links: ChainLink[]
  ring: KeyRing
}

/** A relay (store service, history, access records on one memory-level) and the devices linked to it. */
export class SealingRig {
  readonly db = newStore()
  history!: HistoryStore
  records!: LevelAccessRecords
  service!: StoreService
  private readonly devices: Device[] = []

  static async start(): Promise<SealingRig> {
    const rig = new SealingRig()
    rig.history = await HistoryStore.open(rig.db, { maxBlobBytes: 1 << 24, accountQuotaBytes: 1 << 28, sync: false })
    rig.records = await LevelAccessRecords.open(rig.db, { sync: false })
    rig.service = new StoreService(rig.history, rig.records, new RelayMetrics({ processMetrics: false }), createLogger({ level: 'silent' }))
    return rig
  }

  /** A started device on a memory-level store that reaches the relay only through `connect`. */
  async device(name: string): Promise<Device> {
    const store = newStore()
    const engine = await createEngine({ store, deviceName: name, network: false, relayIds: [RELAY_ID] })
    const d: Device = { engine, store, events: [], toRelay: [], fromRelay: [] }
    engine.subscribe(e => d.events.push(e))
    await engine.start()
    this.devices.push(d)
    return d
  }

  /**
   * A new link between a device (with an account) and the relay; every frame either way is kept
   * on the device. `alter` may change what the relay sends the device (a relay that lies).
   */
  connect(d: Device, alter?: (frame: Uint8Array) => Uint8Array): Link {
    const [toRelay, atRelay] = createMemoryLinkPair(d.engine.peerId, RELAY_ID)
    const send = toRelay.send.bind(toRelay)
    toRelay.send = async frame => {
      d.toRelay.push(frame.slice())
      await send(frame)
    }
    const answer = atRelay.send.bind(atRelay)
    atRelay.send = async frame => {
      d.fromRelay.push(frame.slice())
      await answer(alter === undefined ? frame : alter(frame))
    }
    d.engine.addRelayLink(RELAY_ID, toRelay)
    this.service.addLink(atRelay)
    return toRelay
  }

  /** Every doc the relay holds a log of. */
  async docIds(): Promise<string[]> {
    const ids: string[] = []
    for await (const key of this.db.keys({ gt: 'doc!', lt: 'doc!\uffff' })) ids.push(key.slice(4))
    return ids
  }

  /** Every blob the relay holds for `docId`, in the order it serves them: the snapshot, then the log. */
  async blobs(docId: string): Promise<HeldBlob[]> {
    const meta = await this.history.meta(docId)
    if (meta === null) return []
    const read = async (upload: string, parts: number): Promise<Uint8Array> => {
      const chunks: Uint8Array[] = []
      for (let n = 0; n < parts; n++) chunks.push((await this.history.readPart(upload, n))!)
      return Buffer.concat(chunks)
    }
    const out: HeldBlob[] = []
    if (meta.snapshot !== null) out.push({ seq: meta.snapshot.covers, bytes: await read(meta.snapshot.upload, meta.snapshot.parts), uploader: '', snapshot: true })
    let after = meta.snapshot?.covers ?? 0
    for (;;) {
      const entries = await this.history.entriesAfter(docId, after, 256)
      if (entries.length === 0) return out
      for (const e of entries) out.push({ seq: e.seq, bytes: await read(e.upload, e.parts), uploader: e.uploader, snapshot: false })
      after = entries.at(-1)!.seq
    }
  }

  /** Writes a blob into the relay's log of `docId` as the relay itself could (no device sent it): subscribers get it as they get any entry. */
  async inject(docId: string, bytes: Uint8Array, account: string, uploader = 'a-relay-that-lies'): Promise<number> {
    const upload = this.history.beginUpload(docId, { account, uploader })
    await upload.addPart(bytes)
    return (await upload.commit()).seq
  }

  /** Resolves once the relay has committed an entry of `docId` whose blob satisfies `match` (entries already held count); rejects after `timeoutMs`. */
  async committed(docId: string, match: (blob: HeldBlob) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    let off = (): void => {}
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off()
        reject(new Error(`${what}: not committed at the relay within ${timeoutMs} ms`))
      }, timeoutMs)
      let checking = Promise.resolve()
      const check = (): void => {
        checking = checking.then(async () => {
          if ((await this.blobs(docId)).some(match)) {
            clearTimeout(timer)
            off()
            resolve()
          }
        })
      }
      off = this.history.onCommit(id => {
        if (id === docId) check()
      })
      check()
    })
    await seen
  }

  /** The device chain the relay holds for an account. */
  async chain(accountId: string): Promise<ChainLink[]> {
    return (await this.records.chain(accountId)) ?? []
  }

  /** Stops every device, then the relay. */
  async stop(): Promise<void> {
    for (const d of this.devices.splice(0)) await d.engine.stop()
    this.service.stop()
    await this.records.close()
    await this.history.close()
  }
}

/** A copy of a device's store as it is now (what copying its data directory would give). */
export async function copyStore(store: Store): Promise<Store> {
  const copy = newStore()
  await copy.open()
  const ops: Array<{ type: 'put'; key: string; value: Uint8Array }> = []
  for await (const [key, value] of store.iterator()) ops.push({ type: 'put', key, value: value.slice() })
  await copy.batch(ops)
  return copy
}

/** The keys and chain a device store holds (opened as the engine opens it, then closed). */
export async function keysOf(store: Store): Promise<DeviceKeys> {
  if (store.status !== 'open') await store.open()
  const opened = await openDevice(store, nodePlatform, {}, systemRuntime)
  try {
    if (opened.keeper === null) throw new Error('this store belongs to no account')
    return { peerId: opened.device.peerId, signing: opened.device.signing, agreement: opened.device.agreement, links: opened.keeper.links(), ring: opened.keeper.keys }
  } finally {
    await opened.store.close()
  }
}

/** A key ring for these agreement keys, opened from `links` as if every link were settled. */
export function ringFrom(agreement: DeviceKeys['agreement'], links: readonly ChainLink[]): KeyRing {
  const ring = new KeyRing([{ publicKey: agreement.publicKey, secretKey: agreement.secretKey }], randomBytes)
  ring.update(links, () => true)
  return ring
}

/** The engine's own codec, with the given device's signing key and the given ring: seals and opens blobs exactly as that device would. */
export function codecFor(keys: Pick<DeviceKeys, 'signing'>, ring: KeyRing): BlobCodec {
  return new BlobCodec(nodeCompression, {
    signing: keys.signing,
    ring: () => ring,
    signatures: async () => nobleSignatures,
    randomBytes
  })
}

/** What the plaintext of a set of relay blobs shows once applied to fresh docs: messages per chat doc, and the account doc's profile and chats. */
export class Readout {
  private readonly docs = new Map<string, Y.Doc>()

  apply(docId: string, update: Uint8Array): void {
    let doc = this.docs.get(docId)
    if (doc === undefined) {
      doc = new Y.Doc()
      this.docs.set(docId, doc)
    }
    Y.applyUpdate(doc, update)
  }

  texts(docId: string): string[] {
    const doc = this.docs.get(docId)
    return doc === undefined ? [] : new MessageLog(doc, null).records().map(r => r.text)
  }

  profileName(accountId: string): string | null {
    const doc = this.docs.get(`account:${accountId}`)
    return doc === undefined ? null : new AccountDoc(doc).name
  }

  titles(accountId: string): string[] {
    const doc = this.docs.get(`account:${accountId}`)
    return doc === undefined ? [] : new AccountDoc(doc).listChats().map(c => c.title)
  }
}

// (one copy of each waiter: the engine's own tests import these too)
export { untilEngine } from '../../helpers/until.js'
export { linkDevices } from '../../helpers/link-devices.js'
