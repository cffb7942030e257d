import { type ChatHint, MAX_CHAT_HINTS } from '@tandem/protocol'
import { InvalidArgumentError, UnknownChatError } from '../errors.js'
import type { ChatViews } from '../chat/chat-views.js'
import type { HiddenMessages } from '../chat/hidden-messages.js'
import type { EventHub } from '../core/event-hub.js'
import type { AccountDoc, ChatEntry } from '../model/account-doc.js'
import { MAX_MESSAGE_TEXT, type Message } from '../model/message.js'
import { compareHlc, type Hlc } from '../hlc.js'
import { covers } from '../receipts/position.js'
import type { ReceiptService } from '../receipts/receipt-service.js'
import type { Runtime } from '../runtime.js'
import type * as Y from 'yjs'

/** A chat as the chat list shows it: the same on every device of the account. */
export interface ChatListEntry extends ChatEntry {
  /** The newest message this device holds (deleted ones and those deleted for this account left out), or null. */
  lastMessage: Message | null
  /** Messages of other accounts after this account's read watermark (of those in memory: a long chat's newest segments). */
  unreadCount: number
  /** The newest message this account has read (its read watermark, from any of its devices), or null. */
  readUpTo: string | null
  /** What was typed and not sent yet, on any device of the account ('' if nothing). */
  draft: string
}

/** What the chat list reads of the account. */
export interface ChatListAccount {
  accountId: string | null
  doc(): AccountDoc
  docIfOpen(): AccountDoc | null
  committed(doc: Y.Doc): Promise<void>
}

/**
 * The chat list: the account doc's entries (archived, muted, pinned, drafts: synced as the
 * account doc is) with what each chat's docs say now (last message, unread count from this
 * account's read watermark). A change to any of it is one `chats` event per burst naming
 * the chats whose summary moved (the account doc's own changes have theirs already).
 */
export class ChatList {
  private readonly dirty = new Set<string>()

  constructor(
    private readonly views: ChatViews,
    private readonly receipts: ReceiptService,
    private readonly hidden: HiddenMessages,
    private readonly account: ChatListAccount,
    private readonly runtime: Pick<Runtime, 'defer'>,
    private readonly events: EventHub,
    private readonly local: unknown
  ) {
    events.subscribe(e => {
      if (e.type === 'message' || e.type === 'messages' || e.type === 'message-changed') this.touched(e.chatId)
    })
    receipts.onMoved((chatId, moves) => {
      if (moves.some(m => m.kind === 'read' && m.account === this.account.accountId)) this.touched(chatId)
    })
  }

  list(): ChatListEntry[] {
    const account = this.account.doc()
    return account.listChats().map(entry => this.entry(account, entry))
  }

  /**
   * The chats a device this one links should open first (DeviceGrant.hints): the pinned ones,
   * then the rest by their newest message, at most MAX_CHAT_HINTS, archived ones left out; each
   * with its newest segment here.
   */
  hints(): ChatHint[] {
    const newest = (e: ChatListEntry): Hlc | null => e.lastMessage?.timestamp ?? null
    return this.list()
      .filter(e => !e.archived)
      .sort((a, b) => Number(b.pinned) - Number(a.pinned) || compareNewestFirst(newest(a), newest(b)))
      .slice(0, MAX_CHAT_HINTS)
      .map(e => ({ chatId: e.chatId, segment: this.views.get(e.chatId)?.highestSegment() ?? 0 }))
  }

  /** Sets (or, with '', clears) a chat's draft on every device of the account. */
  async setDraft(chatId: string, text: string): Promise<void> {
    if (typeof text !== 'string') throw new InvalidArgumentError('a draft is a string')
    if (text.length > MAX_MESSAGE_TEXT) throw new InvalidArgumentError(`a draft is at most ${MAX_MESSAGE_TEXT} characters`)
    const account = this.account.doc()
    let known = false
    account.doc.transact(() => {
      known = account.setDraft(chatId, text)
    }, this.local)
    if (!known) throw new UnknownChatError(chatId)
    await this.account.committed(account.doc)
  }

  private entry(account: AccountDoc, entry: ChatEntry): ChatListEntry {
    const chatId = entry.chatId
    const view = this.views.get(chatId)
    const me = this.account.accountId
    const read = me === null ? null : this.receipts.readMark(chatId, me)
    let lastMessage: Message | null = null
    let unreadCount = 0
    if (view !== undefined) {
      const ordered = view.ordered()
      const hides = this.hidden.anyIn(chatId)
      for (let i = ordered.length - 1; i >= 0; i--) {
        const m = ordered[i]!
        if (hides && this.hidden.isHidden(chatId, m.id)) continue
        lastMessage ??= this.views.shown(view, m)
        // display order: once the watermark covers one, it covers every one before it
        if (covers(read, m)) break
        if (m.author !== me) unreadCount++
      }
    }
    return { ...entry, lastMessage, unreadCount, readUpTo: read?.id ?? null, draft: account.draftOf(chatId) }
  }

  private touched(chatId: string): void {
    if (this.dirty.size === 0)
      this.runtime.defer(() => {
        const chatIds = [...this.dirty]
        this.dirty.clear()
        this.events.emit({ type: 'chats', chatIds })
      })
    this.dirty.add(chatId)
  }
}

/** Newer first; a chat with no message after every chat with one. */
function compareNewestFirst(a: Hlc | null, b: Hlc | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1
  return compareHlc(b, a)
}
