// The storage contract shared by the engine and the relay: the part of an abstract-level
// database they use (level on disk, memory-level in tests and the simulator).

/** A key range: every bound is optional, keys compare as strings. */
export interface KeyRange {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
}

export type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/**
 * The part of an abstract-level database the engine uses, with string keys
 * and binary values: `new Level(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })`
 * on disk, `new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' })` in tests.
 */
export interface KeyValueStore {
  open(): Promise<void>
  close(): Promise<void>
  get(key: string): Promise<Uint8Array | undefined>
  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void>
  keys(range: KeyRange): AsyncIterable<string>
  iterator(range: KeyRange): AsyncIterable<[string, Uint8Array]>
  /**
   * What the store's own recovery dropped or repaired while opening, as sentences (LevelDB
   * skips a damaged write-ahead log and says so only in its info log): each is damage.
   */
  recoveryNotes?(): string[]
  /**
   * Repairs a store whose own checks failed on a read (LevelDB's LEVEL_CORRUPTION): it is
   * open again afterwards, with what could be salvaged, and says so in `recoveryNotes()`.
   */
  repair?(reason: string): Promise<void>
  /**
   * Closes the store and removes everything it held from the disk (its files, not only its
   * keys: a revoked device erases the account's data). Without it, every key is deleted.
   */
  erase?(): Promise<void>
}
