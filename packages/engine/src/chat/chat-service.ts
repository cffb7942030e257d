import type * as Y from 'yjs'
import { InvalidArgumentError, UnknownChatError } from '../errors.js'
import type { EventHub } from '../core/event-hub.js'
import type { SentTracker } from '../delivery/sent-tracker.js'
import { HybridLogicalClock, type Hlc } from '../hlc.js'
import type { AccountDoc, ChatEntry } from '../model/account-doc.js'
import { ChatDoc, chatDocId } from '../model/chat-doc.js'
import { MAX_MESSAGE_TEXT, toMessage, type Message, type MessageRecord } from '../model/message.js'
import type { Runtime } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import { BurstBatcher } from '../util/burst-batcher.js'
import { toHex } from '../util/hex.js'

/** What the chat service reads of the account it works for. */
export interface ChatAccount {
  /** The account's chain (its id is what chats record as author), or a typed error if this device has none yet. */
  chain(): { readonly accountId: string }
  /** The account doc, or a typed error while it is not open. */
  doc(): AccountDoc
  /** The account doc if it is open. */
  docIfOpen(): AccountDoc | null
}

const utf8 = new TextEncoder()

/**
 * Chats and their messages: creating and listing chats, sending (stamped with the hybrid
 * logical clock, a burst in one transaction) and listing messages in display order, and
 * the `message`/`messages` events as chat docs change from here or from other devices.
 */
export class ChatService {
  private readonly chats = new Map<string, ChatDoc>()
  private readonly hlc: HybridLogicalClock
  /** Newest clocks of bulk adds (a backfill) not yet observed: read when idle, or before our next stamp. */
  private readonly clocksPending: Array<() => Hlc | null> = []
  /**
   * Per chat, the first message after a quiet spell is appended at once (latency); the rest
   * of its burst at the end of the burst, in one transaction: a transaction per message
   * cost more than the message itself.
   */
  private readonly appends: BurstBatcher<string, MessageRecord>

  constructor(
    private readonly docs: DocHost,
    private readonly account: ChatAccount,
    private readonly sent: SentTracker,
    private readonly events: EventHub,
    private readonly runtime: Runtime,
    private readonly peerId: string,
    /** Transaction origin of changes made through the API. */
    private readonly local: unknown
  ) {
    this.hlc = new HybridLogicalClock(runtime.now)
    this.appends = new BurstBatcher(
      fn => {
        runtime.defer(fn)
      },
      {
        now: (chatId, record) => {
          this.appendAll(chatId, [record])
        },
        end: (chatId, records) => {
          if (records.length > 0) this.appendAll(chatId, records)
        }
      }
    )
  }

  /** Every open chat doc, by chat id. */
  openChats(): Iterable<[string, ChatDoc]> {
    return this.chats.entries()
  }

  /** An open chat doc's typed view. */
  get(chatId: string): ChatDoc | undefined {
    return this.chats.get(chatId)
  }

  /** Wires a chat doc that just opened: its typed view, and events for what is added to it. */
  attach(chatId: string, doc: Y.Doc): void {
    const chat: ChatDoc = new ChatDoc(doc, this.local, (added, txOrigin) => {
      const origin = txOrigin === this.local ? 'local' : 'remote'
      if (origin === 'remote' && added.newest !== null) this.hlc.observe(added.newest)
      if (origin === 'remote' && added.newestLater !== undefined) this.observeLater(added.newestLater)
      if (added.records === null) {
        this.events.emit({ type: 'messages', chatId, count: added.count, origin: 'remote' })
        return
      }
      for (const m of added.records) {
        this.events.emit({ type: 'message', chatId, message: toMessage(chatId, m, this.sent.statusOf(chatId, chat, m.id)), origin })
      }
    })
    this.chats.set(chatId, chat)
    queueMicrotask(() => {
      this.events.emit({ type: 'chats' })
    }) // its messages can be listed now
    for (const m of chat.records()) this.hlc.observe(m)
  }

  async createChat(init: { title: string }): Promise<ChatEntry> {
    const account = this.account.doc()
    if (typeof init?.title !== 'string') throw new InvalidArgumentError('chat title must be a string')
    if (init.title.length > 256) throw new InvalidArgumentError('chat title is longer than 256 characters')
    const chatId = toHex(this.runtime.randomBytes(12))
    const doc = await this.docs.open(chatDocId(chatId))
    const now = this.runtime.now()
    const chat = this.chats.get(chatId)!
    const createdBy = this.account.chain().accountId
    doc.transact(() => {
      chat.setMeta({ title: init.title, createdAt: now, createdBy })
    }, this.local)
    account.doc.transact(() => {
      account.addChat({ chatId, title: init.title, createdAt: now, archived: false, muted: false, pinned: false })
    }, this.local)
    await Promise.all([this.docs.committed(doc), this.docs.committed(account.doc)])
    return account.getChat(chatId)!
  }

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
  async sendMessage(chatId: string, body: string): Promise<Message> {
    const account = this.account.chain()
    if (typeof body !== 'string' || body.length === 0) throw new InvalidArgumentError('message text is empty')
    if (body.length * 3 > MAX_MESSAGE_TEXT && utf8.encode(body).byteLength > MAX_MESSAGE_TEXT)
      throw new InvalidArgumentError(`message text is longer than ${MAX_MESSAGE_TEXT} bytes`)
    const chat = await this.open(chatId)
    this.observePending()
    const ts = this.hlc.tick()
    const record: MessageRecord = {
      id: toHex(this.runtime.randomBytes(12)),
      author: account.accountId,
      device: this.peerId,
      text: body,
      wall: ts.wall,
      counter: ts.counter
    }
    this.sent.track(chatId, record.id)
    if (!this.appends.add(chatId, record)) await this.appends.ended(chatId)
    await this.docs.committed(chat.doc)
    return toMessage(chatId, record, this.sent.statusOf(chatId, chat, record.id))
  }

  /** A chat's messages in display order (the same on every device); `limit` keeps the newest. */
  listMessages(chatId: string, options: { limit?: number } = {}): Message[] {
    const chat = this.chats.get(chatId)
    if (chat === undefined) {
      // listed in the account but its doc is still being opened: nothing to show yet
      if (this.account.docIfOpen()?.getChat(chatId) != null) return []
      throw new UnknownChatError(chatId)
    }
    const ordered = chat.ordered()
    const from = options.limit === undefined ? 0 : Math.max(0, ordered.length - options.limit)
    const out: Message[] = []
    for (let i = from; i < ordered.length; i++) out.push(toMessage(chatId, ordered[i]!, this.sent.statusOf(chatId, chat, ordered[i]!.id)))
    return out
  }

  messageCount(chatId: string): number {
    const chat = this.chats.get(chatId)
    if (chat === undefined) {
      if (this.account.docIfOpen()?.getChat(chatId) != null) return 0
      throw new UnknownChatError(chatId)
    }
    return chat.size
  }

  /** One transaction, one update, one log entry for all of `records`. */
  private appendAll(chatId: string, records: MessageRecord[]): void {
    const chat = this.chats.get(chatId)!
    chat.doc.transact(() => {
      for (const r of records) chat.append(r)
    }, this.local)
  }

  /** A backfill's newest clock is observed once the work at hand is done (or first thing when we next stamp). */
  private observeLater(newest: () => Hlc | null): void {
    this.clocksPending.push(newest)
    if (this.clocksPending.length === 1)
      this.runtime.defer(() => {
        this.observePending()
      })
  }

  private observePending(): void {
    for (const newest of this.clocksPending.splice(0)) {
      const clock = newest()
      if (clock !== null) this.hlc.observe(clock)
    }
  }

  private async open(chatId: string): Promise<ChatDoc> {
    const chat = this.chats.get(chatId)
    if (chat !== undefined) return chat
    if (this.account.docIfOpen()?.getChat(chatId) == null) throw new UnknownChatError(chatId)
    await this.docs.open(chatDocId(chatId))
    return this.chats.get(chatId)!
  }
}
