import type { BatchOp, KeyRange, KeyValueStore } from '@tandem/storage'
import type { Disk } from '@tandem/storage/testing'

/** A key-value store that counts the batches written to it: has anything on this disk changed since we last looked? */
export class WatchedStore implements KeyValueStore {
  writes = 0
  /** Keys deleted (the only way a key goes away). */
  deletes = 0
  constructor(readonly inner: KeyValueStore) {}
  open(): Promise<void> {
    return this.inner.open()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key)
  }
  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void> {
    this.writes++
    for (const op of ops) if (op.type === 'del') this.deletes++
    return this.inner.batch(ops, options)
  }
  keys(range: KeyRange): AsyncIterable<string> {
    return this.inner.keys(range)
  }
  iterator(range: KeyRange): AsyncIterable<[string, Uint8Array]> {
    return this.inner.iterator(range)
  }
}

/** Batches a disk made of a {@link WatchedStore} has taken. */
export const writesOf = (disk: Disk): number => (disk.db as WatchedStore).writes

/** Keys deleted from a disk made of a {@link WatchedStore}. */
export const deletesOf = (disk: Disk): number => (disk.db as WatchedStore).deletes
