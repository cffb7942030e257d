import MiniSearch, { type Options, type SearchResult } from 'minisearch'

/** What the index keeps of a message: its words, and what orders and finds it again. */
export interface IndexedMessage {
  id: string
  chatId: string
  /** The text shown now (its latest edit). */
  text: string
  wall: number
  counter: number
}

/** A match: the message's chat and id, and its clock (for newest-first order). */
export interface IndexHit {
  chatId: string
  id: string
  wall: number
  counter: number
}

// Short field names: MiniSearch keeps them with every message's stored fields.
export const INDEX_OPTIONS: Options<IndexedDoc> = {
  idField: 'k',
  fields: ['t'],
  storeFields: ['c', 'w', 'n'],
  // edits and deletions discard entries; their terms are swept out by `sweep` (MiniSearch's own vacuum waits on timers of its own)
  autoVacuum: false
}

/** A message as MiniSearch holds it. `k` is `<chatId>/<messageId>`: message ids are random, but only unique within a chat. */
export interface IndexedDoc {
  k: string
  t: string
  c: string
  w: number
  n: number
}

/**
 * The full-text index of this device's messages, all chats in one (MiniSearch: see
 * ARCHITECTURE.md for why this package). Words are matched case-insensitively, each as a
 * prefix ("hel" finds "hello"), and a query's words must all be in a message. Kept up to date
 * one message at a time by the SearchService.
 */
export class MessageIndex {
  private constructor(private readonly index: MiniSearch<IndexedDoc>) {}

  static empty(): MessageIndex {
    return new MessageIndex(new MiniSearch(INDEX_OPTIONS))
  }

  /** Adds a message, or replaces what the index held for it (an edit: the old words stop matching). */
  put(m: IndexedMessage): void {
    const doc: IndexedDoc = { k: keyOf(m.chatId, m.id), t: m.text, c: m.chatId, w: m.wall, n: m.counter }
    if (this.index.has(doc.k)) this.index.replace(doc)
    else this.index.add(doc)
  }

  /** Takes a message out (deleted for everyone). */
  remove(chatId: string, id: string): void {
    const key = keyOf(chatId, id)
    if (this.index.has(key)) this.index.discard(key)
  }

  /** Messages holding every word of `query` (as prefixes), newest first (display order reversed), at most `limit`. */
  search(query: string, limit: number, chatId?: string): IndexHit[] {
    const results: SearchResult[] = this.index.search(query, {
      combineWith: 'AND',
      prefix: true,
      ...(chatId === undefined ? {} : { filter: (r: SearchResult) => r.c === chatId })
    })
    const hits: IndexHit[] = results.map(r => ({ chatId: r.c as string, id: String(r.id).slice((r.c as string).length + 1), wall: r.w as number, counter: r.n as number }))
    hits.sort((a, b) => b.wall - a.wall || b.counter - a.counter || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    return hits.slice(0, limit)
  }

  /**
   * Sweeps the terms of discarded messages (edited, deleted) out of the index once they are
   * ≥ 1,000 and ≥ 10 % of it, in one synchronous pass (its only wait is a settled promise).
   */
  async sweep(): Promise<void> {
    if (this.index.dirtCount >= 1_000 && this.index.dirtFactor >= 0.1) await this.index.vacuum({ batchSize: Number.POSITIVE_INFINITY })
  }
}

const keyOf = (chatId: string, id: string): string => `${chatId}/${id}`
