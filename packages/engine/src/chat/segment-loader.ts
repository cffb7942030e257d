import { chatDocId, segmentDocId } from '@tandem/protocol'
import { InvalidArgumentError } from '../errors.js'
import type { Runtime, TimerHandle } from '../runtime.js'
import type { ChatView } from './chat-view.js'

/**
 * Messages per segment doc. A new device shows a chat once its newest segment is in: at
 * ~60 B a message a full segment is ~60 KB sealed, opened and applied in well under the
 * 100 ms a first screen may take, and a chat of 10⁶ messages is a thousand docs (each a
 * subscription at the relay: a frame and a cursor) — see bench/README.md, issue 15.
 */
export const SEGMENT_MESSAGES = 1_000
/** Older segments a person scrolled to that stay in memory besides the newest two. */
export const VIEWED_SEGMENTS_KEPT = 4
/** A segment opened again by what arrived for it (an edit, a reaction) leaves memory this long after. */
export const UNLOAD_AFTER_MS = 10_000

/**
 * Older segments fetched at once once the newest is in. One at a time, a 1M-message history
 * came in 19.3 s against 8.2 s as one doc: each segment waited a round trip for its
 * subscription, then for its backfill, and the pipe idled in between (bench/README.md, issue 15).
 */
export const FETCH_WINDOW = 4

/** Which older segments a device fetches by itself: all of them, or only as the person scrolls (a metered network). */
export type HistoryFetch = 'all' | 'recent'

export interface SegmentOptions {
  /** Messages per segment (tests and the simulator use small ones). */
  segmentMessages?: number
  /** `recent`: only the newest two segments come by themselves, older ones as the person scrolls back. */
  history?: HistoryFetch
  /** False keeps every segment in memory once loaded (the simulator compares whole chats). */
  unload?: boolean
}

/** What the loader needs of the engine. */
export interface SegmentHost {
  open(docId: string): Promise<unknown>
  unload(docId: string): Promise<boolean>
  /** The doc is in this device's store. */
  isStored(docId: string): boolean
  /** The doc is in this device's store (fetched before) and its message count is known without reading it. */
  isCounted(docId: string): boolean
  /** Resolves once no relay is still bringing the doc (null: none is now). */
  settled(docId: string): Promise<void> | null
  /** Nothing of the doc waits to go to a relay or to be reported sent. */
  canUnload(docId: string): boolean
  progress(chatId: string, fetched: number, total: number): void
  error(err: unknown): void
}

interface ChatState {
  /** Segments a relay finished sending (or the store held), this run. */
  readonly fetched: Set<number>
  /** Older segments the person scrolled to, most recent last. */
  viewed: number[]
  fetching: boolean
  /** The index changed while a fetch was under way. */
  again: boolean
  /** A segment a grant named the chat's newest (SegmentLoader.hint): fetched at once, beside the chat doc. */
  hinted: number | null
  /** The last progress reported: segments fetched, of how many. */
  reported: number
  reportedOf: number
  sweep: TimerHandle | null
}

/**
 * Newest first: a chat's newest segment is opened (and so subscribed at the relays) before
 * any other; once a relay has sent what it holds of it, the next older one, and so on down
 * to the first, a few at a time (FETCH_WINDOW), newest first, so the relays' bandwidth goes to
 * the segments a person sees next. Segments nobody looks at leave memory (`unload`) once their writes are on disk and
 * at the relays; they stay known, so the relays keep them up to date on disk.
 */
export class SegmentLoader {
  readonly segmentMessages: number
  private readonly history: HistoryFetch
  private readonly unloads: boolean
  private readonly chats = new Map<string, ChatState>()
  private stopped = false

  constructor(
    private readonly host: SegmentHost,
    private readonly runtime: Pick<Runtime, 'setTimeout' | 'clearTimeout'>,
    options: SegmentOptions = {}
  ) {
    this.segmentMessages = options.segmentMessages ?? SEGMENT_MESSAGES
    if (!Number.isSafeInteger(this.segmentMessages) || this.segmentMessages < 1) throw new InvalidArgumentError('segments.segmentMessages must be a whole number ≥ 1')
    if (options.history !== undefined && options.history !== 'all' && options.history !== 'recent') throw new InvalidArgumentError("segments.history must be 'all' or 'recent'")
    this.history = options.history ?? 'all'
    this.unloads = options.unload ?? true
  }

  /**
   * Opens the chat's newest two segments from this device's store, if it holds them: what a
   * device shows the moment it opens, before any relay is reached.
   */
  async openStored(view: ChatView): Promise<void> {
    const newest = view.doc.newestSegment()
    for (const n of [newest, newest - 1]) {
      const docId = segmentDocId(view.chatId, n)
      if (n >= 1 && this.host.isStored(docId)) await this.host.open(docId)
    }
  }

  /**
   * A grant named `segment` the chat's newest (DeviceGrant.hints): once the chat is opened it
   * is fetched at once, beside the chat doc, not after the chat doc's index says so. Before
   * the chat is opened; the index still decides what comes next.
   */
  hint(chatId: string, segment: number): void {
    if (segment >= 1) this.state(chatId).hinted = segment
  }

  /** The chat's index changed (or the chat was just opened): bring what is missing, newest first. */
  indexChanged(view: ChatView): void {
    if (this.stopped) return
    const state = this.state(view.chatId)
    if (state.fetching) {
      state.again = true // (read when this fetch ends: the index may have grown past where it looked)
      return
    }
    state.fetching = true
    state.again = false
    void this.fetch(view, state)
      .catch(err => {
        if (!this.stopped) this.host.error(err)
      })
      .finally(() => {
        state.fetching = false
        if (state.again) this.indexChanged(view)
      })
  }

  /**
   * Loads the next older segment than the oldest one loaded (the person scrolls back): false
   * when there is none.
   */
  async loadOlder(view: ChatView): Promise<boolean> {
    const newest = view.doc.newestSegment()
    let n = newest
    while (n >= 1 && view.isLoaded(n)) n--
    // below the loaded run: the legacy messages of the chat doc are always loaded
    if (n < 1) return false
    await this.bring(view.chatId, n)
    const state = this.state(view.chatId)
    state.viewed = [...state.viewed.filter(v => v !== n), n]
    this.sweepSoon(view, 0)
    return true
  }

  /** Brings a segment into memory for one read, with what the relays hold of it (it leaves again later unless kept). */
  async read(view: ChatView, segment: number): Promise<void> {
    await this.bring(view.chatId, segment)
    if (!this.kept(view, segment)) this.sweepSoon(view, UNLOAD_AFTER_MS)
  }

  /** A segment opened for one background read (the search index's): it leaves memory now, unless kept or still being written. */
  async release(view: ChatView, segment: number): Promise<void> {
    if (!(await this.unloadIfIdle(view, segment))) this.sweepSoon(view, UNLOAD_AFTER_MS)
  }

  /** A segment was opened by something other than the loader (what arrived for it): it leaves memory after a while. */
  segmentOpened(view: ChatView, segment: number): void {
    if (!this.kept(view, segment)) this.sweepSoon(view, UNLOAD_AFTER_MS)
  }

  stop(): void {
    this.stopped = true
    for (const s of this.chats.values()) if (s.sweep !== null) this.runtime.clearTimeout(s.sweep)
  }

  private async fetch(view: ChatView, state: ChatState): Promise<void> {
    const running = new Map<number, Promise<void>>()
    const hinted = state.hinted
    state.hinted = null
    if (hinted !== null && !state.fetched.has(hinted)) this.start(view, state, hinted, running)
    // the index as the relays hold it, not the first part of it that came
    await this.host.settled(chatDocId(view.chatId))
    // the newest segment alone (the first screen gets the relays' whole bandwidth), then up to
    // FETCH_WINDOW at once, newest first; bounded: each turn starts or finishes one at least
    for (;;) {
      const newest = view.doc.newestSegment()
      if (this.stopped || newest < 1) break
      // the newest alone until it is in, beside any still coming (a hint a segment behind)
      const width = state.fetched.has(newest) ? FETCH_WINDOW : running.size + (running.has(newest) ? 0 : 1)
      while (running.size < width) {
        const next = this.nextToFetch(view, state, newest, running)
        if (next === null) break
        this.start(view, state, next, running)
      }
      if (running.size === 0) break
      await Promise.race(running.values())
    }
    await Promise.all(running.values())
  }

  private start(view: ChatView, state: ChatState, segment: number, running: Map<number, Promise<void>>): void {
    running.set(
      segment,
      this.fetchOne(view, state, segment).finally(() => {
        running.delete(segment)
      })
    )
  }

  /** Brings one segment in, lets it go again unless it is kept, and reports the progress. */
  private async fetchOne(view: ChatView, state: ChatState, segment: number): Promise<void> {
    await this.bring(view.chatId, segment)
    state.fetched.add(segment)
    if (!this.kept(view, segment) && !(await this.unloadIfIdle(view, segment))) this.sweepSoon(view, UNLOAD_AFTER_MS)
    if (this.stopped) return
    const newest = view.doc.newestSegment()
    const fetched = this.fetchedCount(view, state, newest)
    // (segments finishing together count once, and a count never goes back)
    if (fetched <= state.reported && newest === state.reportedOf) return
    state.reported = fetched
    state.reportedOf = newest
    this.host.progress(view.chatId, fetched, newest)
  }

  /** The newest segment not fetched yet: the newest two first, the rest only when fetching all history. */
  private nextToFetch(view: ChatView, state: ChatState, newest: number, running: ReadonlyMap<number, unknown>): number | null {
    const floor = this.history === 'all' ? 1 : Math.max(1, newest - 1)
    for (let n = newest; n >= floor; n--) {
      if (state.fetched.has(n) || running.has(n)) continue
      if (n < newest - 1 && this.host.isCounted(segmentDocId(view.chatId, n))) {
        state.fetched.add(n) // in the store: the relays' subscriptions bring what it lacks
        continue
      }
      return n
    }
    return null
  }

  private fetchedCount(view: ChatView, state: ChatState, newest: number): number {
    let n = 0
    for (let i = 1; i <= newest; i++) if (state.fetched.has(i) || this.host.isCounted(segmentDocId(view.chatId, i))) n++
    return n
  }

  /** Opens a segment and waits until no relay is still sending it. */
  private async bring(chatId: string, segment: number): Promise<void> {
    const docId = segmentDocId(chatId, segment)
    await this.host.open(docId)
    await this.host.settled(docId)
  }

  /** Kept in memory: the newest two segments, the ones scrolled to last, the legacy messages. */
  private kept(view: ChatView, segment: number): boolean {
    if (!this.unloads || segment < 1) return true
    const newest = view.doc.newestSegment()
    return segment >= newest - 1 || this.state(view.chatId).viewed.slice(-VIEWED_SEGMENTS_KEPT).includes(segment)
  }

  /** True once the segment is out of memory (or kept there on purpose). */
  private async unloadIfIdle(view: ChatView, segment: number): Promise<boolean> {
    const docId = segmentDocId(view.chatId, segment)
    if (this.kept(view, segment)) return true
    return this.host.canUnload(docId) && (await this.host.unload(docId))
  }

  private sweepSoon(view: ChatView, ms: number): void {
    const state = this.state(view.chatId)
    if (!this.unloads || state.sweep !== null || this.stopped) return
    state.sweep = this.runtime.setTimeout(() => {
      state.sweep = null
      const still: number[] = []
      for (const n of view.logs.keys()) if (!this.kept(view, n)) still.push(n)
      state.viewed = state.viewed.slice(-VIEWED_SEGMENTS_KEPT)
      void Promise.all(still.map(n => this.unloadIfIdle(view, n))).then(() => {
        // what could not go yet (writes on their way) is tried again later
        if ([...view.logs.keys()].some(n => !this.kept(view, n))) this.sweepSoon(view, UNLOAD_AFTER_MS)
      }, this.host.error)
    }, ms)
  }

  private state(chatId: string): ChatState {
    let s = this.chats.get(chatId)
    if (s === undefined) {
      s = { fetched: new Set(), viewed: [], fetching: false, again: false, hinted: null, reported: 0, reportedOf: 0, sweep: null }
      this.chats.set(chatId, s)
    }
    return s
  }
}
