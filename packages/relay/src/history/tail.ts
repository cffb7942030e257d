import { ByteBudget } from './budget.js'
import type { LogEntry } from './records.js'

/** A committed entry with its blob's parts, served to live subscribers without a disk read. */
export interface CachedEntry {
  entry: LogEntry
  chunks: readonly Uint8Array[]
}

interface Item extends CachedEntry {
  docId: string
  bytes: number
}

interface DocTail {
  /** Contiguous seqs, oldest first. */
  items: Item[]
  /** Newest durable seq of the doc: every commit of this process moves it, cached or not. */
  end: number
}

/**
 * Per doc, the newest durable entries with their bytes (bounded per doc and
 * relay-wide, oldest evicted first). Only entries already on disk go in, so
 * a cursor taken from here never points past what survives a crash.
 */
export class RecentTail {
  private readonly docs = new Map<string, DocTail>()
  /** Every cached item, in the order it was added: the global eviction order. */
  private readonly order = new Set<Item>()
  private readonly budget: ByteBudget

  constructor(
    private readonly maxEntries: number,
    maxBytes: number
  ) {
    this.budget = new ByteBudget(maxBytes)
  }

  get bytes(): number {
    return this.budget.used
  }
  get entries(): number {
    return this.order.size
  }

  /** Entry `entry.seq` is durable; `chunks` null when its parts are only on disk. */
  add(docId: string, entry: LogEntry, chunks: readonly Uint8Array[] | null): void {
    const tail = this.docs.get(docId) ?? { items: [], end: 0 }
    this.docs.set(docId, tail)
    const bytes = chunks?.reduce((n, c) => n + c.byteLength, 0) ?? 0
    const follows = entry.seq === tail.end + 1
    if (entry.seq > tail.end) tail.end = entry.seq
    const cacheable = chunks !== null && bytes <= this.budget.limit
    // a gap (an uncached entry, a failed write) breaks the run: older items no longer lead to the end
    if (!follows || !cacheable) this.evictFirst(tail, tail.items.length)
    if (!cacheable || entry.seq !== tail.end) return
    while (!this.budget.tryTake(bytes)) this.evictOldest()
    const item: Item = { docId, entry, chunks, bytes }
    tail.items.push(item)
    this.order.add(item)
    if (tail.items.length > this.maxEntries) this.evictFirst(tail, 1)
  }

  /**
   * Up to `limit` cached entries after `after`; undefined when the cache does
   * not hold all of `after+1 …` (the caller reads the disk then). [] when nothing follows.
   */
  after(docId: string, after: number, limit: number): CachedEntry[] | undefined {
    const tail = this.docs.get(docId)
    if (tail === undefined) return undefined
    if (after >= tail.end) return []
    const first = tail.items[0]?.entry.seq
    if (first === undefined || first > after + 1) return undefined
    return tail.items.slice(after + 1 - first, after + 1 - first + limit)
  }

  /** A snapshot dropped the doc's entries up to `covers`. */
  dropThrough(docId: string, covers: number): void {
    const tail = this.docs.get(docId)
    if (tail === undefined) return
    const keep = tail.items.findIndex(i => i.entry.seq > covers)
    this.evictFirst(tail, keep < 0 ? tail.items.length : keep)
  }

  private evictOldest(): void {
    const oldest = this.order.values().next()
    if (oldest.done === true) throw new Error('tail budget accounting is off') // unreachable: bytes ≤ limit
    const tail = this.docs.get(oldest.value.docId)!
    this.evictFirst(tail, tail.items.indexOf(oldest.value) + 1)
  }

  /** Evicts the doc's `count` oldest items (a prefix, so the rest stays contiguous). */
  private evictFirst(tail: DocTail, count: number): void {
    for (const item of tail.items.splice(0, count)) {
      this.order.delete(item)
      this.budget.give(item.bytes)
    }
  }
}
