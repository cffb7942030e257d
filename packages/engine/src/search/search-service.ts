import { chatDocId, segmentDocId } from '@tandem/protocol'
import { InvalidArgumentError, UnknownChatError } from '../errors.js'
import type { EngineEvent } from '../events.js'
import type { Message } from '../model/message.js'
import type { Runtime } from '../runtime.js'
import { type IndexedMessage, MessageIndex } from './message-index.js'
import type { MessageSource } from './message-source.js'

/**
 * Messages indexed per turn of the event loop before the index hands it back, at most: a turn
 * also ends after SLICE_MS on the runtime's clock. MiniSearch adds a message in 20–45 µs on an
 * idle core here (133 µs at load average 8 on 2 cores), so a count alone made turns of 35 ms
 * and more on a busy machine: the clock bounds them there (a simulator's clock does not move
 * within a turn, so the count still does).
 */
export const INDEX_SLICE = 256
export const SLICE_MS = 8
export const DEFAULT_SEARCH_LIMIT = 50
export const MAX_SEARCH_LIMIT = 1_000
export const MAX_QUERY_LENGTH = 1_024

export interface SearchOptions {
  /** Only this chat's messages (default: every chat). */
  chatId?: string
  /** At most this many messages (default 50, at most 1,000). */
  limit?: number
}

/** What is to be done to one message: put with this text, read again (edited), or taken out (deleted for everyone). */
type Pending = { chatId: string; id: string; what: IndexedMessage | 'refresh' | 'delete' }

/**
 * Full-text search over this device's history, kept up to date as messages come and change:
 * the `message`, `messages` and `message-changed` events are queued and indexed in slices
 * off the hot path (a send never waits for the index); a doc that arrived in bulk (a
 * backfill, a segment fetched or read from disk) is read whole, from disk when it is not in
 * memory. The index lives in memory. It is built at the first query, from every chat and
 * segment doc in the store (newest segments first, in slices), and followed from then on: a
 * device that never searches pays nothing (MiniSearch adds a message in 20–45 µs, as much as
 * a send costs at full throughput), and one that does pays the build once per start. It is
 * not saved: measured at 100,000 messages (bench section `search`), building it from the
 * store took 3.0 s and loading a saved MiniSearch index 2.5 s without holding the event loop
 * (0.9 s holding it), for 27.7 MiB in the store and 0.9 s of JSON serialization on the main
 * thread at every save. Queries wait until the index has caught up with every
 * change made before them.
 */
export class SearchService {
  private index: MessageIndex | null = null
  private ready: Promise<void> | null = null
  /** Docs to read whole (all of them at start, then those whose messages came in bulk). */
  private readonly docsToRead = new Set<string>()
  /** Docs whose messages came in bulk (`messages` events), read once the work at hand is done. */
  private readonly bulk = new Set<string>()
  /** Docs read whole since start: a `messages` event for one again is a segment opened from disk (unchanged) or new messages in bulk. */
  private readonly read = new Set<string>()
  /** Docs read before and changed since. */
  private readonly changed = new Set<string>()
  /** Docs that could not be read (their chat doc not open yet): read when they open. */
  private readonly unreadable = new Set<string>()
  private readonly pending = new Map<string, Pending>()
  private working: Promise<void> | null = null
  private closed = false

  constructor(
    private readonly source: MessageSource,
    private readonly runtime: Pick<Runtime, 'defer' | 'now'>,
    private readonly onError: (err: unknown) => void
  ) {}

  /** Builds the index from the store (at the first query) and follows every change from then on. */
  open(): void {
    this.ready ??= this.turn().then(() => {
      this.index = MessageIndex.empty()
      for (const docId of newestFirst(this.source.keptDocs())) this.docsToRead.add(docId)
      this.kick()
    })
  }

  /** A chat or segment doc changed (DocHost's update listener): a bulk add to it is read again, even if it was read before. */
  docChanged(docId: string): void {
    if (this.read.has(docId)) this.changed.add(docId) // (nothing is read before the first query)
  }

  /** The engine's events: what changed in which chat. */
  observe(event: EngineEvent): void {
    if (this.closed || this.ready === null) return // (no query yet: the build at the first one reads it all)
    switch (event.type) {
      case 'message': {
        const m = event.message
        this.queue({ chatId: event.chatId, id: m.id, what: { id: m.id, chatId: event.chatId, text: m.text, wall: m.timestamp.wall, counter: m.timestamp.counter } })
        break
      }
      case 'message-changed':
        if (event.change === 'reactions') return
        for (const id of event.messageIds) this.queue({ chatId: event.chatId, id, what: event.change === 'deleted' ? 'delete' : 'refresh' })
        break
      case 'messages':
        this.bulk.add(event.segment === 0 ? chatDocId(event.chatId) : segmentDocId(event.chatId, event.segment))
        break
      default:
        return
    }
    this.kick()
  }

  /** Messages holding every word of `query` (each as a prefix, case-insensitive), newest first, as the API shows them now. */
  async search(query: string, options: SearchOptions = {}): Promise<Message[]> {
    if (typeof query !== 'string') throw new InvalidArgumentError('a search query is a string')
    if (query.length > MAX_QUERY_LENGTH) throw new InvalidArgumentError(`a search query is at most ${MAX_QUERY_LENGTH} characters`)
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('search options are an object: { chatId?, limit? }')
    const { chatId, limit = DEFAULT_SEARCH_LIMIT } = options
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) throw new InvalidArgumentError(`limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}`)
    if (chatId !== undefined) {
      if (typeof chatId !== 'string') throw new InvalidArgumentError('chatId must be a chat id')
      if (!this.source.hasChat(chatId)) throw new UnknownChatError(chatId)
    }
    if (query.trim() === '') return []
    await this.caughtUp()
    const out: Message[] = []
    for (const hit of this.index!.search(query, limit, chatId)) {
      const m = await this.source.shown(hit.chatId, hit.id)
      if (m !== null) out.push(m)
    }
    return out
  }

  /** Resolves once the index holds every change made before the call (at start: once it is built). */
  async caughtUp(): Promise<void> {
    this.open()
    await this.ready
    while (!this.closed && (this.index === null || this.working !== null || this.hasWork())) {
      this.kick()
      await (this.working ?? this.turn())
    }
  }

  /** At stop (or erase): what is under way ends after its current step, nothing more is read. */
  async close(): Promise<void> {
    this.closed = true
    await this.working
  }

  private queue(p: Pending): void {
    const key = `${p.chatId}/${p.id}`
    // an edit after an add is a read again; a deletion wins over both
    if (this.pending.get(key)?.what === 'delete') return
    this.pending.delete(key) // (re-inserted: the map keeps the order changes came in)
    this.pending.set(key, p)
  }

  private hasWork(): boolean {
    return this.docsToRead.size > 0 || this.bulk.size > 0 || this.pending.size > 0
  }

  private kick(): void {
    if (this.working !== null || this.closed || this.ready === null) return
    this.working = this.work()
      .catch(err => {
        this.onError(err)
      })
      .finally(() => {
        this.working = null
        if (this.hasWork() && !this.closed) this.kick()
      })
  }

  private async work(): Promise<void> {
    await this.ready
    while (!this.closed && this.hasWork()) {
      await this.turn() // off the hot path: after the write that told us, and between slices
      // (a segment opened again from disk, unchanged since it was read, is not read again)
      for (const docId of this.bulk) if (!this.read.has(docId) || this.changed.has(docId) || this.unreadable.has(docId)) this.docsToRead.add(docId)
      this.bulk.clear()
      const docId = first(this.docsToRead)
      if (docId !== undefined) {
        this.docsToRead.delete(docId)
        await this.readDoc(docId)
      } else await this.applyPending()
    }
  }

  private async readDoc(docId: string): Promise<void> {
    // (marked read before the read: a change from here on makes a later bulk add read it again)
    this.read.add(docId)
    this.changed.delete(docId)
    let got: Awaited<ReturnType<MessageSource['readDoc']>>
    try {
      got = await this.source.readDoc(docId)
    } catch (err) {
      if (!this.closed) this.onError(err)
      got = null
    }
    if (got === null) {
      this.unreadable.add(docId)
      return
    }
    this.unreadable.delete(docId)
    let i = 0
    while (i < got.messages.length) {
      if (i > 0) await this.turn()
      const until = this.runtime.now() + SLICE_MS
      const end = Math.min(got.messages.length, i + INDEX_SLICE)
      while (i < end && (i % 16 !== 0 || this.runtime.now() < until)) this.index!.put(got.messages[i++]!)
    }
    for (const id of got.deleted) this.index!.remove(got.chatId, id)
  }

  private async applyPending(): Promise<void> {
    const slice: Pending[] = []
    for (const [key, p] of this.pending) {
      this.pending.delete(key)
      slice.push(p)
      if (slice.length >= INDEX_SLICE / 4) break // (a refresh may read a segment from disk: smaller slices)
    }
    for (const p of slice) {
      if (p.what === 'delete') this.index!.remove(p.chatId, p.id)
      else if (p.what === 'refresh') {
        const m = await this.source.message(p.chatId, p.id)
        if (m === null) this.index!.remove(p.chatId, p.id)
        else this.index!.put(m)
      } else this.index!.put(p.what)
    }
    await this.index!.sweep()
  }

  private turn(): Promise<void> {
    return new Promise(resolve => {
      this.runtime.defer(resolve)
    })
  }
}

const first = <T>(set: Set<T>): T | undefined => {
  for (const x of set) return x
  return undefined
}

/** Chat docs first (small), then each chat's segments from the newest: the messages a person looks for first are found first. */
function newestFirst(docIds: string[]): string[] {
  const segment = (id: string): number => {
    const n = Number(id.slice(id.lastIndexOf(':') + 1))
    return id.split(':').length === 3 && Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY
  }
  return [...docIds].sort((a, b) => segment(b) - segment(a))
}
