import { InvalidArgumentError } from '../errors.js'
import type { ChatViews } from '../chat/chat-views.js'
import { segmentOfMessage } from '../chat/chat-view.js'
import type { EventHub } from '../core/event-hub.js'
import type { Message, MessageRecord, MessageStatus } from '../model/message.js'
import type { Runtime, TimerHandle } from '../runtime.js'
import type { ChatMembers } from './chat-members.js'
import { receiptsOf, type MessageReceipt } from './message-receipts.js'
import { comparePositions, laterOf, positionOf, type Position } from './position.js'
import { ReceiptBook, type WatermarkMove } from './receipt-book.js'
import type * as Y from 'yjs'

/** What the receipts read of the rest of the engine. */
export interface ReceiptHost {
  /** This account's id (null before it has one). */
  accountId(): string | null
  /** One message of a chat as shown now (typed errors for an unknown chat or message). */
  getMessage(chatId: string, messageId: string): Promise<Message>
  /** Resolves once the doc's changes so far are on disk. */
  committed(doc: Y.Doc): Promise<void>
  /** Whether this account's message has its `sent` (or `failed`) step still to be told (SentTracker). */
  awaitsStep(chatId: string, messageId: string): boolean
  /** A receipt of this account's message waits for its `sent` step (SentTracker.hurry). */
  receiptWaits(chatId: string, messageId: string): void
  /** Whether this device raises its account's delivered watermark at once (see {@link DELIVER_GRACE_MS}). */
  firstToDeliver(): boolean
}

/**
 * How long a device other than its account's first (the listed device with the lowest peer id)
 * waits before it raises the account's delivered watermark itself: the first device gets the
 * same messages at the same moment, and once its mark has come this one's write is not needed.
 * Every device writing its own was two writes a message in a 1:1 chat with a two-device account,
 * each sent to every device of both accounts, and 98 a message in a group of 50 accounts of two
 * devices (bench `group`). When the first device is away, the tick comes this much later.
 */
export const DELIVER_GRACE_MS = 2_500

/**
 * Delivered and read, per message and per member account (see ReceiptBook for where they
 * live). This device raises its account's delivered watermark as messages of other accounts
 * reach it — once per chat per burst of work, never per message: a backfill of 10⁵ messages
 * is one write. (Measured: 10,000 raises one transaction each made 10,000 updates, 630 KB to
 * persist, upload and fan out, 28 µs each; in bursts of 100, 100 updates and 6 KB. The doc
 * itself stays ~200 B either way: Yjs collects the overwritten values.) And its read watermark when the app says so (`markRead`). Every device of
 * every member sees the same watermarks, so the same statuses; a watermark that moves is a
 * `status` event naming the account and the loaded messages it covers now.
 */
export class ReceiptService {
  private readonly books = new Map<string, ReceiptBook>()
  /** Chats with messages of other accounts received in this burst: the newest one's position (null: find it in the chat). */
  private readonly toDeliver = new Map<string, Position | null>()
  private readonly moveListeners = new Set<(chatId: string, moves: WatermarkMove[]) => void>()
  /** Per chat, the position this device delivers once the grace is over, unless its account's first device did. */
  private readonly graced = new Map<string, { at: Position; timer: TimerHandle }>()

  constructor(
    private readonly views: ChatViews,
    private readonly members: ChatMembers,
    private readonly host: ReceiptHost,
    private readonly peerId: string,
    private readonly runtime: Pick<Runtime, 'defer' | 'setTimeout' | 'clearTimeout'>,
    private readonly events: EventHub,
    /** Transaction origin of changes made through the API. */
    private readonly local: unknown
  ) {
    views.receipts = { of: (chatId, m, base) => this.of(chatId, m, base) }
    events.subscribe(e => {
      if (e.type === 'message' && e.origin === 'remote')
        this.received(e.chatId, e.message.author, { wall: e.message.timestamp.wall, counter: e.message.timestamp.counter, id: e.message.id })
      else if (e.type === 'messages') this.received(e.chatId, null, null)
    })
  }

  /** A chat doc opened: its watermarks are read and watched. */
  attach(chatId: string, doc: Y.Doc): void {
    this.books.set(
      chatId,
      new ReceiptBook(
        doc,
        moves => {
          this.moved(chatId, moves)
        },
        () => this.host.committed(doc)
      )
    )
    // what this device holds already counts (a restart after a crash that lost the write)
    this.received(chatId, null, null)
  }

  /** Every watermark move, whoever's (the chat list follows this account's read watermark). */
  onMoved(listener: (chatId: string, moves: WatermarkMove[]) => void): void {
    this.moveListeners.add(listener)
  }

  book(chatId: string): ReceiptBook | undefined {
    return this.books.get(chatId)
  }

  /** A message's status and receipts for the chat's members (its base status from the outbox and relays). */
  of(chatId: string, m: MessageRecord, base: MessageStatus): { status: MessageStatus; receipts: MessageReceipt[] } {
    // (null: the record the author wrote it under has not reached this device; its status waits for it)
    return receiptsOf(this.books.get(chatId), this.members.of(chatId, m) ?? { members: [], removed: [] }, m, base, m.author === this.host.accountId())
  }

  /** This account has read the chat up to `messageId` (and everything before it in display order), on every device. */
  async markRead(chatId: string, messageId: string): Promise<void> {
    if (typeof chatId !== 'string') throw new InvalidArgumentError('chat id must be a string')
    if (typeof messageId !== 'string') throw new InvalidArgumentError('message id must be a string')
    const m = await this.host.getMessage(chatId, messageId)
    const book = this.books.get(chatId)
    const me = this.host.accountId()
    if (book === undefined || me === null) throw new InvalidArgumentError(`chat ${chatId} is not open`)
    const at: Position = { wall: m.timestamp.wall, counter: m.timestamp.counter, id: m.id }
    let wrote = false
    book.marks.doc!.transact(() => {
      wrote = book.raise('read', me, this.peerId, at)
    }, this.local)
    if (wrote) await this.host.committed(book.marks.doc!)
  }

  /** The account's read watermark in a chat (null: nothing read). */
  readMark(chatId: string, account: string): Position | null {
    return this.books.get(chatId)?.watermark('read', account) ?? null
  }

  private received(chatId: string, author: string | null, at: Position | null): void {
    const me = this.host.accountId()
    if (me === null || author === me) return
    // a chat of this account alone has nothing of another account to deliver: looking for one
    // merged and walked every loaded message at each burst of a history (2× the time of a 100k
    // history to a new device, bench (1))
    if (!this.members(chatId).some(a => a !== me)) return
    const first = this.toDeliver.size === 0
    if (!this.toDeliver.has(chatId)) this.toDeliver.set(chatId, at)
    else {
      const known = this.toDeliver.get(chatId)!
      this.toDeliver.set(chatId, known === null || at === null ? null : laterOf(known, at))
    }
    if (first)
      this.runtime.defer(() => {
        this.deliver()
      })
  }

  /** The end of a burst: one transaction per chat raises this device's delivered watermark to the newest message of another account it holds. */
  private deliver(): void {
    const me = this.host.accountId()
    const due = [...this.toDeliver]
    this.toDeliver.clear()
    if (me === null) return
    const first = this.host.firstToDeliver()
    for (const [chatId, known] of due) {
      const at = known ?? this.newestFromOthers(chatId, me)
      if (at === null) continue
      if (first) this.raiseDelivered(chatId, me, at)
      else this.deliverLater(chatId, at)
    }
  }

  private raiseDelivered(chatId: string, me: string, at: Position): void {
    const book = this.books.get(chatId)
    if (book === undefined) return
    // another device of the account got there first (its mark came back meanwhile): nothing to add
    const account = book.watermark('delivered', me)
    if (account !== null && comparePositions(account, at) >= 0) return
    book.marks.doc!.transact(() => {
      book.raise('delivered', me, this.peerId, at)
    }, this.local)
  }

  /** Raises this device's mark after {@link DELIVER_GRACE_MS}, unless the account's first device has by then. */
  private deliverLater(chatId: string, at: Position): void {
    const waiting = this.graced.get(chatId)
    if (waiting !== undefined) {
      if (comparePositions(at, waiting.at) > 0) waiting.at = at
      return
    }
    const entry = {
      at,
      timer: this.runtime.setTimeout(() => {
        this.graced.delete(chatId)
        const me = this.host.accountId()
        if (me !== null) this.raiseDelivered(chatId, me, entry.at)
      }, DELIVER_GRACE_MS)
    }
    this.graced.set(chatId, entry)
  }

  /** The engine stops: nothing is delivered later. */
  stop(): void {
    for (const { timer } of this.graced.values()) this.runtime.clearTimeout(timer)
    this.graced.clear()
  }

  private newestFromOthers(chatId: string, me: string): Position | null {
    const ordered = this.views.get(chatId)?.ordered() ?? []
    for (let i = ordered.length - 1; i >= 0; i--) if (ordered[i]!.author !== me) return positionOf(ordered[i]!)
    return null
  }

  /** Watermarks moved: each member account's move is a status event for the loaded messages it now covers (not its own). */
  private moved(chatId: string, moves: WatermarkMove[]): void {
    for (const l of this.moveListeners) l(chatId, moves)
    const members = this.members(chatId)
    const ordered = this.views.get(chatId)?.ordered() ?? []
    for (const move of moves) {
      if (!members.includes(move.account)) continue
      const messageIds: string[] = []
      for (let i = firstAfter(ordered, move.from); i < ordered.length; i++) {
        const m = ordered[i]!
        if (comparePositions(positionOf(m), move.to) > 0) break
        if (m.author === move.account) continue
        // ours, not told sent yet: its status moves only once a relay acks it (receiptsOf), so its receipts are told after that step (`stepped`)
        if (!this.host.awaitsStep(chatId, m.id)) messageIds.push(m.id)
        else this.host.receiptWaits(chatId, m.id)
      }
      if (messageIds.length === 0) continue
      this.events.emit({ type: 'status', chatId, messageIds, status: move.kind, account: move.account })
    }
  }

  /**
   * This account's messages took their `sent` (or `failed`) step: the receipts that came before
   * it are told now, after it, delivered before read, so every step is an event in order.
   */
  stepped(chatId: string, messageIds: readonly string[]): void {
    // Told from the watermarks as they are now (delivered before read), not from the moves held
    // back meanwhile: a watermark that covered a message before the message was in this device's
    // view (its receipt came first) moved no status here, and its delivered step was never told
    // (the author's other device showed delivered with no event for it, under load: 1 run in 4)
    // Each message looked up by its id: the display order, rebuilt after a backfill or a burst
    // from another device, decoded every record of its segments at every ack (a sixth of a
    // device's time through a 10,000 + 10,000 merge, bench `merge`, 2026-12-07).
    const view = this.views.get(chatId)
    const me = this.host.accountId()
    // receipts of our messages come from other accounts' watermarks: none in a chat of this account alone
    if (view === undefined || (this.books.get(chatId)?.accounts() ?? []).every(a => a === me)) return
    const delivered = new Map<string, string[]>()
    const read = new Map<string, string[]>()
    for (const id of new Set(messageIds)) {
      // (a listed message only, as the chat shows it: not one of a segment loaded below a gap)
      const m = view.shows(segmentOfMessage(id)) ? (view.logOf(id)?.record(id) ?? null) : null
      if (m === null) continue
      for (const r of this.of(chatId, m, 'sent').receipts) {
        addTo(delivered, r.account, m.id)
        if (r.status === 'read') addTo(read, r.account, m.id)
      }
    }
    for (const [status, byAccount] of [['delivered', delivered] as const, ['read', read] as const])
      for (const [account, ids] of byAccount) this.events.emit({ type: 'status', chatId, messageIds: ids, status, account })
  }
}

function addTo(map: Map<string, string[]>, key: string, id: string): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [id])
  else list.push(id)
}

/** The index of the first message after `from` in display order (0 when `from` is null). */
function firstAfter(ordered: readonly MessageRecord[], from: Position | null): number {
  if (from === null) return 0
  let lo = 0
  let hi = ordered.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (comparePositions(positionOf(ordered[mid]!), from) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
