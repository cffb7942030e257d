import { chatDocId, parseDocId, segmentDocId } from '@tandem/protocol'
import type * as Y from 'yjs'
import type { EventHub } from '../core/event-hub.js'
import type { LogLookup, SentTracker } from '../delivery/sent-tracker.js'
import type { HybridLogicalClock, Hlc } from '../hlc.js'
import { ChatDoc } from '../model/chat-doc.js'
import { MessageLog } from '../model/message-log.js'
import { toMessage, type Message, type MessageRecord, type MessageStatus, type ReplyPreview } from '../model/message.js'
import type { MessageReceipt } from '../receipts/message-receipts.js'
import type { Runtime } from '../runtime.js'
import { ChatView, LEGACY_SEGMENT, segmentOfMessage } from './chat-view.js'
import type { SegmentCounts } from './segment-counts.js'
import type { SegmentLoader } from './segment-loader.js'

/**
 * The chats in memory: a ChatView per open chat doc, each segment doc attached to its chat's
 * view as it opens and detached as it leaves memory, and the `message` / `messages` /
 * `message-changed` events for what changes in them, from here or from other devices.
 */
export class ChatViews implements LogLookup {
  private readonly views = new Map<string, ChatView>()
  /** Segments that opened before their chat doc (a peer's update, a relay's blob): attached when it opens. */
  private readonly early = new Map<string, Array<[number, Y.Doc]>>()
  /** Delivered and read (the ReceiptService sets it): a message's status and receipts from its base status. */
  receipts: { of(chatId: string, m: MessageRecord, base: MessageStatus): { status: MessageStatus; receipts: MessageReceipt[] } } | null = null
  /** Messages this account deleted for itself (the HiddenMessages sets it). */
  hiddenFor: ((chatId: string, messageId: string) => boolean) | null = null
  /** Newest clocks of bulk adds (a backfill) not yet observed: read when idle, or before our next stamp. */
  private readonly clocksPending: Array<() => Hlc | null> = []

  constructor(
    private readonly loader: SegmentLoader,
    private readonly counts: SegmentCounts,
    /** Whether a doc is in this device's store. */
    private readonly stored: (docId: string) => boolean,
    private readonly sent: SentTracker,
    private readonly events: EventHub,
    private readonly hlc: HybridLogicalClock,
    private readonly runtime: Pick<Runtime, 'defer'>,
    /** Transaction origin of changes made through the API. */
    private readonly local: unknown
  ) {}

  get(chatId: string): ChatView | undefined {
    return this.views.get(chatId)
  }

  /** Every chat in memory. */
  all(): Iterable<ChatView> {
    return this.views.values()
  }

  /** A chat doc or a segment doc opened. False for any other doc. */
  attach(docId: string, doc: Y.Doc): boolean {
    const ref = parseDocId(docId)
    if (ref?.kind === 'chat') {
      this.attachChat(ref.chatId, doc)
      return true
    }
    if (ref?.kind !== 'segment') return false
    const view = this.views.get(ref.chatId)
    if (view === undefined) {
      const early = this.early.get(ref.chatId) ?? []
      early.push([ref.index, doc])
      this.early.set(ref.chatId, early)
    } else this.attachSegment(view, ref.index, doc)
    return true
  }

  /** A segment doc left memory. */
  detach(docId: string): void {
    const ref = parseDocId(docId)
    if (ref?.kind !== 'segment') return
    const count = this.views.get(ref.chatId)?.detach(ref.index)
    if (count !== undefined) this.counts.save(docId, count)
    const early = this.early.get(ref.chatId)
    if (early !== undefined)
      this.early.set(
        ref.chatId,
        early.filter(([n]) => n !== ref.index)
      )
  }

  log(docId: string): MessageLog | undefined {
    const ref = parseDocId(docId)
    if (ref === null || ref.kind === 'account') return undefined
    return this.views.get(ref.chatId)?.logs.get(ref.kind === 'chat' ? LEGACY_SEGMENT : ref.index)
  }

  *openLogs(): Iterable<[string, MessageLog]> {
    for (const view of this.views.values()) for (const [n, log] of view.logs) yield [n === LEGACY_SEGMENT ? chatDocId(view.chatId) : segmentDocId(view.chatId, n), log]
  }

  /** A message as the API shows it. */
  shown(view: ChatView, m: MessageRecord): Message {
    const log = view.logOf(m.id)
    const docId = segmentDocOf(view.chatId, m.id)
    const base = log === undefined ? 'pending' : this.sent.statusOf(docId, log, m.id)
    const { status, receipts } = this.receipts?.of(view.chatId, m, base) ?? { status: base, receipts: [] }
    const reply = m.replyTo === undefined ? null : this.replyPreview(view, m.replyTo)
    if (log === undefined) return toMessage(view.chatId, m, status, null, [], receipts, reply)
    return toMessage(view.chatId, m, status, log.annotations.editOf(m.id), log.annotations.reactionsOf(m.id), receipts, reply)
  }

  /** What a reply shows of the message it answers: deleted (for everyone, or for this account), its text, or only its id while its segment is not in memory. */
  private replyPreview(view: ChatView, id: string): ReplyPreview {
    if (this.hiddenFor?.(view.chatId, id) === true) return { id, deleted: true }
    const log = view.logOf(id)
    if (log === undefined) return { id, deleted: false }
    if (log.annotations.isDeleted(id)) return { id, deleted: true }
    const r = log.record(id)
    if (r === null) return { id, deleted: false }
    return { id, deleted: false, author: r.author, text: log.annotations.editOf(id)?.text ?? r.text }
  }

  /** Observes every clock a backfill brought (before our next stamp). */
  observePending(): void {
    for (const newest of this.clocksPending.splice(0)) {
      const clock = newest()
      if (clock !== null) this.hlc.observe(clock)
    }
  }

  private attachChat(chatId: string, doc: Y.Doc): void {
    const view = new ChatView(chatId, new ChatDoc(doc))
    this.views.set(chatId, view)
    // a chat from before segments: its messages are in the chat doc itself
    this.attachLog(view, LEGACY_SEGMENT, doc)
    for (const [n, d] of this.early.get(chatId) ?? []) this.attachSegment(view, n, d)
    this.early.delete(chatId)
    // the segments on disk count as they did when they last left memory
    for (let n = 1; n <= view.doc.newestSegment(); n++) {
      const docId = segmentDocId(chatId, n)
      const count = this.counts.get(docId)
      if (count !== undefined && this.stored(docId)) view.countUnloaded(n, count)
    }
    view.doc.segments.observe(() => {
      this.loader.indexChanged(view)
    })
    queueMicrotask(() => {
      this.events.emit({ type: 'chats' })
    }) // its messages can be listed now
    this.loader.indexChanged(view)
  }

  private attachSegment(view: ChatView, n: number, doc: Y.Doc): void {
    const log = this.attachLog(view, n, doc)
    if (log.size > 0) this.nameInIndex(view, n)
    this.sent.logOpened(segmentDocId(view.chatId, n), log)
    this.loader.segmentOpened(view, n)
    if (log.size > 0) this.events.emit({ type: 'messages', chatId: view.chatId, count: log.size, origin: 'remote', segment: n })
  }

  private attachLog(view: ChatView, n: number, doc: Y.Doc): MessageLog {
    const chatId = view.chatId
    const log: MessageLog = new MessageLog(doc, this.local, {
      added: (added, txOrigin) => {
        const origin = txOrigin === this.local ? 'local' : 'remote'
        if (view.logs.get(n) !== log) return
        if (n !== LEGACY_SEGMENT) this.nameInIndex(view, n)
        view.added(n, added.records)
        if (origin === 'remote' && added.newest !== null) this.hlc.observe(added.newest)
        if (origin === 'remote' && added.newestLater !== undefined) this.observeLater(added.newestLater)
        if (added.records === null) {
          this.events.emit({ type: 'messages', chatId, count: added.count, origin: 'remote', segment: n })
          return
        }
        for (const m of added.records) {
          const message = this.shown(view, m)
          this.events.emit({ type: 'message', chatId, message, origin })
        }
      },
      changed: (ids, change, txOrigin) => {
        if (view.logs.get(n) !== log) return
        if (change === 'deleted') view.invalidate()
        this.events.emit({ type: 'message-changed', chatId, messageIds: [...ids], change, origin: txOrigin === this.local ? 'local' : 'remote' })
      }
    })
    view.attach(n, log)
    for (const m of log.records()) this.hlc.observe(m)
    return log
  }

  /**
   * A segment with messages that the chat's index does not name yet is named there. The
   * writer names a segment before its first message, but the two are different docs: when
   * the index entry never reached a relay (its writer revoked and erased before uploading it,
   * the relay refusing it) while the messages did, a new device following the index would
   * never fetch them (the simulator, seed 20261554). Any device holding them names it.
   */
  private nameInIndex(view: ChatView, n: number): void {
    if (n <= view.doc.newestSegment() && view.doc.segments.has(String(n))) return
    this.runtime.defer(() => {
      view.doc.doc.transact(() => {
        view.doc.startSegment(n, 0)
      }, this.local)
    })
  }

  /** A backfill's newest clock is observed once the work at hand is done (or first thing when we next stamp). */
  private observeLater(newest: () => Hlc | null): void {
    this.clocksPending.push(newest)
    if (this.clocksPending.length === 1)
      this.runtime.defer(() => {
        this.observePending()
      })
  }
}

/** The doc a message is stored in. */
export function segmentDocOf(chatId: string, messageId: string): string {
  const n = segmentOfMessage(messageId)
  return n === LEGACY_SEGMENT ? chatDocId(chatId) : segmentDocId(chatId, n)
}
