import * as Y from 'yjs'
import { StoreCorruptError } from '../errors.js'
import type { DocStore } from './doc-store.js'

/** Origin of updates replayed from disk: they are neither persisted again nor broadcast. */
const FROM_STORE = Symbol('tandem:store')

export type DocUpdateListener = (docId: string, update: Uint8Array, origin: unknown) => void
export type DocOpenListener = (docId: string, doc: Y.Doc) => void

/**
 * Keeps the open Y.Docs in memory, backed by the DocStore: every update to an
 * open doc is appended to its log synchronously (so compaction always sees a
 * consistent state) and then handed to listeners (the sync layer).
 */
export class DocHost {
  private readonly docs = new Map<string, Y.Doc>()
  private readonly idsByDoc = new WeakMap<Y.Doc, string>()
  private readonly opening = new Map<string, Promise<Y.Doc>>()
  private readonly lastWrite = new Map<string, Promise<void>>()
  private readonly updateListeners = new Set<DocUpdateListener>()
  private readonly openListeners = new Set<DocOpenListener>()
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
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === FROM_STORE) return
      const write = this.store.append(docId, update, () => Y.encodeStateAsUpdate(doc))
      write.catch(err => { this.writeError ??= err })
      this.lastWrite.set(docId, write)
      for (const l of this.updateListeners) l(docId, update, origin)
    })
    this.docs.set(docId, doc)
    this.idsByDoc.set(doc, docId)
    for (const l of this.openListeners) l(docId, doc)
    return doc
  }
}
