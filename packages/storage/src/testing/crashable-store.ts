import type { BatchOp, KeyRange, KeyValueStore } from '../kv.js'

/**
 * What survives a crash: a store that only ever receives whole batches, shared by every
 * "process" that opens it in turn (a CrashableStore per incarnation).
 */
export class Disk {
  private opened: Promise<void> | null = null
  constructor(readonly db: KeyValueStore) {}
  open(): Promise<void> {
    this.opened ??= this.db.open()
    return this.opened
  }
}

export class CrashedError extends Error {
  constructor() {
    super('the process crashed')
    this.name = 'CrashedError'
  }
}

/**
 * Decides when a batch reaches the disk: called for each batch in the order the batches
 * were made, it calls `reach` then, later, or never (a crash first). `sync` is whether the
 * writer asked for an fsync; `ops` lets a test pick its crash points by what a batch holds.
 */
export type BatchLanding = (reach: () => void, batch: { sync: boolean; ops: readonly BatchOp[] }) => void

/** Every batch reaches the disk as it is made (a store that never crashes mid-batch). */
export const landAtOnce: BatchLanding = reach => {
  reach()
}

/** Batches wait until the test lets them reach the disk, in order: a crash point is "after n batches". */
export class HeldBatches {
  readonly held: Array<{ reach: () => void; ops: readonly BatchOp[] }> = []
  /** The ops of every batch let through so far, in order. */
  readonly landed: Array<readonly BatchOp[]> = []
  readonly landing: BatchLanding = (reach, { ops }) => {
    this.held.push({ reach, ops })
  }

  /** Lets the oldest held batch reach the disk; false if none is held. */
  landNext(): boolean {
    const next = this.held.shift()
    if (next === undefined) return false
    this.landed.push(next.ops)
    next.reach()
    return true
  }
}

/**
 * One process's handle on a {@link Disk}. A batch reaches the disk whole when its landing
 * says so; `crash()` drops every batch still in flight (its caller is never told it is
 * stored: its promise stays pending, as a killed process's would) and makes the handle
 * unusable. Values are copied in and out as a real store's bytes are, so a test on this
 * store cannot lean on aliasing that production would not have.
 */
export class CrashableStore implements KeyValueStore {
  private alive = true

  constructor(
    private readonly disk: Disk,
    private readonly landing: BatchLanding = landAtOnce
  ) {}

  crash(): void {
    this.alive = false
  }

  get crashed(): boolean {
    return !this.alive
  }

  async open(): Promise<void> {
    this.check()
    await this.disk.open()
  }

  async close(): Promise<void> {
    this.alive = false
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.check()
    const value = await this.disk.db.get(key)
    return value === undefined ? undefined : copyOf(value)
  }

  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void> {
    this.check()
    // the bytes as they are now: a caller may reuse its buffers once batch() has returned
    const copy = ops.map((op): BatchOp => (op.type === 'put' ? { type: 'put', key: op.key, value: op.value instanceof Uint8Array ? copyOf(op.value) : op.value } : { ...op }))
    return new Promise((resolve, reject) => {
      this.landing(
        () => {
          if (!this.alive) return // lost with the process: never resolves, never lands
          this.disk.db.batch(copy).then(resolve, reject)
        },
        { sync: options?.sync !== false, ops: copy }
      )
    })
  }

  async *keys(range: KeyRange): AsyncIterable<string> {
    this.check()
    for await (const k of this.disk.db.keys(range)) yield k
  }

  async *iterator(range: KeyRange): AsyncIterable<[string, Uint8Array]> {
    this.check()
    for await (const [k, v] of this.disk.db.iterator(range)) yield [k, copyOf(v)]
  }

  private check(): void {
    if (!this.alive) throw new CrashedError()
  }
}

/** A copy of the bytes (not `value.slice()`: a Node Buffer's slice is a view of the same memory). */
const copyOf = (value: Uint8Array): Uint8Array => new Uint8Array(value)
