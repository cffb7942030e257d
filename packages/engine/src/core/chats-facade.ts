import type { ChatService, MessagePage, SendOptions } from '../chat/chat-service.js'
import type { ChatList, ChatListEntry } from '../chat-list/chat-list.js'
import type { PresenceService } from '../presence/presence-service.js'
import type { PresenceEntry } from '../presence/chat-awareness.js'
import type { ReceiptService } from '../receipts/receipt-service.js'
import type { ChatEntry } from '../model/account-doc.js'
import type { Message } from '../model/message.js'
import { PeopleFacade } from './people-facade.js'
import type { ExportNames } from '../export/chat-export.js'
import { exportChat, type ExportOptions } from '../export/export-chat.js'
import type { SearchOptions, SearchService } from '../search/search-service.js'
import type { SharedChats } from '../people/shared-chats.js'

/**
 * The Engine's chats and messages, each call checked against a stopped engine and handed to
 * the ChatService: its own file so the Engine facade stays a map of the API, not its whole text.
 */
export abstract class ChatsFacade extends PeopleFacade {
  protected abstract readonly chats: ChatService
  protected abstract readonly receipts: ReceiptService
  protected abstract readonly chatList: ChatList
  protected abstract readonly presenceService: PresenceService
  protected abstract override ensureOpen(): void
  protected abstract readonly search: SearchService
  /** Chats between accounts: one this account was removed from is read-only (ERR_NOT_A_MEMBER). */
  protected abstract readonly shared: Pick<SharedChats, 'checkWritable'>
  /** Who the names in an export are (the account's profile, its devices) and the time now. */
  protected abstract exportContext(): { names: ExportNames; now: number }

  // ── chats and messages ───────────────────────────────────────────────────

  async createChat(init: { title: string }): Promise<ChatEntry> {
    this.ensureOpen()
    return await this.chats.createChat(init)
  }

  /** The chat list, the same on every device of the account: each chat's settings, draft, last message and unread count. */
  listChats(): ChatListEntry[] {
    this.ensureOpen()
    return this.chatList.list()
  }

  /** Keeps what was typed in a chat and not sent (every device of the account shows it); '' clears it. */
  async setDraft(chatId: string, text: string): Promise<void> {
    this.ensureOpen()
    await this.chatList.setDraft(chatId, text)
  }

  async updateChat(chatId: string, patch: Partial<Pick<ChatEntry, 'title' | 'archived' | 'muted' | 'pinned'>>): Promise<ChatEntry> {
    this.ensureOpen()
    return await this.chats.updateChat(chatId, patch)
  }

  /**
   * Sends a message (`replyTo`: the id of a message it answers); resolves once it is stored on
   * this device's disk. ERR_NOT_A_MEMBER in a chat this account was removed from (so are edits,
   * reactions and deletes there: the chat is read-only).
   */
  async sendMessage(chatId: string, body: string, options: SendOptions = {}): Promise<Message> {
    this.ensureOpen()
    this.shared.checkWritable(chatId)
    return await this.chats.sendMessage(chatId, body, options)
  }

  /**
   * A chat's messages in memory, in display order (the same on every device): the newest
   * `limit`, the `limit` before message `before`, or the first `limit` after message `after`. A long chat keeps its newest segments
   * in memory; `loadMessages` brings older ones.
   */
  listMessages(chatId: string, page: MessagePage = {}): Message[] {
    this.ensureOpen()
    return this.chats.listMessages(chatId, page)
  }

  /** A page of messages like `listMessages`, loading older segments (from disk or a relay) until it is full: scrolling back. */
  async loadMessages(chatId: string, page: MessagePage & { limit: number }): Promise<Message[]> {
    this.ensureOpen()
    return await this.chats.loadMessages(chatId, page)
  }

  /**
   * Every message of the chat in display order, each segment read in turn (from disk, or from
   * a relay if it never came): for exports and checks, not for screens (a long chat's every
   * message at once).
   */
  async allMessages(chatId: string): Promise<Message[]> {
    this.ensureOpen()
    return await this.chats.allMessages(chatId)
  }

  /** One message as shown now (its latest edit, its reactions); ERR_UNKNOWN_MESSAGE if the chat has none with this id. */
  async getMessage(chatId: string, messageId: string): Promise<Message> {
    this.ensureOpen()
    return await this.chats.getMessage(chatId, messageId)
  }

  /** Edits a message this account sent; every device shows the latest edit, marked edited. */
  async editMessage(chatId: string, messageId: string, text: string): Promise<Message> {
    this.ensureOpen()
    this.shared.checkWritable(chatId)
    return await this.chats.editMessage(chatId, messageId, text)
  }

  /** Adds (or, with `on` false, removes) this account's reaction to a message: one of each emoji per account. */
  async react(chatId: string, messageId: string, emoji: string, on = true): Promise<Message> {
    this.ensureOpen()
    this.shared.checkWritable(chatId)
    return await this.chats.react(chatId, messageId, emoji, on)
  }

  /** Deletes a message this account sent, for everyone: its text leaves the chat on every device. */
  async deleteMessage(chatId: string, messageId: string): Promise<void> {
    this.ensureOpen()
    this.shared.checkWritable(chatId)
    await this.chats.deleteMessage(chatId, messageId)
  }

  /**
   * This account read the chat up to `messageId` (and every message before it in display
   * order): the read watermark moves there on every device of the account (never back), the
   * unread count follows, and the authors see their messages `read`.
   */
  async markRead(chatId: string, messageId: string): Promise<void> {
    this.ensureOpen()
    // (allowed in a chat this account was removed from: the unread count clears on its own devices)
    await this.receipts.markRead(chatId, messageId)
  }

  /** Deletes a message for this account only: gone from every device of the account, kept for the other members. */
  async deleteForMe(chatId: string, messageId: string): Promise<void> {
    this.ensureOpen()
    await this.chats.deleteForMe(chatId, messageId)
  }

  // ── typing and presence (ephemeral: never stored) ────────────────────────

  /**
   * This device types in the chat (call it as keys are pressed; it runs out 6 s after the
   * last call) or stopped (`false`). The chat's other devices get `typing` events; one that
   * vanishes stops showing as typing within about 6 s.
   */
  setTyping(chatId: string, on: boolean): void {
    this.ensureOpen()
    this.presenceService.setTyping(chatId, on)
  }

  /** This device shows the chat now (`true`: its person is there) or no longer: the chat's other devices get `presence` events. */
  setPresent(chatId: string, on: boolean): void {
    this.ensureOpen()
    this.presenceService.setPresent(chatId, on)
  }

  /** The other devices heard from in a chat since start: online (showing it) now and typing, or when they were last seen. */
  presence(chatId: string): PresenceEntry[] {
    this.ensureOpen()
    return this.presenceService.presence(chatId)
  }

  /**
   * Messages holding every word of `query` (case-insensitive, each word as a prefix: "hel"
   * finds "hello"), newest first, in every chat or only `chatId`'s; at most `limit` (default
   * 50). The first call builds the index from the store (~3 s for 100,000 messages); from
   * then on it follows every message sent here or arriving from other devices, edits and
   * deletions, including segments that are not in memory. A query waits for what came before it.
   */
  async searchMessages(query: string, options: SearchOptions = {}): Promise<Message[]> {
    this.ensureOpen()
    return await this.search.search(query, options)
  }

  /**
   * A chat's every message in display order, with authors (account id and profile name when
   * known), devices, ISO times, texts, edited marks and reactions: as JSON text (`ChatExport`)
   * or as one readable, self-contained HTML page (`format: 'html'`).
   */
  async exportChat(chatId: string, options: ExportOptions): Promise<string> {
    this.ensureOpen()
    return await exportChat(this.chats, chatId, options, this.exportContext())
  }

  messageCount(chatId: string): number {
    this.ensureOpen()
    return this.chats.messageCount(chatId)
  }
}
