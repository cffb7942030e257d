import type { DocStore } from '../store/doc-store.js'

/** Metadata name of the saved index (MessageIndex bytes). */
const INDEX = 'search-index'
/** Metadata name prefix of a doc changed since the index was saved (`search-dirty!<docId>`, empty value). */
const DIRTY = 'search-dirty!'
const EMPTY = new Uint8Array(0)

/**
 * Where the search index lives in the device's store, and how a restart knows what it lacks.
 * The index is saved whole now and then (a checkpoint); every chat or segment doc changed
 * after a checkpoint is marked in the store, and the mark is written *before* the change
 * itself: DocHost tells its update listeners before it appends the update to the doc's log,
 * and the store's write queue keeps that order (one batch, or an earlier one). So after a
 * crash at any point, the saved index plus a re-read of the marked docs is the whole
 * history; a checkpoint writes the index and clears the marks in one atomic batch.
 */
export class IndexStore {
  /** Docs marked in the store now (so each is marked once per checkpoint). */
  private readonly marked = new Set<string>()

  constructor(private readonly store: DocStore) {}

  /** The saved index and the docs changed since it was saved (null: none saved, or unreadable). */
  async load(): Promise<{ bytes: Uint8Array | null; dirty: string[] }> {
    const dirty: string[] = []
    for (const [name] of await this.store.metaEntries(DIRTY)) {
      const docId = name.slice(DIRTY.length)
      dirty.push(docId)
      this.marked.add(docId)
    }
    let bytes: Uint8Array | null = null
    try {
      bytes = (await this.store.getMeta(INDEX)) ?? null
    } catch {
      // a damaged index is rebuilt from the messages (it holds nothing that is not in them)
    }
    return { bytes, dirty }
  }

  /** A doc is about to change: marked in the store's next batch, ahead of the change (synchronous enqueue). */
  mark(docId: string): void {
    if (this.marked.has(docId)) return
    this.marked.add(docId)
    void this.store.writeMeta([[DIRTY + docId, EMPTY]]).catch(() => {
      // a failed write fails the doc's own write after it too: the engine reports that one
    })
  }

  /**
   * Saves the index and clears the marks of every doc it covers, in one batch. `keep`: docs
   * the index could not read (their marks stay, so the next start reads them again).
   * `bytes` null: the saved index is still current (only marks are cleared).
   */
  async save(bytes: Uint8Array | null, keep: ReadonlySet<string>): Promise<void> {
    const changes: Array<[string, Uint8Array | null]> = []
    if (bytes !== null) changes.push([INDEX, bytes])
    for (const docId of [...this.marked]) {
      if (keep.has(docId)) continue
      this.marked.delete(docId)
      changes.push([DIRTY + docId, null])
    }
    if (changes.length > 0) await this.store.writeMeta(changes)
  }
}
