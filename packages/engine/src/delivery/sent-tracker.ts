import { chatIdOfDoc } from '@tandem/protocol'
import { segmentDocOf } from '../chat/chat-views.js'
import type { MessageLog } from '../model/message-log.js'
import type { MessageStatus } from '../model/message.js'
import type { StateVector } from '../relay/state-vector.js'
import type { EventHub } from '../core/event-hub.js'

/** What the tracker reads of a relay: the part of a doc it holds durably, as saved on our disk. */
export interface AckSource {
  ackedSv(docId: string): StateVector
  /** Whether an upload of the doc waits for the relay's answer (its ack, or its refusal). */
  awaitsAnswer(docId: string): boolean
}

/** The message logs the tracker reads (a chat's segments, loaded): one by doc id, or every loaded one. */
export interface LogLookup {
  log(docId: string): MessageLog | undefined
  openLogs(): Iterable<[string, MessageLog]>
}

/**
 * This account's messages on their way to "sent": a message is sent once a relay holds it
 * durably (its acked state vector covers the message's Yjs item). Reports each message's
 * step to `sent` once, in send order: this device's own from the send, and those another
 * device of the account wrote from when they arrive here still pending (so every device of
 * the author shows every step, not only the one that sent it), this device's own that come
 * back so after a crash included.
 *
 * Only devices configured with a relay track anything: without one no message can become sent, and
 * the set grew without bound on a relay-less device. With a relay, what it holds is the
 * messages still in the outbox — bounded by the same pending work the outbox is.
 */
export class SentTracker {
  /** Messages sent from this device that no relay has acknowledged yet: doc id (a segment) → message ids, in send order. */
  private readonly unsent = new Map<string, Set<string>>()
  /** Of those, the ones another device of the account sent (followed here so this device shows their steps too). */
  private readonly fromOthers = new Set<string>()
  /** Docs where another device's message has a receipt waiting for its `sent` step (see hurry). */
  private readonly hurried = new Set<string>()
  /** Told when a doc is hurried: the relay clients save their state of it now if it says more is acked. */
  onHurry: ((docId: string) => void) | null = null
  /** Told after each `sent` or `failed` event (the receipts that waited for that step follow it: ReceiptService.stepped). */
  onStep: ((chatId: string, messageIds: readonly string[]) => void) | null = null

  constructor(
    /** Whether this device is configured with any relay (its clients exist only once it starts). */
    private readonly hasRelays: boolean,
    /** The relay clients there are now (none before start). */
    private readonly relays: () => Iterable<AckSource>,
    private readonly logs: LogLookup,
    private readonly events: EventHub,
    /** This device's peer id: its messages' `device`. */
    private readonly peerId: string,
    /** This account's id (null before it has one). */
    private readonly accountId: () => string | null = () => null,
    /** Whether this account was removed from the chat (its messages no relay holds never will be: `failed`). */
    private readonly removedFrom: (chatId: string) => boolean = () => false
  ) {
    events.subscribe(e => {
      if (e.type !== 'message' || e.origin !== 'remote' || e.message.status !== 'pending') return
      const m = e.message
      if (m.author !== this.accountId()) return
      // (one of this device's own comes from elsewhere when a crash took it after its upload
      // got out: it is followed as one just sent, or its step came without an event)
      if (m.device !== this.peerId) this.fromOthers.add(m.id)
      this.track(segmentDocOf(e.chatId, m.id), m.id)
    })
  }

  /**
   * The relays' state is loaded (the device just started): this device's messages that no
   * relay holds yet are tracked again, whenever they were sent. Without it, what was stored
   * before a restart and acked after it never got its `sent` event (563 of 1,999 did).
   */
  recover(): void {
    const relays = [...this.relays()]
    if (relays.length === 0) return
    for (const [docId, log] of this.logs.openLogs()) this.recoverDoc(docId, log, relays)
  }

  /** A log opened (again, after an unload): its messages no relay holds yet are tracked. */
  logOpened(docId: string, log: MessageLog): void {
    const relays = [...this.relays()]
    if (relays.length > 0) this.recoverDoc(docId, log, relays)
  }

  private recoverDoc(docId: string, log: MessageLog, relays: AckSource[]): void {
    const chatId = chatIdOfDoc(docId)
    if (chatId !== null && this.removedFrom(chatId)) return // (failed: nothing to wait for)
    const acked = relays.map(r => r.ackedSv(docId))
    const covered = (client: number, clock: number): boolean => acked.some(sv => (sv.get(client) ?? 0) > clock)
    for (const id of log.sentFromAfter(this.peerId, covered)) this.track(docId, id)
  }

  /** A message was just sent from this device into the doc `docId`. */
  track(docId: string, messageId: string): void {
    if (!this.hasRelays) return
    let unsent = this.unsent.get(docId)
    if (unsent === undefined) {
      unsent = new Set()
      this.unsent.set(docId, unsent)
    }
    unsent.add(messageId)
  }

  /**
   * Messages this device sent into the doc are waiting to be reported "sent" (its relay state is
   * then saved at once, and the segment stays in memory). Another device's messages followed
   * here do not count: saving the state at each of their acks was a save per message received
   * (test/relay/cursor-save.test.ts); after a crash they show pending until the relay says again.
   */
  awaitsAck(docId: string): boolean {
    const unsent = this.unsent.get(docId)
    if (unsent === undefined) return false
    if (this.hurried.has(docId)) return true
    for (const id of unsent) if (!this.fromOthers.has(id)) return true
    return false
  }

  /**
   * A receipt (delivered, read) of another device's message came while its `sent` step waits
   * for this device's lazy save of the relay's state (up to CURSOR_SAVE_MS, after the relay's
   * notice): the doc's state is saved as this device's own messages' is, at once, until the
   * step is told. Without it a delivered tick on the author's other device came 300 ms after
   * the receipt (bench `people`: p50 303 ms against a target of 50 ms at p99). One save per
   * message that gets a receipt, only where receipts come back (chats with other accounts).
   */
  hurry(chatId: string, messageId: string): void {
    const docId = segmentDocOf(chatId, messageId)
    if (!this.fromOthers.has(messageId) || this.unsent.get(docId)?.has(messageId) !== true || this.hurried.has(docId)) return
    this.hurried.add(docId)
    this.onHurry?.(docId)
  }

  /** Whether the message is this account's and its `sent` or `failed` step is still to be reported here. */
  awaitsStep(chatId: string, messageId: string): boolean {
    return this.unsent.get(segmentDocOf(chatId, messageId))?.has(messageId) === true
  }

  statusOf(docId: string, log: MessageLog, messageId: string): MessageStatus {
    if (!this.hasRelays) return 'pending'
    // (a record deleted for everyone whose tombstone has not come yet keeps its status: it was
    // shown read, then pending, when the deletion came first — simulator seed 20261134 --people)
    const id = log.shownItemIdOf(messageId)
    if (id === undefined) return 'pending'
    for (const r of this.relays()) if ((r.ackedSv(docId).get(id[0]) ?? 0) > id[1]) return 'sent'
    return this.isFailed(docId) ? 'failed' : 'pending'
  }

  /** A doc of a chat this account was removed from, of which no upload waits for a relay's answer: what no relay acked never will be. */
  private isFailed(docId: string): boolean {
    const chatId = chatIdOfDoc(docId)
    if (chatId === null || !this.removedFrom(chatId)) return false
    for (const r of this.relays()) if (r.awaitsAnswer(docId)) return false
    return true
  }

  /**
   * This account was removed from the chat: its messages no relay acked, once no upload of
   * their doc waits for an answer (the relay refuses the account's uploads from the removal on,
   * and each refused one leaves the outbox), never will be; each is reported `failed`, once.
   * An upload the relay took before the removal is still acked. Their text stays on this device.
   */
  failChat(chatId: string): void {
    for (const docId of [...this.unsent.keys()]) if (chatIdOfDoc(docId) === chatId) this.failDoc(docId)
  }

  private failDoc(docId: string): void {
    const unsent = this.unsent.get(docId)
    const chatId = chatIdOfDoc(docId)
    if (unsent === undefined || chatId === null || !this.isFailed(docId)) return
    const failed = [...unsent]
    for (const id of failed) this.fromOthers.delete(id)
    this.unsent.delete(docId)
    this.hurried.delete(docId)
    this.events.emit({ type: 'status', chatId, messageIds: failed, status: 'failed' })
    this.onStep?.(chatId, failed)
  }

  /** A relay acknowledged more of a doc: report this device's messages that are now sent. */
  acked(docId: string, acked: StateVector): void {
    const chatId = chatIdOfDoc(docId)
    const chat = this.logs.log(docId)
    const unsent = this.unsent.get(docId)
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
    for (const m of sent) {
      unsent.delete(m)
      this.fromOthers.delete(m)
    }
    if (sent.length > 0) this.hurried.delete(docId) // (a receipt that waits on one still out hurries it again)
    if (unsent.size === 0) this.unsent.delete(docId)
    if (sent.length > 0) {
      this.events.emit({ type: 'status', chatId, messageIds: sent, status: 'sent' })
      this.onStep?.(chatId, sent)
    }
    this.failDoc(docId) // (removed from the chat: the rest, once nothing of the doc waits, is failed)
  }
}
