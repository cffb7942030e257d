import { createHash, type Hash } from 'node:crypto'
import { BlobTooLargeError, QuotaExceededError } from '@tandem/protocol'
import type { CommitResult, HistoryUpload } from './backend.js'
import type { HistoryStore } from './history-store.js'
import type { DocMeta } from './records.js'

/**
 * A blob or snapshot being received part by part; nothing is visible until
 * `commit()`. A small upload keeps its parts in memory (they go to disk in the
 * commit batch); a large one, or one the relay-wide budget has no room for,
 * streams its parts to disk under a `pending!` marker.
 */
export class Upload implements HistoryUpload {
  parts = 0
  size = 0
  /** The parts while held in memory; null once they are on disk. */
  private memory: Uint8Array[] | null = []
  private memoryBytes = 0
  private spilling: Promise<void> = Promise.resolve()
  private finished = false
  private readonly hasher: Hash = createHash('sha256')
  /** For a snapshot: the bytes it frees once stored (the old snapshot and the entries it covers), read once. */
  private frees: Promise<number> | null = null

  constructor(
    private readonly store: HistoryStore,
    readonly docId: string,
    readonly account: string,
    readonly uploader: string,
    readonly covers: number | null,
    readonly key: string
  ) {}

  /** @internal the parts for the commit batch, or null when they are on disk already. */
  get buffered(): readonly Uint8Array[] | null {
    return this.memory
  }

  async addPart(chunk: Uint8Array): Promise<void> {
    if (this.size + chunk.byteLength > this.store.options.maxBlobBytes) {
      throw new BlobTooLargeError(`blob for ${this.docId} exceeds ${this.store.options.maxBlobBytes} bytes`)
    }
    const meta = await this.store.meta(this.docId)
    const charged = meta?.account ?? this.account
    // a snapshot is charged what it adds beyond what it frees: an account at its quota can still compact
    this.frees ??= this.covers === null || meta === null ? Promise.resolve(0) : this.bytesFreed(meta, this.covers)
    if ((await this.store.usage(charged)) + this.size + chunk.byteLength - (await this.frees) > this.store.options.accountQuotaBytes) {
      throw new QuotaExceededError(`account ${charged} is over its quota of ${this.store.options.accountQuotaBytes} bytes`)
    }
    // aborted meanwhile (its stream closed): nothing more may be stored for it
    if (this.finished) throw new Error(`upload ${this.key} is closed`)
    this.hasher.update(chunk)
    const n = this.parts++
    this.size += chunk.byteLength
    if (this.memory !== null && this.size <= this.store.bufferLimit && this.store.uploadBudget.tryTake(chunk.byteLength)) {
      this.memory.push(owned(chunk))
      this.memoryBytes += chunk.byteLength
      return
    }
    const chunks = this.memory ?? []
    chunks.push(chunk)
    const spillFrom = this.memory === null ? n : 0
    this.release()
    this.memory = null // from here on abort must delete parts on disk
    this.spilling = this.store.writeParts(this.key, spillFrom, chunks)
    await this.spilling
  }

  /** What storing this snapshot drops: the held snapshot and the log entries up to `covers` (by their cumulative sizes). */
  private async bytesFreed(meta: DocMeta, covers: number): Promise<number> {
    const old = meta.snapshot
    if (old !== null && covers <= old.covers) return 0 // stale: it will not be stored
    const [last] = await this.store.entriesAfter(this.docId, covers - 1, 1)
    if (last === undefined || last.seq !== covers) return 0 // not a valid snapshot: commit refuses it
    return (old?.size ?? 0) + last.cum - (old?.cumAtCovers ?? 0)
  }

  commit(): Promise<CommitResult> {
    this.finished = true
    return this.covers === null ? this.store.commitAppend(this, this.hasher.digest('hex')) : this.store.commitSnapshot(this, this.covers)
  }

  async abort(): Promise<void> {
    this.finished = true
    await this.spilling.catch(() => {}) // a part being written must not land after its delete
    await this.store.dropUpload(this)
  }

  /** @internal gives the buffered bytes back to the relay-wide budget (once their batch is written). */
  release(): void {
    this.store.uploadBudget.give(this.memoryBytes)
    this.memoryBytes = 0
  }
}

/** A frame's chunk may be a view into a larger network buffer: holding it would pin all of that. */
const owned = (chunk: Uint8Array): Uint8Array => (chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice())
