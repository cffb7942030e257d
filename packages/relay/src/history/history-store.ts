import { randomBytes } from 'node:crypto'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { TandemError } from '@tandem/protocol'
import { WriteQueue, type BatchOp, type KeyValueStore } from '@tandem/storage'
import type { Backlog, CommitListener, CommitResult, HistoryBackend, HistoryLimits } from './backend.js'
import { accountKey, docKey, hashKey, isLogKeyOf, logKey, logPrefix, partKey, pendingKey } from './keys.js'
import { decodeDocMeta, decodeLogEntry, encodeDocMeta, encodeLogEntry, type DocMeta, type LogEntry } from './records.js'
import { ByteBudget } from './budget.js'
import { RecentTail, type CachedEntry } from './tail.js'
import { Upload } from './upload.js'

export type { Upload } from './upload.js'
export type { CachedEntry } from './tail.js'
export type { Backlog, CommitListener, CommitResult } from './backend.js'

export interface HistoryOptions extends HistoryLimits {
  /** fsync each commit batch (default true): an ack means the blob survives power loss. */
  sync?: boolean
  /** An upload up to this size stays in memory and is written with its commit (default 256 KiB). */
  bufferUploadBytes?: number
  /** Bytes all uploads in progress may hold in memory together (default 32 MiB); beyond, parts go to disk. */
  bufferBytes?: number
  /** Where upload keys come from (default the system's randomness; the simulator injects its own: one seed, one run). */
  randomBytes?: (length: number) => Uint8Array
  /** Newest entries per doc kept in memory with their bytes for live subscribers (default 64). */
  tailEntries?: number
  /** Bytes those cached entries may hold relay-wide (default 16 MiB). */
  tailBytes?: number
}

/** What an ack tells a device about the doc's log beyond the newest snapshot. */
function snapshotHint(meta: DocMeta | null): Pick<CommitResult, 'sinceSnapshot' | 'tailBytes' | 'snapshotBytes'> {
  if (meta === null) return { sinceSnapshot: 0, tailBytes: 0, snapshotBytes: 0 }
  return { sinceSnapshot: meta.entries, tailBytes: meta.cum - (meta.snapshot?.cumAtCovers ?? 0), snapshotBytes: meta.snapshot?.size ?? 0 }
}

const varuint = (n: number): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, n)
  return encoding.toUint8Array(e)
}
const readVaruint = (b: Uint8Array): number => decoding.readVarUint(decoding.createDecoder(b))

/**
 * The relay's blind history on a level store: per doc an ordered log of opaque
 * blobs with sequence numbers, plus at most one snapshot covering a prefix of it.
 * Blobs arrive and leave as parts (one frame chunk each) so the relay never holds
 * a doc, or even a whole large blob, in memory. It never looks inside a blob. The
 * store holds the log only: device lists and memberships are `LevelAccessRecords`'.
 */
export class HistoryStore implements HistoryBackend {
  private readonly queue: WriteQueue
  private readonly metas = new Map<string, DocMeta>()
  private readonly usages = new Map<string, number>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly inflight = new Map<string, Promise<number>>()
  /** Per doc, the commit batch of its newest append while it is not yet written. */
  private readonly unwritten = new Map<string, Promise<void>>()
  private readonly listeners = new Set<CommitListener>()
  /**
   * The parts of a snapshot whose batch is not written yet, by upload key. Its meta names it
   * as soon as the batch is queued (a subscriber re-planning after an entry was dropped must
   * find the snapshot), so its parts are served from here until they are on disk: otherwise a
   * pump read a part that was not there yet and re-planned in a loop until the write landed,
   * for ever on a store whose writes wait on a timer (the simulator's seed 20261122).
   */
  private readonly landingParts = new Map<string, readonly Uint8Array[]>()
  private readonly tail: RecentTail
  /** @internal */
  readonly uploadBudget: ByteBudget
  /** @internal */
  readonly bufferLimit: number
  private docCount = 0
  private bytesStored = 0

  private constructor(
    private readonly db: KeyValueStore,
    readonly options: HistoryOptions
  ) {
    this.queue = new WriteQueue(db, options.sync ?? true)
    this.bufferLimit = options.bufferUploadBytes ?? 256 * 1024
    this.uploadBudget = new ByteBudget(options.bufferBytes ?? 32 * 1024 * 1024)
    this.tail = new RecentTail(options.tailEntries ?? 64, options.tailBytes ?? 16 * 1024 * 1024)
  }

  /** Opens the store, dropping the parts of uploads a crash left uncommitted. */
  static async open(db: KeyValueStore, options: HistoryOptions): Promise<HistoryStore> {
    await db.open()
    const store = new HistoryStore(db, options)
    const ops: BatchOp[] = []
    for await (const key of db.keys({ gt: 'pending!', lt: 'pending"' })) {
      const upload = key.slice('pending!'.length)
      ops.push({ type: 'del', key })
      for await (const part of db.keys({ gte: partKey(upload, 0), lt: `part!${upload}"` })) ops.push({ type: 'del', key: part })
    }
    if (ops.length > 0) await db.batch(ops, { sync: true })
    for await (const [, value] of db.iterator({ gt: 'doc!', lt: 'doc"' })) {
      store.docCount++
      store.bytesStored += decodeDocMeta(value).stored
    }
    return store
  }

  stats(): { docs: number; bytesStored: number } {
    return { docs: this.docCount, bytesStored: this.bytesStored }
  }

  /** Bytes held in memory: parts of uploads in progress, and the cached tails. */
  memoryUse(): { uploadBytes: number; tailBytes: number; tailEntries: number } {
    return { uploadBytes: this.uploadBudget.used, tailBytes: this.tail.bytes, tailEntries: this.tail.entries }
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  async meta(docId: string): Promise<DocMeta | null> {
    const cached = this.metas.get(docId)
    if (cached !== undefined) return cached
    const bytes = await this.db.get(docKey(docId))
    if (bytes === undefined) return null
    const meta = decodeDocMeta(bytes)
    this.metas.set(docId, meta)
    return meta
  }

  async usage(accountId: string): Promise<number> {
    const cached = this.usages.get(accountId)
    if (cached !== undefined) return cached
    const bytes = await this.db.get(accountKey(accountId))
    const used = bytes === undefined ? 0 : readVaruint(bytes)
    this.usages.set(accountId, used)
    return used
  }

  async backlog(docId: string, since: number): Promise<Backlog> {
    const meta = await this.meta(docId)
    if (meta === null || since >= meta.head) return { head: meta?.head ?? 0, entries: 0, bytes: 0, snapshot: null }
    const snap = meta.snapshot
    if (snap !== null && snap.covers > since) {
      return { head: meta.head, entries: 1 + meta.head - snap.covers, bytes: snap.size + meta.cum - snap.cumAtCovers, snapshot: snap }
    }
    let cumAtSince = 0
    if (since > 0) cumAtSince = snap?.covers === since ? snap.cumAtCovers : ((await this.entry(docId, since))?.cum ?? 0)
    return { head: meta.head, entries: meta.head - since, bytes: meta.cum - cumAtSince, snapshot: null }
  }

  async entry(docId: string, seq: number): Promise<LogEntry | undefined> {
    const bytes = await this.db.get(logKey(docId, seq))
    return bytes === undefined ? undefined : decodeLogEntry(bytes)
  }

  /** Up to `limit` live entries with seq > `after`, in seq order (index only, no blob bytes). */
  async entriesAfter(docId: string, after: number, limit: number): Promise<LogEntry[]> {
    const out: LogEntry[] = []
    for await (const [key, value] of this.db.iterator({ gt: logKey(docId, after), lt: `${logPrefix(docId)}~` })) {
      if (!isLogKeyOf(docId, key)) continue // a log key of a doc whose id extends this one's
      out.push(decodeLogEntry(value))
      if (out.length >= limit) break
    }
    return out
  }

  /**
   * The durable entries after `after` with their bytes, from memory; undefined
   * when memory does not hold all of them (read `entriesAfter` and `readPart` then).
   */
  tailAfter(docId: string, after: number, limit: number): CachedEntry[] | undefined {
    return this.tail.after(docId, after, limit)
  }

  /** One stored part, or undefined if a snapshot has since dropped it. */
  async readPart(upload: string, n: number): Promise<Uint8Array | undefined> {
    return this.landingParts.get(upload)?.[n] ?? (await this.db.get(partKey(upload, n)))
  }

  beginUpload(docId: string, init: { account: string; uploader: string; covers?: number }): Upload {
    const key = (this.options.randomBytes ?? randomBytes)(9)
    return new Upload(this, docId, init.account, init.uploader, init.covers ?? null, Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url'))
  }

  async close(): Promise<void> {
    await this.queue.drain()
    await this.db.close()
  }

  /** @internal parts of a large upload in progress: not synced, the commit batch syncs them. */
  async writeParts(upload: string, from: number, chunks: readonly Uint8Array[]): Promise<void> {
    const ops = partPuts(upload, from, chunks)
    if (from === 0) ops.push({ type: 'put', key: pendingKey(upload), value: new Uint8Array(0) })
    await this.db.batch(ops, { sync: false })
  }

  /** @internal an upload that will not be committed: its parts in memory or on disk go. */
  async dropUpload(u: Upload): Promise<void> {
    u.release()
    if (u.buffered !== null) return
    const ops: BatchOp[] = [{ type: 'del', key: pendingKey(u.key) }]
    for (let n = 0; n < u.parts; n++) ops.push({ type: 'del', key: partKey(u.key, n) })
    await this.queue.enqueue(ops)
  }

  /** @internal */
  async commitAppend(u: Upload, hash: string): Promise<CommitResult> {
    const key = `${u.docId}\0${hash}`
    const racing = this.inflight.get(key)
    if (racing !== undefined) return await this.duplicate(u, await racing)
    const chunks = u.buffered
    const durable = this.withLock(u.docId, async () => {
      const existing = await this.db.get(hashKey(u.docId, hash))
      if (existing !== undefined) return { seq: readVaruint(existing), write: null }
      const meta = await this.metaOrNew(u.docId, u.account)
      const seq = meta.head + 1
      const entry: LogEntry = { seq, upload: u.key, parts: u.parts, size: u.size, uploader: u.uploader, hash, cum: meta.cum + u.size }
      meta.head = seq
      meta.cum = entry.cum
      meta.stored += u.size
      meta.entries++
      const used = (await this.usage(meta.account)) + u.size
      this.usages.set(meta.account, used)
      this.bytesStored += u.size
      // a buffered upload's parts join this batch: one fsynced write per commit
      const write = this.queue.enqueue([
        ...(chunks === null ? [{ type: 'del', key: pendingKey(u.key) } as const] : partPuts(u.key, 0, chunks)),
        { type: 'put', key: logKey(u.docId, seq), value: encodeLogEntry(entry) },
        { type: 'put', key: hashKey(u.docId, hash), value: varuint(seq) },
        { type: 'put', key: docKey(u.docId), value: encodeDocMeta(meta) },
        { type: 'put', key: accountKey(meta.account), value: varuint(used) }
      ])
      // cached once durable (before listeners fire), in seq order as the queue resolves in order
      void write.then(
        () => {
          u.release()
          this.tail.add(u.docId, entry, chunks)
        },
        () => {
          u.release()
        }
      )
      this.unwritten.set(u.docId, write)
      void write
        .catch(() => {})
        .then(() => {
          if (this.unwritten.get(u.docId) === write) this.unwritten.delete(u.docId)
        })
      return { seq, write }
    })
    const seqPromise = durable.then(async ({ seq, write }) => {
      if (write !== null) await write
      return seq
    })
    this.inflight.set(key, seqPromise)
    try {
      const { write } = await durable
      if (write === null) return await this.duplicate(u, await seqPromise)
      const seq = await seqPromise
      for (const l of this.listeners) l(u.docId, seq)
      return { seq, duplicate: false, ...snapshotHint(await this.meta(u.docId)) }
    } finally {
      this.inflight.delete(key)
    }
  }

  /** @internal */
  async commitSnapshot(u: Upload, covers: number): Promise<CommitResult> {
    const done = await this.withLock(u.docId, async () => {
      // the head in memory runs ahead of the log on disk: the entries to drop must be written first
      await this.unwritten.get(u.docId)?.catch(() => {})
      const meta = await this.meta(u.docId)
      if (meta === null || covers > meta.head || covers < 1) {
        throw new TandemError('ERR_INVALID_SNAPSHOT', `snapshot covers seq ${covers} but the log of ${u.docId} ends at ${meta?.head ?? 0}`)
      }
      if (meta.snapshot !== null && covers <= meta.snapshot.covers) return null // stale: a newer one is stored
      const chunks = u.buffered
      const ops: BatchOp[] = chunks === null ? [{ type: 'del', key: pendingKey(u.key) }] : partPuts(u.key, 0, chunks)
      let dropped = 0
      let droppedEntries = 0
      let cumAtCovers = meta.snapshot?.cumAtCovers ?? 0
      for await (const [key, value] of this.db.iterator({ gt: logPrefix(u.docId), lte: logKey(u.docId, covers) })) {
        if (!isLogKeyOf(u.docId, key)) continue
        const e = decodeLogEntry(value)
        ops.push({ type: 'del', key }, { type: 'del', key: hashKey(u.docId, e.hash) })
        for (let n = 0; n < e.parts; n++) ops.push({ type: 'del', key: partKey(e.upload, n) })
        dropped += e.size
        droppedEntries++
        cumAtCovers = e.cum
      }
      const old = meta.snapshot
      if (old !== null) {
        for (let n = 0; n < old.parts; n++) ops.push({ type: 'del', key: partKey(old.upload, n) })
        dropped += old.size
      }
      meta.snapshot = { covers, upload: u.key, parts: u.parts, size: u.size, cumAtCovers }
      meta.stored += u.size - dropped
      meta.entries -= droppedEntries
      const used = Math.max(0, (await this.usage(meta.account)) + u.size - dropped)
      this.usages.set(meta.account, used)
      this.bytesStored += u.size - dropped
      ops.push({ type: 'put', key: docKey(u.docId), value: encodeDocMeta(meta) }, { type: 'put', key: accountKey(meta.account), value: varuint(used) })
      this.tail.dropThrough(u.docId, covers)
      if (chunks === null) return this.queue.enqueue(ops)
      this.landingParts.set(u.key, chunks)
      try {
        return await this.queue.enqueue(ops)
      } finally {
        this.landingParts.delete(u.key)
      }
    }).catch(async (err: unknown) => {
      await this.dropUpload(u) // a refused snapshot's parts must not linger until a restart
      throw err
    })
    if (done === null) await this.dropUpload(u)
    else u.release() // the batch is written: the lock was held until it was
    return { seq: covers, duplicate: done === null, ...snapshotHint(await this.meta(u.docId)) }
  }

  private async duplicate(u: Upload, seq: number): Promise<CommitResult> {
    await this.dropUpload(u)
    return { seq, duplicate: true, ...snapshotHint(await this.meta(u.docId)) }
  }

  private async metaOrNew(docId: string, account: string): Promise<DocMeta> {
    const meta = await this.meta(docId)
    if (meta !== null) return meta
    const fresh: DocMeta = { head: 0, cum: 0, stored: 0, entries: 0, account, snapshot: null }
    this.metas.set(docId, fresh)
    this.docCount++
    return fresh
  }

  /** Runs `fn` alone for this doc: seq allocation and snapshot drops never interleave. */
  private withLock<T>(docId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(docId) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => {})
    this.locks.set(docId, tail)
    void tail.then(() => {
      if (this.locks.get(docId) === tail) this.locks.delete(docId)
    })
    return next
  }
}

const partPuts = (upload: string, from: number, chunks: readonly Uint8Array[]): BatchOp[] => chunks.map((value, i) => ({ type: 'put', key: partKey(upload, from + i), value }))
