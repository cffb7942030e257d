import { WriteQueue, checkedRecord, compactionDue, compactionOverdue, readCheckedRecord, type CompactionLimits } from '@tandem/storage'
import { InvalidArgumentError, StoreCorruptError } from '../errors.js'
import type { BatchOp, KeyValueStore } from './kv.js'
import { checkStore } from './store-check.js'
import { StoreDamage } from './store-damage.js'
import { DOC_ID, docKey, logKey, logPrefix, metaKey, parseKey, snapKey } from './store-keys.js'

/** What is on disk for one doc: the last compacted snapshot and the updates after it. */
export interface StoredDoc {
  snapshot: Uint8Array | null
  updates: Uint8Array[]
}

export interface DocStoreOptions {
  /** fsync every batch (default true): "stored" then survives power loss, not just a crash. */
  sync?: boolean
  /** Compact a doc's log into a snapshot once it holds this many updates (and a quarter of the snapshot's bytes)… */
  compactEntries?: number
  /** …or this many bytes (or the snapshot's size, if larger). */
  compactBytes?: number
}

interface LogState {
  /** The first seq a fold must delete (entries may be missing below nextSeq after damage). */
  firstSeq: number
  nextSeq: number
  entries: number
  bytes: number
  snapshotBytes: number
}

/**
 * Per-doc update log plus compacted snapshots on a level store. The write path
 * appends; when a log grows past its bounds the same atomic batch writes a new
 * snapshot (the caller's full doc state) and deletes the covered entries, so a
 * crash at any point leaves either the old log or the new snapshot, never neither.
 *
 * Every value is a checked record (see `@tandem/storage`'s checked-record): what does not
 * verify is never returned as data. {@link open} checks the whole key space once
 * (store-check.ts); reads check every value; both note what they find in {@link damage}.
 */
export class DocStore {
  private readonly queue: WriteQueue
  private readonly logs = new Map<string, LogState>()
  private readonly limits: CompactionLimits
  /** Everything found wrong since the store was opened. */
  readonly damage = new StoreDamage()
  /** The store held nothing when it was opened: a new device. */
  private fresh = true

  private constructor(
    private readonly db: KeyValueStore,
    options: DocStoreOptions
  ) {
    this.queue = new WriteQueue(db, options.sync ?? true)
    this.limits = { entries: options.compactEntries ?? 500, bytes: options.compactBytes ?? 4 * 1024 * 1024 }
  }

  /** Takes an open key-value store, checks it (format, every key, metadata values) and returns it ready for use. */
  static async open(db: KeyValueStore, options: DocStoreOptions = {}): Promise<DocStore> {
    const store = new DocStore(db, options)
    store.fresh = (await checkStore(db, store.damage)).fresh
    return store
  }

  static assertDocId(docId: string): void {
    if (!DOC_ID.test(docId)) throw new InvalidArgumentError(`invalid doc id ${JSON.stringify(docId)}`)
  }

  /** True when the store held nothing at open: a missing identity is then a new device, not a lost one. */
  get isNew(): boolean {
    return this.fresh
  }

  async listDocs(): Promise<string[]> {
    const ids: string[] = []
    for await (const key of this.db.keys({ gt: 'doc!', lt: 'doc"' })) ids.push(key.slice(4))
    return ids
  }

  /**
   * Reads a doc back and makes it ready for {@link append}: the snapshot and every log entry
   * that verify, in order. A damaged or missing record is noted in {@link damage} (and a
   * damaged one deleted), never returned.
   */
  async loadDoc(docId: string): Promise<StoredDoc> {
    DocStore.assertDocId(docId)
    await this.queue.drain()
    const broken: BatchOp[] = []
    let snapshot: Uint8Array | null = null
    const snapStored = await this.db.get(snapKey(docId))
    if (snapStored !== undefined) {
      snapshot = readCheckedRecord(snapKey(docId), snapStored)
      if (snapshot === null) this.broken(docId, snapKey(docId), broken)
    }
    const updates: Uint8Array[] = []
    let firstSeq = -1
    let nextSeq = 0 // after the loop: one past the last entry's seq
    let bytes = 0
    const prefix = logPrefix(docId)
    for await (const [key, value] of this.db.iterator({ gt: prefix, lt: `${prefix}~` })) {
      const parsed = parseKey(key)
      if (parsed.kind !== 'log' || parsed.docId !== docId) continue // a stray: the open check noted and removed it
      if (firstSeq < 0) firstSeq = parsed.seq
      else if (parsed.seq > nextSeq) this.damage.note({ docId, key: logKey(docId, nextSeq), problem: `log entries ${nextSeq}…${parsed.seq - 1} are missing` })
      nextSeq = parsed.seq + 1
      const update = readCheckedRecord(key, value)
      if (update === null) {
        this.broken(docId, key, broken)
        continue
      }
      updates.push(update)
      bytes += update.byteLength
    }
    if (broken.length > 0) await this.queue.enqueue(broken)
    this.logs.set(docId, { firstSeq: Math.max(firstSeq, 0), nextSeq, entries: updates.length, bytes, snapshotBytes: snapshot?.byteLength ?? 0 })
    return { snapshot, updates }
  }

  private broken(docId: string, key: string, ops: BatchOp[]): void {
    this.damage.note({ docId, key, problem: 'checksum mismatch: the record is damaged' })
    ops.push({ type: 'del', key })
  }

  /**
   * Appends one update to a loaded doc. `snapshot` returns the doc's full state
   * (already including `update`); it is called only when the log is compacted in this
   * same batch: once the log is due for it, or with `lazy` only once it is overdue (the
   * caller compacts a due log itself at a quiet moment, with {@link compact}).
   * Resolves once the update (or the snapshot covering it) is on disk.
   */
  append(docId: string, update: Uint8Array, snapshot: () => Uint8Array, lazy = false): Promise<void> {
    let log = this.logs.get(docId)
    if (log === undefined) {
      DocStore.assertDocId(docId)
      log = { firstSeq: 0, nextSeq: 0, entries: 0, bytes: 0, snapshotBytes: 0 }
      this.logs.set(docId, log)
    }
    const ops: BatchOp[] = []
    if (log.nextSeq === 0 && log.entries === 0) ops.push(put(docKey(docId), new Uint8Array(0)))
    const size = { entries: log.entries + 1, bytes: log.bytes + update.byteLength, snapshotBytes: log.snapshotBytes }
    // nothing stored yet (a new device's first history blob): the update is the whole state
    const first = log.entries === 0 && log.snapshotBytes === 0
    if (compactionDue(size, this.limits) && (first || !lazy || compactionOverdue(size, this.limits))) {
      this.fold(docId, log, first ? update : snapshot(), ops)
    } else {
      if (log.entries === 0) log.firstSeq = log.nextSeq
      ops.push(put(logKey(docId, log.nextSeq++), update))
      log.entries++
      log.bytes += update.byteLength
    }
    return this.queue.enqueue(ops)
  }

  /** Whether a doc's log is due for compaction (see {@link append}'s `lazy`). */
  needsCompaction(docId: string): boolean {
    const log = this.logs.get(docId)
    return log !== undefined && log.entries > 0 && compactionDue(log, this.limits)
  }

  /** Folds a doc's whole log into `state`, the doc's full state now, in one atomic batch. */
  compact(docId: string, state: Uint8Array): Promise<void> {
    const log = this.logs.get(docId)
    if (log === undefined || log.entries === 0) return Promise.resolve()
    const ops: BatchOp[] = []
    this.fold(docId, log, state, ops)
    return this.queue.enqueue(ops)
  }

  /** Replaces the snapshot with `state` and deletes every log entry it covers, including ones still queued. */
  private fold(docId: string, log: LogState, state: Uint8Array, ops: BatchOp[]): void {
    log.snapshotBytes = state.byteLength
    ops.push(put(snapKey(docId), state))
    for (let seq = log.firstSeq; seq < log.nextSeq; seq++) ops.push({ type: 'del', key: logKey(docId, seq) })
    log.firstSeq = log.nextSeq
    log.entries = 0
    log.bytes = 0
  }

  /** A metadata entry, or undefined when there is none; a damaged one is ERR_STORE_CORRUPT, never a value. */
  async getMeta(name: string): Promise<Uint8Array | undefined> {
    await this.queue.drain()
    const key = metaKey(name)
    const stored = await this.db.get(key)
    if (stored === undefined) return undefined
    const value = readCheckedRecord(key, stored)
    if (value === null) throw new StoreCorruptError(`the stored ${name} record is damaged (checksum mismatch)`)
    return value
  }

  putMeta(name: string, value: Uint8Array): Promise<void> {
    return this.queue.enqueue([put(metaKey(name), value)])
  }

  /** Puts (value) and deletes (null) several metadata entries in one atomic batch. */
  writeMeta(changes: Array<[name: string, value: Uint8Array | null]>): Promise<void> {
    return this.queue.enqueue(changes.map(([name, value]) => (value === null ? { type: 'del', key: metaKey(name) } : put(metaKey(name), value))))
  }

  /** Every metadata entry whose name starts with `prefix`, in name order (damaged ones were noted and removed at open). */
  async metaEntries(prefix: string): Promise<Array<[string, Uint8Array]>> {
    await this.queue.drain()
    const out: Array<[string, Uint8Array]> = []
    const from = metaKey(prefix)
    for await (const [key, stored] of this.db.iterator({ gte: from, lt: `${from}\uffff` })) {
      const value = readCheckedRecord(key, stored)
      if (value === null) this.damage.note({ docId: null, key, problem: 'checksum mismatch: the record is damaged' })
      else out.push([key.slice(5), value])
    }
    return out
  }

  /** Resolves when every write enqueued so far is on disk. */
  flush(): Promise<void> {
    return this.queue.drain()
  }

  async close(): Promise<void> {
    await this.queue.drain()
    await this.db.close()
  }

  /** Erases every record and closes: what a revoked device does with its account's data. */
  async erase(): Promise<void> {
    await this.queue.drain()
    if (this.db.erase !== undefined) {
      await this.db.erase()
      return
    }
    // a store that cannot remove its files: delete every key, in bounded batches
    for (;;) {
      const keys: string[] = []
      for await (const key of this.db.keys({})) {
        keys.push(key)
        if (keys.length >= ERASE_BATCH) break
      }
      if (keys.length === 0) break
      await this.db.batch(
        keys.map(key => ({ type: 'del', key })),
        { sync: true }
      )
    }
    await this.db.close()
  }
}

const ERASE_BATCH = 1024

const put = (key: string, value: Uint8Array): BatchOp => ({ type: 'put', key, value: checkedRecord(key, value) })
