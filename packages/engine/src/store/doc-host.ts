import * as Y from 'yjs'
import { StoreCorruptError } from '../errors.js'
import type { DocStore } from './doc-store.js'

/** Origin of updates replayed from disk: they are neither persisted again nor broadcast. */
const FROM_STORE = Symbol('tandem:store')

/** `transaction` is Yjs' own (for updates made on this device); absent for updates persisted as received. */
export type DocUpdateListener = (docId: string, update: Uint8Array, origin: unknown, transaction?: Y.Transaction) => void
export type DocOpenListener = (docId: string, doc: Y.Doc) => void

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
  private readonly updateHandlers = new Map<string, (update: Uint8Array, origin: unknown, doc: Y.Doc, transaction: Y.Transaction) => void>()
  private writeError: unknown = null

  constructor (private readonly store: DocStore) {}

  get (docId: string): Y.Doc | undefined { return this.docs.get(docId) }

  ids (): string[] { return [...this.docs.keys()] }

  /** The id of an open doc. */
  idOf (doc: Y.Doc): string | undefined { return this.idsByDoc.get(doc) }

  /** Opens a doc, loading it from disk (or creating it empty). Concurrent calls share one load. */
  open (docId: string): Promise<Y.Doc> {
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
  applyRemote (docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown): void {
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
  async written (docId: string): Promise<void> {
    await this.lastWrite.get(docId)
  }

  onUpdate (listener: DocUpdateListener): () => void {
    this.updateListeners.add(listener)
    return () => this.updateListeners.delete(listener)
  }

  onOpen (listener: DocOpenListener): () => void {
    this.openListeners.add(listener)
    return () => this.openListeners.delete(listener)
  }

  /**
   * Tells listeners (the sync layer: peers first, for latency), then appends to the doc's
   * log in the same synchronous step, so compaction always sees a consistent state.
   */
  private persist (docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown, transaction?: Y.Transaction): void {
    for (const l of this.updateListeners) l(docId, update, origin, transaction)
    const write = this.store.append(docId, update, () => Y.encodeStateAsUpdate(doc))
    write.catch(err => { this.writeError ??= err })
    this.lastWrite.set(docId, write)
  }

  /** The first failed write, if any: once set, the engine must stop claiming writes are stored. */
  get failure (): unknown { return this.writeError }

  destroy (): void {
    for (const doc of this.docs.values()) doc.destroy()
    this.docs.clear()
  }

  private async load (docId: string): Promise<Y.Doc> {
    const stored = await this.store.loadDoc(docId)
    const doc = new Y.Doc({ gc: true })
    try {
      Y.transact(doc, () => {
        if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot, FROM_STORE)
        for (const update of stored.updates) Y.applyUpdate(doc, update, FROM_STORE)
      }, FROM_STORE)
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
    this.idsByDoc.set(doc, docId)
    for (const l of this.openListeners) l(docId, doc)
    return doc
  }
}

const hasPending = (doc: Y.Doc): boolean => doc.store.pendingStructs !== null || doc.store.pendingDs !== null
