import { InvalidArgumentError } from '../errors.js'
import type { BatchOp, KeyValueStore } from './kv.js'
import { WriteQueue, compactionDue, compactionOverdue, type CompactionLimits } from '@tandem/storage'

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
  nextSeq: number
  entries: number
  bytes: number
  snapshotBytes: number
}

const DOC_ID = /^[a-z0-9][a-z0-9:_.-]{0,127}$/
const SEQ_WIDTH = 12

// Key layout (all under one level db, string keys):
//   doc!<docId>          → empty; marks that the doc exists (for listing without a scan of logs)
//   snap!<docId>         → compacted Yjs update holding the doc's state up to the log's start
//   log!<docId>!<seq>    → one Yjs update; seq is zero-padded hex so keys sort in append order
//   meta!<name>          → engine metadata (identity, account, clock)
const docKey = (docId: string): string => `doc!${docId}`
const snapKey = (docId: string): string => `snap!${docId}`
const logPrefix = (docId: string): string => `log!${docId}!`
const logKey = (docId: string, seq: number): string => logPrefix(docId) + seq.toString(16).padStart(SEQ_WIDTH, '0')
const metaKey = (name: string): string => `meta!${name}`

/**
 * Per-doc update log plus compacted snapshots on a level store. The write path
 * appends; when a log grows past its bounds the same atomic batch writes a new
 * snapshot (the caller's full doc state) and deletes the covered entries, so a
 * crash at any point leaves either the old log or the new snapshot, never neither.
 */
export class DocStore {
  private readonly queue: WriteQueue
  private readonly logs = new Map<string, LogState>()
  private readonly limits: CompactionLimits

  constructor(
    private readonly db: KeyValueStore,
    options: DocStoreOptions = {}
  ) {
    this.queue = new WriteQueue(db, options.sync ?? true)
    this.limits = { entries: options.compactEntries ?? 500, bytes: options.compactBytes ?? 4 * 1024 * 1024 }
  }

  static assertDocId(docId: string): void {
    if (!DOC_ID.test(docId)) throw new InvalidArgumentError(`invalid doc id ${JSON.stringify(docId)}`)
  }

  async listDocs(): Promise<string[]> {
    const ids: string[] = []
    for await (const key of this.db.keys({ gt: 'doc!', lt: 'doc"' })) ids.push(key.slice(4))
    return ids
  }

  /** Reads a doc back and makes it ready for {@link append}. */
  async loadDoc(docId: string): Promise<StoredDoc> {
    DocStore.assertDocId(docId)
    await this.queue.drain()
    const snapshot = (await this.db.get(snapKey(docId))) ?? null
    const updates: Uint8Array[] = []
    let nextSeq = 0
    let bytes = 0
    const prefix = logPrefix(docId)
    for await (const [key, value] of this.db.iterator({ gt: prefix, lt: `${prefix}~` })) {
      updates.push(value)
      bytes += value.byteLength
      nextSeq = parseInt(key.slice(prefix.length), 16) + 1
    }
    this.logs.set(docId, { nextSeq, entries: updates.length, bytes, snapshotBytes: snapshot?.byteLength ?? 0 })
    return { snapshot, updates }
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
      log = { nextSeq: 0, entries: 0, bytes: 0, snapshotBytes: 0 }
      this.logs.set(docId, log)
    }
    const ops: BatchOp[] = []
    if (log.nextSeq === 0 && log.entries === 0) ops.push({ type: 'put', key: docKey(docId), value: new Uint8Array(0) })
    const size = { entries: log.entries + 1, bytes: log.bytes + update.byteLength, snapshotBytes: log.snapshotBytes }
    // nothing stored yet (a new device's first history blob): the update is the whole state
    const first = log.entries === 0 && log.snapshotBytes === 0
    if (compactionDue(size, this.limits) && (first || !lazy || compactionOverdue(size, this.limits))) {
      this.fold(docId, log, first ? update : snapshot(), ops)
    } else {
      ops.push({ type: 'put', key: logKey(docId, log.nextSeq++), value: update })
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
    ops.push({ type: 'put', key: snapKey(docId), value: state })
    for (let seq = log.nextSeq - log.entries; seq < log.nextSeq; seq++) ops.push({ type: 'del', key: logKey(docId, seq) })
    log.entries = 0
    log.bytes = 0
  }

  async getMeta(name: string): Promise<Uint8Array | undefined> {
    await this.queue.drain()
    return await this.db.get(metaKey(name))
  }

  putMeta(name: string, value: Uint8Array): Promise<void> {
    return this.queue.enqueue([{ type: 'put', key: metaKey(name), value }])
  }

  /** Puts (value) and deletes (null) several metadata entries in one atomic batch. */
  writeMeta(changes: Array<[name: string, value: Uint8Array | null]>): Promise<void> {
    return this.queue.enqueue(changes.map(([name, value]) => (value === null ? { type: 'del', key: metaKey(name) } : { type: 'put', key: metaKey(name), value })))
  }

  /** Every metadata entry whose name starts with `prefix`, in name order. */
  async metaEntries(prefix: string): Promise<Array<[string, Uint8Array]>> {
    await this.queue.drain()
    const out: Array<[string, Uint8Array]> = []
    const from = metaKey(prefix)
    for await (const [key, value] of this.db.iterator({ gte: from, lt: `${from}\uffff` })) out.push([key.slice(5), value])
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
}
