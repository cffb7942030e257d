import { chatDocId, segmentDocId } from '@tandem/protocol'
import { EngineStateError, InvalidArgumentError, UnknownChatError, UnknownMessageError } from '../errors.js'
import type { SentTracker } from '../delivery/sent-tracker.js'
import type { HybridLogicalClock } from '../hlc.js'
import type { ClockFloor } from './clock-floor.js'
import type { AccountDoc, ChatEntry } from '../model/account-doc.js'
import type { MessageLog } from '../model/message-log.js'
import { compareMessages, MAX_MESSAGE_TEXT, type Message, type MessageRecord } from '../model/message.js'
import type { Runtime } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import { BurstBatcher } from '../util/burst-batcher.js'
import { toHex } from '../util/hex.js'
import { messageIdOf, segmentOfMessage, type ChatView } from './chat-view.js'
import type { ChatViews } from './chat-views.js'
import type { SegmentLoader } from './segment-loader.js'
import type { HiddenMessages } from './hidden-messages.js'

/** What the chat service reads of the account it works for. */
export interface ChatAccount {
  /** The account's chain (its id is what chats record as author), or a typed error if this device has none yet. */
  chain(): { readonly accountId: string }
  /** The account doc, or a typed error while it is not open. */
  doc(): AccountDoc
  /** The account doc if it is open. */
  docIfOpen(): AccountDoc | null
}

/** Which messages `listMessages` returns: the newest `limit`, the `limit` before a message, or the `limit` after one. */
export interface MessagePage {
  limit?: number
  /** A message id: only messages displayed before it. */
  before?: string
  /** A message id: only messages displayed after it (with `limit`, the first `limit` of them). */
  after?: string
}

/** What else a message says besides its text. */
export interface SendOptions {
  /** The id of a message of the same chat this one replies to. */
  replyTo?: string
}

/** A reaction is one emoji (or a short code for one): up to this many bytes, no spaces. */
export const MAX_REACTION_BYTES = 32

const utf8 = new TextEncoder()

/**
 * Chats and their messages: creating and listing chats; sending (stamped with the hybrid
 * logical clock, a burst in one transaction, into the chat's newest segment), editing,
 * reacting to and deleting messages (each in the segment that holds the message); listing
 * messages in display order, a page at a time, loading older segments as asked.
 */
export class ChatService {
  /**
   * Per segment doc, the first message after a quiet spell is appended at once (latency);
   * the rest of its burst at the end of the burst, in one transaction: a transaction per
   * message cost more than the message itself.
   */
  private readonly appends: BurstBatcher<string, MessageRecord>
  /** Messages counted into a segment doc and not appended yet (reserved, or waiting in `appends`): they count towards its size. */
  private readonly queued = new Map<string, number>()
  /** Messages this account deleted for itself (set once wired): listing and reading skip them. */
  hidden: HiddenMessages | null = null

  /** A chat between accounts: the version of its membership record held here (recorded in each message written; see MessageRecord.members). */
  membershipVersion: (chatId: string) => number | null = () => null

  constructor(
    private readonly docs: DocHost,
    private readonly views: ChatViews,
    private readonly loader: SegmentLoader,
    private readonly account: ChatAccount,
    private readonly sent: SentTracker,
    private readonly runtime: Runtime,
    private readonly hlc: HybridLogicalClock,
    /** Awaited before every tick of `hlc` (see ClockFloor). */
    private readonly clockFloor: ClockFloor,
    private readonly peerId: string,
    /** Transaction origin of changes made through the API. */
    private readonly local: unknown
  ) {
    this.appends = new BurstBatcher(
      fn => {
        runtime.defer(fn)
      },
      {
        now: (docId, record) => {
          this.appendAll(docId, [record])
        },
        end: (docId, records) => {
          if (records.length > 0) this.appendAll(docId, records)
        }
      }
    )
  }

  async createChat(init: { title: string }): Promise<ChatEntry> {
    const account = this.account.doc()
    if (typeof init?.title !== 'string') throw new InvalidArgumentError('chat title must be a string')
    if (init.title.length > 256) throw new InvalidArgumentError('chat title is longer than 256 characters')
    const chatId = toHex(this.runtime.randomBytes(12))
    const doc = await this.docs.open(chatDocId(chatId))
    const now = this.runtime.now()
    const view = this.views.get(chatId)!
    const createdBy = this.account.chain().accountId
    doc.transact(() => {
      view.doc.setMeta({ title: init.title, createdAt: now, createdBy })
    }, this.local)
    account.doc.transact(() => {
      account.addChat({ chatId, title: init.title, createdAt: now, archived: false, muted: false, pinned: false })
    }, this.local)
    await Promise.all([this.docs.committed(doc), this.docs.committed(account.doc)])
    return account.getChat(chatId)!
  }

  /** The account doc's chat entries (search and export read which chats there are). */
  listChats(): ChatEntry[] {
    return this.account.doc().listChats()
  }

  async updateChat(chatId: string, patch: Partial<Pick<ChatEntry, 'title' | 'archived' | 'muted' | 'pinned'>>): Promise<ChatEntry> {
    const account = this.account.doc()
    let ok = false
    account.doc.transact(() => {
      ok = account.updateChat(chatId, patch)
    }, this.local)
    if (!ok) throw new UnknownChatError(chatId)
    await this.docs.committed(account.doc)
    return account.getChat(chatId)!
  }

  /** Sends a message; resolves once it is stored on this device's disk. */
  async sendMessage(chatId: string, body: string, options: SendOptions = {}): Promise<Message> {
    const account = this.account.chain()
    checkText(body)
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('send options are an object: { replyTo? }')
    const { replyTo } = options
    if (replyTo !== undefined && typeof replyTo !== 'string') throw new InvalidArgumentError('replyTo must be a message id')
    if (replyTo !== undefined) await this.message(chatId, replyTo)
    const view = await this.open(chatId)
    const segment = await this.writingSegment(view)
    const docId = segmentDocId(chatId, segment)
    await this.clockFloor.cover(() => this.views.observePending())
    const log = view.logs.get(segment)!
    let ts = this.hlc.tick()
    let id = messageIdOf(segment, ts, this.peerId)
    // unique per device as long as its clock only moves forward; after a restart on a clock set
    // back, an id this device used may come again: the segment it writes in is loaded, so it
    // is seen there (bounded: each tick moves the counter on)
    for (let i = 0; i < 64 && log.record(id) !== null; i++) {
      ts = this.hlc.tick()
      id = messageIdOf(segment, ts, this.peerId)
    }
    const record: MessageRecord = {
      id,
      author: account.accountId,
      device: this.peerId,
      text: body,
      wall: ts.wall,
      counter: ts.counter,
      ...(replyTo === undefined ? {} : { replyTo })
    }
    const members = this.membershipVersion(chatId)
    if (members !== null) record.members = members
    this.sent.track(docId, record.id)
    if (!this.appends.add(docId, record)) await this.appends.ended(docId)
    await this.docs.committed(log.doc)
    return this.views.shown(view, record)
  }

  /** Edits a message of this account: the latest edit (by the clock) is the text every device shows. */
  async editMessage(chatId: string, messageId: string, text: string): Promise<Message> {
    checkText(text)
    const { view, log, record } = await this.ownMessage(chatId, messageId, 'edit')
    await this.clockFloor.cover(() => {})
    const at = this.hlc.tick()
    log.doc.transact(() => {
      log.annotations.edit(messageId, this.peerId, text, at)
    }, this.local)
    await this.docs.committed(log.doc)
    return this.views.shown(view, record)
  }

  /** Adds (`on`, the default) or removes this account's `emoji` on a message. */
  async react(chatId: string, messageId: string, emoji: string, on = true): Promise<Message> {
    if (typeof emoji !== 'string' || emoji.length === 0 || /\s/.test(emoji) || utf8.encode(emoji).byteLength > MAX_REACTION_BYTES)
      throw new InvalidArgumentError(`a reaction is one emoji: a non-empty string without spaces of at most ${MAX_REACTION_BYTES} bytes`)
    if (typeof on !== 'boolean') throw new InvalidArgumentError('on must be a boolean')
    const { view, log, record } = await this.message(chatId, messageId)
    log.doc.transact(() => {
      log.annotations.react(messageId, this.account.chain().accountId, emoji, on)
    }, this.local)
    await this.docs.committed(log.doc)
    return this.views.shown(view, record)
  }

  /** Deletes a message of this account for everyone: its text leaves the doc on every device. */
  async deleteMessage(chatId: string, messageId: string): Promise<void> {
    const { log } = await this.ownMessage(chatId, messageId, 'delete')
    log.doc.transact(() => {
      log.annotations.remove(messageId)
    }, this.local)
    await this.docs.committed(log.doc)
  }

  /** One message as shown now, or an UnknownMessageError (deleted for everyone, or for this account). */
  async getMessage(chatId: string, messageId: string): Promise<Message> {
    const { view, record } = await this.message(chatId, messageId)
    if (this.hidden?.isHidden(chatId, messageId) === true) throw new UnknownMessageError(chatId, messageId)
    return this.views.shown(view, record)
  }

  /** Deletes a message for this account only: hidden on every device of the account, kept for the other members. */
  async deleteForMe(chatId: string, messageId: string): Promise<void> {
    await this.message(chatId, messageId)
    const account = this.account.doc()
    account.doc.transact(() => {
      this.hidden?.hide(account, chatId, messageId)
    }, this.local)
    await this.docs.committed(account.doc)
  }

  /**
   * A chat's loaded messages in display order (the same on every device): the newest
   * `limit`, or the `limit` before message `before`. Older segments come with `loadMessages`.
   */
  listMessages(chatId: string, page: MessagePage = {}): Message[] {
    checkPage(page)
    const view = this.views.get(chatId)
    if (view === undefined) {
      // listed in the account but its doc is still being opened: nothing to show yet
      if (this.account.docIfOpen()?.getChat(chatId) != null) return []
      throw new UnknownChatError(chatId)
    }
    const ordered = view.ordered()
    const at = (id: string): number => {
      const i = ordered.findLastIndex(m => m.id === id)
      if (i < 0) throw new UnknownMessageError(chatId, id)
      return i
    }
    const start = page.after === undefined ? 0 : at(page.after) + 1
    const end = page.before === undefined ? ordered.length : at(page.before)
    const hidden = this.hidden?.anyIn(chatId) === true ? this.hidden : null
    const limit = page.limit ?? Number.POSITIVE_INFINITY
    const picked: MessageRecord[] = []
    // `after` alone pages forward from it; otherwise the page ends at `before` (or the newest)
    const forward = page.after !== undefined && page.before === undefined
    for (let i = forward ? start : end - 1; forward ? i < end : i >= start; forward ? i++ : i--) {
      if (picked.length >= limit) break
      const m = ordered[i]!
      if (hidden?.isHidden(chatId, m.id) !== true) picked.push(m)
    }
    if (!forward) picked.reverse()
    return picked.map(m => this.views.shown(view, m))
  }

  /**
   * Like `listMessages`, loading older segments (from disk, or from a relay) until the page
   * is full or the chat's first message is in: what a person scrolling back asks for.
   */
  async loadMessages(chatId: string, page: MessagePage & { limit: number }): Promise<Message[]> {
    checkPage(page)
    if (page.limit === undefined) throw new InvalidArgumentError('loadMessages needs a limit')
    const view = await this.open(chatId)
    // paging forward from a message: older segments hold nothing after it
    if (page.after !== undefined && page.before === undefined) return this.listMessages(chatId, page)
    for (;;) {
      const shown = this.listMessages(chatId, page)
      if (shown.length >= page.limit || !(await this.loader.loadOlder(view))) return shown
    }
  }

  /** Opens every open chat's newest segments from disk (at start: shown before any relay is reached). */
  async openStoredSegments(): Promise<void> {
    for (const view of [...this.views.all()]) await this.loader.openStored(view)
  }

  /** Every message of the chat in display order, reading each of its segments in turn (ChatView.has: every one `messageCount` counts). */
  async allMessages(chatId: string): Promise<Message[]> {
    const view = await this.open(chatId)
    const all: Message[] = []
    const records: Array<[MessageRecord, Message]> = []
    for (let n = 0; n <= view.highestSegment(); n++) {
      if (!view.has(n)) continue // (named nowhere, held nowhere: opened, it would be made)
      if (n > 0) await this.loader.read(view, n)
      const log = await this.segment(view, n)
      for (const r of log.records()) records.push([r, this.views.shown(view, r)])
    }
    records.sort(([a], [b]) => compareMessages(a, b))
    for (const [, m] of records) all.push(m)
    return all
  }

  /** Messages wait to be appended to this segment doc (it must stay in memory). */
  hasQueued(docId: string): boolean {
    return this.queued.has(docId)
  }

  messageCount(chatId: string): number {
    const view = this.views.get(chatId)
    if (view === undefined) {
      if (this.account.docIfOpen()?.getChat(chatId) != null) return 0
      throw new UnknownChatError(chatId)
    }
    return view.size
  }

  /**
   * The segment a new message goes to, counted there at once (so concurrent sends fill it to
   * exactly a segment's worth): the newest, or a new one once the newest holds a segment's
   * worth. A send that finds another one started a newer segment meanwhile joins it.
   */
  private async writingSegment(view: ChatView): Promise<number> {
    for (let tries = 0; tries < 64; tries++) {
      const n = view.doc.newestSegment()
      if (n >= 1) {
        const log = await this.segment(view, n)
        if (n !== view.doc.newestSegment()) continue
        const docId = segmentDocId(view.chatId, n)
        const queued = this.queued.get(docId) ?? 0
        if (log.size + queued < this.loader.segmentMessages) {
          this.queued.set(docId, queued + 1)
          return n
        }
      }
      view.doc.doc.transact(() => {
        view.doc.startSegment(n + 1, this.runtime.now())
      }, this.local)
    }
    throw new EngineStateError(`chat ${view.chatId}: no segment to write in after 64 tries`)
  }

  /** A loaded segment's log (opened from disk if it is not in memory). */
  private async segment(view: ChatView, n: number): Promise<MessageLog> {
    for (let tries = 0; tries < 3; tries++) {
      const log = view.logs.get(n)
      if (log !== undefined) return log
      await this.docs.open(n === 0 ? chatDocId(view.chatId) : segmentDocId(view.chatId, n))
    }
    throw new UnknownChatError(view.chatId)
  }

  private async message(chatId: string, messageId: string): Promise<{ view: ChatView; log: MessageLog; record: MessageRecord }> {
    if (typeof messageId !== 'string') throw new InvalidArgumentError('message id must be a string')
    const view = await this.open(chatId)
    const n = segmentOfMessage(messageId)
    if (!view.has(n)) throw new UnknownMessageError(chatId, messageId)
    const log = await this.segment(view, n)
    const record = log.record(messageId)
    if (record === null) throw new UnknownMessageError(chatId, messageId)
    return { view, log, record }
  }

  private async ownMessage(chatId: string, messageId: string, what: string): Promise<{ view: ChatView; log: MessageLog; record: MessageRecord }> {
    const found = await this.message(chatId, messageId)
    if (found.record.author !== this.account.chain().accountId) throw new InvalidArgumentError(`only its author may ${what} message ${messageId}`)
    return found
  }

  /** One transaction, one update, one log entry for all of `records` (one segment's). */
  private appendAll(docId: string, records: MessageRecord[]): void {
    const left = (this.queued.get(docId) ?? 0) - records.length
    if (left > 0) this.queued.set(docId, left)
    else this.queued.delete(docId)
    const log = this.views.log(docId)
    if (log === undefined) {
      // (the loader keeps segments with queued messages: only a chat erased meanwhile gets here)
      void this.docs.open(docId).then(() => {
        this.appendAll(docId, records)
      })
      return
    }
    log.doc.transact(() => {
      for (const r of records) log.append(r)
    }, this.local)
  }

  private async open(chatId: string): Promise<ChatView> {
    const view = this.views.get(chatId)
    if (view !== undefined) return view
    if (this.account.docIfOpen()?.getChat(chatId) == null) throw new UnknownChatError(chatId)
    await this.docs.open(chatDocId(chatId))
    return this.views.get(chatId)!
  }
}

function checkText(text: unknown): asserts text is string {
  if (typeof text !== 'string' || text.length === 0) throw new InvalidArgumentError('message text is empty')
  if (text.length * 3 > MAX_MESSAGE_TEXT && utf8.encode(text).byteLength > MAX_MESSAGE_TEXT) throw new InvalidArgumentError(`message text is longer than ${MAX_MESSAGE_TEXT} bytes`)
}

function checkPage(page: MessagePage): void {
  if (typeof page !== 'object' || page === null) throw new InvalidArgumentError('a page is an object: { limit?, before?, after? }')
  if (page.limit !== undefined && (!Number.isSafeInteger(page.limit) || page.limit < 0)) throw new InvalidArgumentError('limit must be a whole number ≥ 0')
  if (page.before !== undefined && typeof page.before !== 'string') throw new InvalidArgumentError('before must be a message id')
  if (page.after !== undefined && typeof page.after !== 'string') throw new InvalidArgumentError('after must be a message id')
}
