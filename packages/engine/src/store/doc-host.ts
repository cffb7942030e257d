import * as Y from 'yjs'
import { EngineStateError, StoreCorruptError } from '../errors.js'
import type { Runtime, TimerHandle } from '../runtime.js'
import type { DocStore } from './doc-store.js'

/** A doc whose log is due for compaction is compacted once it has had no update for this long. */
export const COMPACT_QUIET_MS = 1_000

/**
 * What DocHost needs to put compaction off to a quiet moment (without it, it compacts on the
 * write path), and, when given, the randomness Yjs client ids are drawn from (so a seeded
 * run gives every doc the same client id each time).
 */
export type DocTimers = Pick<Runtime, 'now' | 'setTimeout' | 'clearTimeout'> & Partial<Pick<Runtime, 'randomBytes'>>

/** Origin of updates replayed from disk: they are neither persisted again nor broadcast. */
const FROM_STORE = Symbol('tandem:store')

/** `transaction` is Yjs' own (for updates made on this device); absent for updates persisted as received. */
export type DocUpdateListener = (docId: string, update: Uint8Array, origin: unknown, transaction?: Y.Transaction) => void
export type DocOpenListener = (docId: string, doc: Y.Doc) => void
export type DocUnloadListener = (docId: string) => void

/**
 * Keeps the open Y.Docs in memory, backed by the DocStore: every update to an
 * open doc is handed to listeners (the sync layer) and appended to its log in
 * the same synchronous step (so compaction always sees a consistent state).
 */
export class DocHost {
  private readonly docs = new Map<string, Y.Doc>()
  private readonly idsByDoc = new WeakMap<Y.Doc, string>()
  private readonly opening = new Map<string, Promise<Y.Doc>>()
  private readonly lastWrite = new Map<string, Promise<void>>()
  private readonly updateListeners = new Set<DocUpdateListener>()
  private readonly openListeners = new Set<DocOpenListener>()
  private readonly unloadListeners = new Set<DocUnloadListener>()
  /** Docs this device keeps, open or not: every doc opened since start, and those the store held at start. */
  private readonly known = new Set<string>()
  private readonly updateHandlers = new Map<string, (update: Uint8Array, origin: unknown, doc: Y.Doc, transaction: Y.Transaction) => void>()
  private writeError: unknown = null
  /** Per doc, its last update's time and the pending quiet-time compaction. */
  private readonly compactions = new Map<string, { lastUpdate: number; timer: TimerHandle }>()

  constructor(
    private readonly store: DocStore,
    private readonly timers?: DocTimers
  ) {}

  get(docId: string): Y.Doc | undefined {
    return this.docs.get(docId)
  }

  /** The docs open in memory now. */
  ids(): string[] {
    return [...this.docs.keys()]
  }

  /** Every doc this device keeps, open or unloaded (what it subscribes to at its relays). */
  knownIds(): string[] {
    return [...this.known]
  }

  isKnown(docId: string): boolean {
    return this.known.has(docId)
  }

  /** Docs the store holds without opening them (read at start). */
  noteStored(docIds: Iterable<string>): void {
    for (const id of docIds) this.known.add(id)
  }

  /**
   * Takes an open doc out of memory once what was written to it is on disk; it stays known
   * and opens again from disk when asked for (a relay's blob, a peer's update, a reader).
   * False, and the doc stays open, when it changed while its writes were being awaited.
   */
  async unload(docId: string): Promise<boolean> {
    const doc = this.docs.get(docId)
    if (doc === undefined) return true
    const write = this.lastWrite.get(docId)
    await write
    if (this.docs.get(docId) !== doc || this.lastWrite.get(docId) !== write || this.opening.has(docId)) return false
    const compaction = this.compactions.get(docId)
    if (compaction !== undefined) {
      this.timers?.clearTimeout(compaction.timer)
      this.compactions.delete(docId)
      if (this.store.needsCompaction(docId)) this.track(docId, this.store.compact(docId, Y.encodeStateAsUpdate(doc)))
    }
    doc.off('update', this.updateHandlers.get(docId)!)
    this.updateHandlers.delete(docId)
    this.docs.delete(docId)
    doc.destroy()
    for (const l of this.unloadListeners) l(docId)
    return true
  }

  onUnload(listener: DocUnloadListener): () => void {
    this.unloadListeners.add(listener)
    return () => this.unloadListeners.delete(listener)
  }

  /** The id of an open doc. */
  idOf(doc: Y.Doc): string | undefined {
    return this.idsByDoc.get(doc)
  }

  /** Opens a doc, loading it from disk (or creating it empty). Concurrent calls share one load. */
  open(docId: string): Promise<Y.Doc> {
    const doc = this.docs.get(docId)
    if (doc !== undefined) return Promise.resolve(doc)
    let pending = this.opening.get(docId)
    if (pending === undefined) {
      pending = this.load(docId).finally(() => this.opening.delete(docId))
      this.opening.set(docId, pending)
    }
    return pending
  }

  /**
   * Applies an update from a peer or a relay, and persists and passes on the bytes that
   * came rather than Yjs' re-encoding of the transaction (which cost as much as applying
   * it). With pending structs (missing dependencies) Yjs' own update event carries what
   * integrates, as for local changes.
   */
  applyRemote(docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown): void {
    if (this.docs.get(docId) !== doc && this.idsByDoc.get(doc) === docId) {
      // unloaded while the caller held it (a blob being opened): applied to the doc as it opens again
      this.track(
        docId,
        this.open(docId).then(async fresh => {
          this.applyRemote(docId, fresh, update, origin)
          await this.lastWrite.get(docId)
        })
      )
      return
    }
    const onUpdate = this.updateHandlers.get(docId)
    if (onUpdate === undefined || hasPending(doc)) {
      Y.applyUpdate(doc, update, origin)
      return
    }
    let changed = false
    const grab = (tr: Y.Transaction): void => {
      changed = tr.deleteSet.clients.size > 0 || [...tr.afterState].some(([client, clock]) => clock > (tr.beforeState.get(client) ?? 0))
    }
    doc.off('update', onUpdate)
    doc.on('afterTransaction', grab)
    try {
      Y.applyUpdate(doc, update, origin)
    } finally {
      doc.off('afterTransaction', grab)
      doc.on('update', onUpdate)
    }
    // incomplete updates are kept too: the missing part may only come after a restart
    if (changed || hasPending(doc)) this.persist(docId, doc, update, origin)
  }

  /** Resolves once every update made so far to `docId` is on disk. */
  async written(docId: string): Promise<void> {
    await this.lastWrite.get(docId)
  }

  /**
   * Resolves once every update made so far to this open doc is on disk; throws the store's
   * write failure if there was one (the engine must then stop claiming writes are stored).
   */
  async committed(doc: Y.Doc): Promise<void> {
    const docId = this.idOf(doc)
    if (docId === undefined) throw new EngineStateError('doc is not open')
    // Asked from an observer of an update being applied, that update is not with the store yet:
    // Yjs calls observers before its `update` event, and applyRemote persists once applyUpdate
    // returns. Both happen before the next microtask, so the write waited for is then its own.
    // (Waiting for the write before it showed a read mark that a crash then took back: simulator
    // seed 20261135 with --people.)
    await Promise.resolve()
    await this.written(docId)
    if (this.writeError !== null) throw this.writeError
  }

  onUpdate(listener: DocUpdateListener): () => void {
    this.updateListeners.add(listener)
    return () => this.updateListeners.delete(listener)
  }

  onOpen(listener: DocOpenListener): () => void {
    this.openListeners.add(listener)
    return () => this.openListeners.delete(listener)
  }

  /**
   * Tells listeners (the sync layer: peers first, for latency), then appends to the doc's
   * log in the same synchronous step, so compaction always sees a consistent state.
   */
  private persist(docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown, transaction?: Y.Transaction): void {
    for (const l of this.updateListeners) l(docId, update, origin, transaction)
    const lazy = this.timers !== undefined
    this.track(
      docId,
      this.store.append(docId, update, () => Y.encodeStateAsUpdate(doc), lazy)
    )
    if (lazy) this.compactWhenQuiet(docId, doc)
  }

  private track(docId: string, write: Promise<void>): void {
    write.catch(err => {
      this.writeError ??= err
    })
    this.lastWrite.set(docId, write)
  }

  /**
   * A due compaction re-encodes the whole doc: done inside a burst of updates, it cost
   * every device in it a second encode of a long chat. It waits for the doc to be quiet
   * (the store still compacts on the write path once the log is overdue).
   */
  private compactWhenQuiet(docId: string, doc: Y.Doc): void {
    const timers = this.timers!
    const pending = this.compactions.get(docId)
    if (pending !== undefined) {
      pending.lastUpdate = timers.now()
      return
    }
    if (!this.store.needsCompaction(docId)) return
    const fire = (): void => {
      const p = this.compactions.get(docId)
      if (p === undefined || this.docs.get(docId) !== doc) return
      const quietFor = timers.now() - p.lastUpdate
      if (quietFor < COMPACT_QUIET_MS) {
        p.timer = timers.setTimeout(fire, COMPACT_QUIET_MS - quietFor)
        return
      }
      this.compactions.delete(docId)
      if (this.store.needsCompaction(docId)) this.track(docId, this.store.compact(docId, Y.encodeStateAsUpdate(doc)))
    }
    this.compactions.set(docId, { lastUpdate: timers.now(), timer: timers.setTimeout(fire, COMPACT_QUIET_MS) })
  }

  /** The first failed write, if any: once set, the engine must stop claiming writes are stored. */
  get failure(): unknown {
    return this.writeError
  }

  destroy(): void {
    for (const c of this.compactions.values()) this.timers?.clearTimeout(c.timer)
    this.compactions.clear()
    // (listeners hear every doc leave: what they keep of it, a segment's count, is saved)
    for (const [docId, doc] of this.docs) {
      for (const l of this.unloadListeners) l(docId)
      doc.destroy()
    }
    this.docs.clear()
  }

  private async load(docId: string): Promise<Y.Doc> {
    const stored = await this.store.loadDoc(docId)
    const doc = new Y.Doc({ gc: true })
    const random = this.timers?.randomBytes
    if (random !== undefined) doc.clientID = clientIdFrom(random(4))
    try {
      Y.transact(
        doc,
        () => {
          if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot, FROM_STORE)
          for (const update of stored.updates) Y.applyUpdate(doc, update, FROM_STORE)
        },
        FROM_STORE
      )
    } catch (err) {
      doc.destroy()
      throw new StoreCorruptError(`doc ${docId} could not be read back from the store`, { cause: err })
    }
    const onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction): void => {
      if (origin !== FROM_STORE) this.persist(docId, doc, update, origin, transaction)
    }
    doc.on('update', onUpdate)
    this.updateHandlers.set(docId, onUpdate)
    this.docs.set(docId, doc)
    this.known.add(docId)
    this.idsByDoc.set(doc, docId)
    for (const l of this.openListeners) l(docId, doc)
    return doc
  }
}

const hasPending = (doc: Y.Doc): boolean => doc.store.pendingStructs !== null || doc.store.pendingDs !== null

/** A Yjs client id (an unsigned 32-bit integer, as Yjs draws its own) from injected random bytes. */
const clientIdFrom = (b: Uint8Array): number => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
