import type { BatchOp, KeyValueStore } from './kv.js'

/**
 * Group commit: every write enqueued in the same turn of the event loop (and
 * while a batch is in flight) goes to disk in one atomic batch, fsynced when
 * `sync` is on. A caller's promise resolves only once its ops are on disk.
 */
export class WriteQueue {
  private pending: BatchOp[] = []
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = []
  private flushing: Promise<void> | null = null

  constructor(
    private readonly db: KeyValueStore,
    private readonly sync: boolean
  ) {}

  enqueue(ops: BatchOp[]): Promise<void> {
    for (const op of ops) this.pending.push(op)
    const done = new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject })
    })
    this.flushing ??= this.flush()
    return done
  }

  /** Resolves when everything enqueued so far is on disk. */
  async drain(): Promise<void> {
    while (this.flushing != null) await this.flushing
  }

  private async flush(): Promise<void> {
    await Promise.resolve() // let writes made in this same turn join the batch
    // by waiters, not ops: a caller with no ops is told too (there is nothing to write for it)
    while (this.waiters.length > 0) {
      const ops = this.pending
      const waiters = this.waiters
      this.pending = []
      this.waiters = []
      try {
        if (ops.length > 0) await this.db.batch(ops, { sync: this.sync })
        for (const w of waiters) w.resolve()
      } catch (err) {
        for (const w of waiters) w.reject(err)
      }
    }
    this.flushing = null
  }
}
