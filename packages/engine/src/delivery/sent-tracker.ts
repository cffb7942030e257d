import { chatDocId, chatIdOfDoc, type ChatDoc } from '../model/chat-doc.js'
import type { MessageStatus } from '../model/message.js'
import type { EventHub } from '../core/event-hub.js'
import type { StateVector } from '../relay/state-vector.js'

/** What the tracker reads of a relay: the part of a doc it holds durably, as saved on our disk. */
export interface AckSource {
  ackedSv(docId: string): StateVector
}

/** The chats the tracker reads: one by id, or every open one, and where the account doc lists each. */
export interface ChatLookup {
  get(chatId: string): ChatDoc | undefined
  openChats(): Iterable<[string, ChatDoc]>
  /** The account doc's id and the Yjs id of the item listing the chat in it; undefined while it is not listed (or not open). */
  listing(chatId: string): { docId: string; item: [client: number, clock: number] } | undefined
}

/**
 * This device's messages on their way to "sent": a message is sent once a relay holds it
 * durably (its acked state vector covers the message's Yjs item) and holds the account
 * doc's entry that lists its chat — without that entry no other device ever finds the chat
 * (seed 20261547: a device revoked between uploading a new chat's messages and its entry
 * showed them sent, and nobody else could read them). Reports each message's step to
 * `sent` once, in send order.
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
      const covered = (client: number, clock: number): boolean => this.holds(relays, chatId, [client, clock])
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

  /** Messages of ours in this doc (or, for the account doc, in any chat: its entry may be what they wait for) are waiting to be reported "sent". */
  awaitsAck(docId: string): boolean {
    const chatId = chatIdOfDoc(docId)
    if (chatId !== null) return (this.unsent.get(chatId)?.size ?? 0) > 0
    for (const unsent of this.unsent.values()) if (unsent.size > 0) return true
    return false
  }

  statusOf(chatId: string, chat: ChatDoc, messageId: string): MessageStatus {
    if (!this.hasRelays) return 'stored'
    const id = chat.itemIdOf(messageId)
    if (id === undefined) return 'stored'
    return this.holds([...this.relays()], chatId, id) ? 'sent' : 'stored'
  }

  /** Whether one of `relays` holds durably both the message item `id` of the chat and the account doc's entry listing it. */
  private holds(relays: AckSource[], chatId: string, id: [number, number]): boolean {
    const listing = this.chats.listing(chatId)
    if (listing === undefined) return false
    const docId = chatDocId(chatId)
    const covers = (r: AckSource, d: string, [client, clock]: [number, number]) => (r.ackedSv(d).get(client) ?? 0) > clock
    return relays.some(r => covers(r, docId, id) && covers(r, listing.docId, listing.item))
  }

  /**
   * A relay acknowledged more of a doc: report this device's messages that are now sent —
   * of that chat, or of every chat with messages waiting when it is the account doc (a new
   * chat's entry).
   */
  acked(docId: string): void {
    const chatId = chatIdOfDoc(docId)
    if (chatId !== null) this.ackedChat(chatId)
    else for (const waiting of [...this.unsent.keys()]) this.ackedChat(waiting)
  }

  private ackedChat(chatId: string): void {
    const chat = this.chats.get(chatId)
    const unsent = this.unsent.get(chatId)
    if (chat === undefined || unsent === undefined) return
    const relays = [...this.relays()]
    const sent: string[] = []
    const me = chat.doc.clientID
    for (const messageId of unsent) {
      const id = chat.itemIdOf(messageId)
      if (id !== undefined && this.holds(relays, chatId, id)) {
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
