import type { Hlc } from '../hlc.js'
import type { ChatDoc } from '../model/chat-doc.js'
import type { MessageLog } from '../model/message-log.js'
import { compareMessages, insertSorted, type MessageRecord } from '../model/message.js'

/** Segment 0 is the chat doc's own messages (a chat from before segments). */
export const LEGACY_SEGMENT = 0

/**
 * The segment a message id names: ids are `<segment>.<random hex>`; an id without a segment
 * (sent before segments) lives in the chat doc itself.
 */
/**
 * A new message's id: `<segment>.<wall><counter><device>`, the send time (base 36: the wall
 * clock 8 characters until 2059, the counter as long as it is) and the sending device's last
 * six peer-id characters (~35 bits of its key). Unique because a device's clock only moves
 * forward (ChatService checks the segment for a repeat after a clock set back) and two devices
 * differ in their tails. Twelve random bytes were 14 of the 62 bytes a message cost a history,
 * compressed (an id with a time and a repeated device compresses to ~2 bytes: bench/README.md).
 */
export function messageIdOf(segment: number, at: Hlc, peerId: string): string {
  return `${segment}.${at.wall.toString(36)}${at.counter.toString(36)}${peerId.slice(-6)}`
}

export function segmentOfMessage(id: string): number {
  const dot = id.indexOf('.')
  if (dot <= 0) return LEGACY_SEGMENT
  const n = Number(id.slice(0, dot))
  return Number.isSafeInteger(n) && n > 0 ? n : LEGACY_SEGMENT
}

/**
 * One chat as this device holds it in memory: its chat doc and the segments loaded now.
 * Lists the loaded messages in display order (the merge of each segment's own order, kept
 * up to date as messages come, rebuilt after a bulk add or a load or unload).
 */
export class ChatView {
  readonly logs = new Map<number, MessageLog>()
  /** Messages counted in segments that were unloaded (their counts when they left memory). */
  private readonly unloadedCounts = new Map<number, number>()
  private merged: MessageRecord[] | null = null

  constructor(
    readonly chatId: string,
    readonly doc: ChatDoc
  ) {}

  attach(segment: number, log: MessageLog): void {
    this.logs.set(segment, log)
    this.unloadedCounts.delete(segment)
    this.merged = null
  }

  /** Takes a segment out of the view; returns its message count as it left (undefined if it was not loaded). */
  detach(segment: number): number | undefined {
    const log = this.logs.get(segment)
    if (log === undefined) return undefined
    this.unloadedCounts.set(segment, log.size)
    this.logs.delete(segment)
    this.merged = null
    return log.size
  }

  /** A segment on disk, not loaded, held `count` messages when it last left memory. */
  countUnloaded(segment: number, count: number): void {
    if (!this.logs.has(segment)) this.unloadedCounts.set(segment, count)
  }

  /** The log a message lives in, if it is loaded. */
  logOf(messageId: string): MessageLog | undefined {
    return this.logs.get(segmentOfMessage(messageId))
  }

  /** Messages were added to a loaded segment: kept in the merged order if few, else rebuilt on the next read. */
  added(segment: number, records: readonly MessageRecord[] | null): void {
    if (this.merged === null || !this.shows(segment)) return
    if (records === null || records.length > this.merged.length / 8) {
      this.merged = null
      return
    }
    for (const m of records) insertSorted(this.merged, m)
  }

  /**
   * Whether a loaded segment's messages are listed: those of the unbroken run of loaded
   * segments down from the highest one loaded (and the chat doc's own, once the run reaches
   * segment 1). A segment loaded below a gap (opened again for an edit that came for it) is
   * in memory but not listed: a page never skips the messages of the segments between.
   */
  shows(segment: number): boolean {
    const window = this.window()
    return segment >= window.from || (segment === LEGACY_SEGMENT && window.from <= 1)
  }

  /** The lowest segment of the listed run (1 when it reaches the first; above the highest when none is loaded). */
  private window(): { from: number } {
    let top = 0
    for (const n of this.logs.keys()) if (n > top) top = n
    let from = top
    while (from > 1 && this.logs.has(from - 1)) from--
    return { from: top === 0 ? 1 : from }
  }

  /** Something other than an add changed the order (a deletion): rebuilt on the next read. */
  invalidate(): void {
    this.merged = null
  }

  /** The loaded messages in display order (a shared array: do not mutate). */
  ordered(): readonly MessageRecord[] {
    if (this.merged === null) {
      const all: MessageRecord[] = []
      for (const [n, log] of this.logs) if (this.shows(n)) for (const m of log.ordered()) all.push(m)
      // each segment's run is sorted already: the sort merges runs
      this.merged = all.sort(compareMessages)
    }
    return this.merged
  }

  /** Messages in every segment this device has held since start: loaded ones now, unloaded ones as they left. */
  get size(): number {
    let n = 0
    for (const log of this.logs.values()) n += log.size
    for (const c of this.unloadedCounts.values()) n += c
    return n
  }

  /**
   * Whether segment `n` is one of this chat's: the index names up to it, or this view counts
   * messages in it (loaded, or unloaded with a count). The index may name a segment nowhere for
   * a while though its messages are here: two devices that start it at once each set its key,
   * Yjs deletes one, and the deletion can come before the entry it kept, which waits pending
   * behind its device's earlier writes (ARCHITECTURE.md, "The index is a Y.Map…").
   */
  has(n: number): boolean {
    return n <= this.doc.newestSegment() || this.logs.has(n) || this.unloadedCounts.has(n)
  }

  /** The highest of this chat's segments (see {@link has}). */
  highestSegment(): number {
    let top = this.doc.newestSegment()
    for (const n of this.logs.keys()) if (n > top) top = n
    for (const n of this.unloadedCounts.keys()) if (n > top) top = n
    return top
  }

  isLoaded(segment: number): boolean {
    return this.logs.has(segment)
  }
}
