import { chatDocId, chatIdOfDoc, type ChatDoc } from '../model/chat-doc.js'
import type { MessageStatus } from '../model/message.js'
import type { StateVector } from '../relay/state-vector.js'
import type { EventHub } from '../core/event-hub.js'

/** What the tracker reads of a relay: the part of a doc it holds durably, as saved on our disk. */
export interface AckSource {
  ackedSv(docId: string): StateVector
}

/** The chats the tracker reads: one by id, or every open one. */
export interface ChatLookup {
  get(chatId: string): ChatDoc | undefined
  openChats(): Iterable<[string, ChatDoc]>
}

/**
 * This device's messages on their way to "sent": a message is sent once a relay holds it
 * durably (its acked state vector covers the message's Yjs item). Reports each message's
 * step to `sent` once, in send order.
 *
 * Only devices configured with a relay track anything: without one no message can become sent, and
 * the set grew without bound on a relay-less device. With a relay, what it holds is the
 * messages still in the outbox — bounded by the same pending work the outbox is.
 */
export class SentTracker {
  /** Messages sent from this device that no relay has acknowledged yet: chat id → message ids, in send order. */
  private readonly unsent = new Map<string, Set<string>>()

  constructor(
    /** Whether this device is configured with any relay (its clients exist only once it starts). */
    private readonly hasRelays: boolean,
    /** The relay clients there are now (none before start). */
    private readonly relays: () => Iterable<AckSource>,
    private readonly chats: ChatLookup,
    private readonly events: EventHub,
    /** This device's peer id: its messages' `device`. */
    private readonly peerId: string
  ) {}

  /**
   * The relays' state is loaded (the device just started): this device's messages that no
   * relay holds yet are tracked again, whenever they were sent. Without it, what was stored
   * before a restart and acked after it never got its `sent` event (563 of 1,999 did).
   */
  recover(): void {
    const relays = [...this.relays()]
    if (relays.length === 0) return
    for (const [chatId, chat] of this.chats.openChats()) {
      const docId = chatDocId(chatId)
      const acked = relays.map(r => r.ackedSv(docId))
      const covered = (client: number, clock: number): boolean => acked.some(sv => (sv.get(client) ?? 0) > clock)
      for (const id of chat.sentFromAfter(this.peerId, covered)) this.track(chatId, id)
    }
  }

  /** A message was just sent from this device. */
  track(chatId: string, messageId: string): void {
    if (!this.hasRelays) return
    let unsent = this.unsent.get(chatId)
    if (unsent === undefined) {
      unsent = new Set()
      this.unsent.set(chatId, unsent)
    }
    unsent.add(messageId)
  }

  /** Messages of ours in this doc are waiting to be reported "sent". */
  awaitsAck(docId: string): boolean {
    const chatId = chatIdOfDoc(docId)
    return chatId !== null && (this.unsent.get(chatId)?.size ?? 0) > 0
  }

  statusOf(chatId: string, chat: ChatDoc, messageId: string): MessageStatus {
    if (!this.hasRelays) return 'stored'
    const id = chat.itemIdOf(messageId)
    if (id === undefined) return 'stored'
    const docId = chatDocId(chatId)
    for (const r of this.relays()) if ((r.ackedSv(docId).get(id[0]) ?? 0) > id[1]) return 'sent'
    return 'stored'
  }

  /** A relay acknowledged more of a doc: report this device's messages that are now sent. */
  acked(docId: string, acked: StateVector): void {
    const chatId = chatIdOfDoc(docId)
    const chat = chatId === null ? undefined : this.chats.get(chatId)
    const unsent = chatId === null ? undefined : this.unsent.get(chatId)
    if (chat === undefined || unsent === undefined || chatId === null) return
    const sent: string[] = []
    const me = chat.doc.clientID
    for (const messageId of unsent) {
      const id = chat.itemIdOf(messageId)
      if (id !== undefined && (acked.get(id[0]) ?? 0) > id[1]) {
        sent.push(messageId)
        continue
      }
      // `unsent` is in send order, which is clock order for this session's client: nothing
      // after the first one still out is acked (scanning them all made each ack O(burst))
      if (id === undefined || id[0] === me) break
    }
    for (const m of sent) unsent.delete(m)
    if (sent.length > 0) this.events.emit({ type: 'status', chatId, messageIds: sent, status: 'sent' })
  }
}
