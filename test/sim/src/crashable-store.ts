import type { BatchOp, KeyRange, KeyValueStore } from '@tandem/storage'
import { MemoryLevel } from 'memory-level'
import type { Rng } from './rng.js'
import type { Scheduler } from './scheduler.js'

/** What survives a crash: the writes whose batch reached "disk". */
export class Disk {
  readonly db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  private opened: Promise<void> | null = null
  open (): Promise<void> { return (this.opened ??= this.db.open()) }
}

export class CrashedError extends Error {
  constructor () { super('the process crashed'); this.name = 'CrashedError' }
}

/**
 * One process's handle on a Disk. A batch reaches the disk after a seeded fsync
 * delay, in order; `crash()` drops every batch still in flight (its caller was
 * never told it is stored) and makes the handle unusable, as a killed process is.
 */
export class CrashableStore implements KeyValueStore {
  private alive = true
  private lastApply = 0

  constructor (private readonly disk: Disk, private readonly scheduler: Scheduler, private readonly rng: Rng, private readonly owner: string) {}

  crash (): void { this.alive = false }

  async open (): Promise<void> { this.check(); await this.disk.open() }

  async close (): Promise<void> { this.alive = false }

  async get (key: string): Promise<Uint8Array | undefined> {
    this.check()
    return await this.disk.db.get(key)
  }

  batch (ops: BatchOp[], options?: { sync?: boolean }): Promise<void> {
    this.check()
    const copy = ops.map(op => ({ ...op }))
    const delay = options?.sync === false ? 0 : this.rng.int(0, 3)
    const at = Math.max(this.lastApply, this.scheduler.now + delay)
    this.lastApply = at
    return new Promise((resolve, reject) => {
      this.scheduler.schedule(at - this.scheduler.now, () => {
        if (!this.alive) return // lost with the process: never resolves, never lands
        this.disk.db.batch(copy).then(resolve, reject)
      }, this.owner)
    })
  }

  async * keys (range: KeyRange): AsyncIterable<string> {
    this.check()
    for await (const k of this.disk.db.keys(range)) yield k
  }

  async * iterator (range: KeyRange): AsyncIterable<[string, Uint8Array]> {
    this.check()
    for await (const kv of this.disk.db.iterator(range)) yield kv
  }

  private check (): void { if (!this.alive) throw new CrashedError() }
}
