import { chatDocId, chatIdOfDoc, segmentDocId } from '@tandem/protocol'
import { InvalidArgumentError, UnknownChatError } from '../errors.js'
import type { EngineEvent } from '../events.js'
import type { Message } from '../model/message.js'
import type { Runtime, TimerHandle } from '../runtime.js'
import type { IndexStore } from './index-store.js'
import { type IndexedMessage, MessageIndex } from './message-index.js'
import type { MessageSource } from './message-source.js'

/**
 * Messages indexed per turn of the event loop before the index hands it back. MiniSearch
 * adds a message in ~20–45 µs here (100,000 in 2.0–4.4 s, load average 5–7), so a turn is
 * ≲ 12 ms: a send waiting behind it waits about as long as for one fsync.
 */
export const INDEX_SLICE = 256
/**
 * The index is saved once nothing changed for this long (and at stop). Saving 10⁵ messages
 * serializes ~22 MB of JSON in one go (0.6–1.7 s): done when the device is quiet, never on
 * the way of a burst. Between saves, the store's marks say which docs a restart re-reads.
 */
export const SAVE_QUIET_MS = 10_000
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
 * backfill, a segment from disk) is read whole, from disk when it is not in memory. The
 * index is saved in the device's store when quiet and at stop, and loaded at start; what
 * changed after the last save is marked in the store and read again (IndexStore). With no
 * saved index (a first start, a crash before any save, a new format) it is rebuilt from
 * every chat and segment doc on disk, newest segments first. Queries wait until the index
 * has caught up with every change made before them.
 */
export class SearchService {
  private index: MessageIndex | null = null
  private ready: Promise<void> | null = null
  /** Docs to read whole (marked at the last stop, or all of them for a rebuild, or changed in bulk). */
  private readonly docsToRead = new Set<string>()
  /** Docs whose messages came in bulk (`messages` events): read if they changed since the index was saved. */
  private readonly bulk = new Set<string>()
  /** Docs changed since the index was saved (this run). */
  private readonly touched = new Set<string>()
  /** Docs that could not be read (their chat doc not open yet): their marks stay, and they are read when they open. */
  private readonly unreadable = new Set<string>()
  private readonly pending = new Map<string, Pending>()
  private working: Promise<void> | null = null
  /** The index in memory differs from the saved one. */
  private changed = false
  private save: { timer: TimerHandle; lastChange: number } | null = null
  private closed = false

  constructor(
    private readonly store: IndexStore,
    private readonly source: MessageSource,
    private readonly runtime: Pick<Runtime, 'now' | 'setTimeout' | 'clearTimeout' | 'defer'>,
    private readonly onError: (err: unknown) => void
  ) {}

  /** Loads the saved index (or starts rebuilding it) in the background; events before this are kept for it. */
  open(): void {
    this.ready ??= this.load()
      .catch(err => {
        // (the store closed under the load, or could not be read: an empty index, rebuilt from what can be read)
        if (!this.closed) this.onError(err)
        this.index ??= MessageIndex.empty()
      })
      .then(() => {
        this.kick()
      })
  }

  /** A chat or segment doc is about to change on disk: marked first (see IndexStore). Called before the doc's write is queued. */
  docChanged(docId: string): void {
    if (this.closed || chatIdOfDoc(docId) === null) return
    this.touched.add(docId)
    this.store.mark(docId)
    this.saveWhenQuiet()
  }

  /** The engine's events: what changed in which chat. */
  observe(event: EngineEvent): void {
    if (this.closed) return
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

  /** Messages in the index (once it is loaded). */
  async size(): Promise<number> {
    await this.caughtUp()
    return this.index!.size
  }

  /** Resolves once the index holds every change made before the call. */
  async caughtUp(): Promise<void> {
    this.open()
    await this.ready
    while (this.working !== null || this.hasWork()) {
      this.kick()
      await this.working
    }
  }

  /**
   * At stop: the index is saved if it has caught up with little left to do; a rebuild still
   * under way is left (its marks, or the absence of a saved index, make the next start finish it).
   */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.save !== null) this.runtime.clearTimeout(this.save.timer)
    this.save = null
    const finishing = this.index !== null && this.docsToRead.size === 0
    try {
      if (finishing) await this.checkpoint()
    } catch (err) {
      this.onError(err)
    }
    this.closed = true
    await this.working
  }

  /** Stops at once, saving nothing (the store is being erased). */
  abandon(): void {
    this.closed = true
    if (this.save !== null) this.runtime.clearTimeout(this.save.timer)
    this.save = null
  }

  private async load(): Promise<void> {
    const saved = await this.store.load()
    let index: MessageIndex | null = null
    if (saved.bytes !== null) {
      try {
        index = await MessageIndex.fromBytes(saved.bytes)
      } catch {
        // another format or unreadable: rebuilt below
      }
    }
    if (index === null) {
      index = MessageIndex.empty()
      this.changed = true
      for (const docId of newestFirst(this.source.keptDocs())) this.docsToRead.add(docId)
    }
    for (const docId of saved.dirty) this.docsToRead.add(docId)
    this.index = index
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
      for (const docId of this.bulk) if (this.touched.has(docId) || this.unreadable.has(docId)) this.docsToRead.add(docId)
      this.bulk.clear()
      const docId = first(this.docsToRead)
      if (docId !== undefined) {
        this.docsToRead.delete(docId)
        await this.readDoc(docId)
      } else await this.applyPending()
    }
  }

  private async readDoc(docId: string): Promise<void> {
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
    for (let i = 0; i < got.messages.length; i += INDEX_SLICE) {
      if (i > 0) await this.turn()
      for (const m of got.messages.slice(i, i + INDEX_SLICE)) this.index!.put(m)
    }
    for (const id of got.deleted) this.index!.remove(got.chatId, id)
    this.indexChanged()
  }

  private async applyPending(): Promise<void> {
    const slice: Pending[] = []
    for (const [key, p] of this.pending) {
      this.pending.delete(key)
      slice.push(p)
      if (slice.length >= INDEX_SLICE) break
    }
    for (const p of slice) {
      if (p.what === 'delete') this.index!.remove(p.chatId, p.id)
      else if (p.what === 'refresh') {
        const m = await this.source.message(p.chatId, p.id)
        if (m === null) this.index!.remove(p.chatId, p.id)
        else this.index!.put(m)
      } else this.index!.put(p.what)
    }
    this.indexChanged()
  }

  private indexChanged(): void {
    this.changed = true
    this.saveWhenQuiet()
  }

  /** A save once nothing changed for SAVE_QUIET_MS. */
  private saveWhenQuiet(): void {
    const now = this.runtime.now()
    if (this.save !== null) {
      this.save.lastChange = now
      return
    }
    const fire = (): void => {
      const save = this.save
      if (save === null) return
      const quietFor = this.runtime.now() - save.lastChange
      if (quietFor < SAVE_QUIET_MS || this.working !== null || this.hasWork()) {
        save.timer = this.runtime.setTimeout(fire, Math.max(SAVE_QUIET_MS - quietFor, 1_000))
        return
      }
      this.save = null
      this.checkpoint().catch(err => {
        this.onError(err)
      })
    }
    this.save = { lastChange: now, timer: this.runtime.setTimeout(fire, SAVE_QUIET_MS) }
  }

  /** Saves the index once it holds every change so far, and clears the marks of what it covers (one batch). */
  private async checkpoint(): Promise<void> {
    for (let tries = 0; tries < 8; tries++) {
      await this.caughtUp()
      if (this.changed) await this.index!.compact()
      // (from here to the write, synchronous: no change can come between what is saved and the marks cleared)
      if (this.working !== null || this.hasWork()) continue
      const bytes = this.changed ? this.index!.toBytes() : null
      this.changed = false
      this.touched.clear()
      await this.store.save(bytes, this.unreadable)
      return
    }
    this.saveWhenQuiet() // busy all along: later
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
