import type * as Y from 'yjs'
import { compareHlc, type Hlc } from '../hlc.js'
import { compareMessages, insertSorted, decodeMessageClock, decodeMessageRecord, encodeMessageRecord, type MessageRecord } from './message.js'
import { MessageAnnotations, type ChangedListener } from './message-annotations.js'

/** A transaction adding more messages than this is reported as a count (a backfill), not one by one. */
export const BULK_MESSAGES = 256

/**
 * New messages in a doc; `origin` is the transaction's. Up to BULK_MESSAGES (or any
 * number, for local writes) come decoded; more come as a count, and their newest clock
 * is read only when asked for (`newestLater`): reading 10⁵ records for it cost a new
 * device a tenth of its history sync, and nothing needs it before our next own message.
 */
export type MessagesAddedListener = (added: AddedMessages, origin: unknown) => void

export interface AddedMessages {
  records: MessageRecord[] | null
  count: number
  /** The newest clock of `records` (null for a bulk add: see `newestLater`). */
  newest: Hlc | null
  /** A bulk add: reads the newest clock of its messages (those still in the doc). */
  newestLater?: () => Hlc | null
}

export interface MessageLogListeners {
  added?: MessagesAddedListener
  /** Messages edited, reacted to or deleted (ids; deleted ones are no longer in the log). */
  changed?: ChangedListener
}

/**
 * Typed view of the messages of one doc: a chat's segment (or, for chats from before
 * segments, the chat doc itself). Messages live in a Y.Map keyed by message id, each a
 * binary record: the display order comes from the records' clocks, not from a position,
 * and a map entry costs O(1) to add — in a Y.Array, appending unmerged items of one client
 * walks the whole run (Yjs' search markers step left over items that could merge).
 * `ordered()` keeps a sorted index up to date incrementally so listing a long chat after
 * each new message stays cheap. Edits, reactions and deletions of a message live in the
 * same doc as the message (`annotations`).
 */
export class MessageLog {
  readonly messages: Y.Map<Uint8Array>
  readonly annotations: MessageAnnotations
  private sorted: MessageRecord[] | null = null
  /** Entries in `messages` (Y.Map's own `size` walks the whole map). */
  private count: number | null = null
  /** Records appended here whose transaction has not ended: reported without decoding them again. */
  private readonly appended = new Map<string, MessageRecord>()

  constructor(
    readonly doc: Y.Doc,
    local: unknown,
    listeners: MessageLogListeners = {}
  ) {
    const onAdded = listeners.added
    const onChanged = listeners.changed
    this.messages = doc.getMap<Uint8Array>('messages')
    this.annotations = new MessageAnnotations(doc, this.messages, onChanged)
    this.messages.observe(event => {
      const ids: string[] = []
      const removed = new Set<string>()
      for (const [id, { action }] of event.keys) {
        if (this.count !== null) this.count += action === 'add' ? 1 : action === 'delete' ? -1 : 0
        if (action === 'add') ids.push(id)
        else if (action === 'delete') removed.add(id)
      }
      if (removed.size > 0) {
        this.sorted = null
        // A record leaves the map only when its message is deleted for everyone, and its removal
        // (a delete set) travels apart from its tombstone (an insert): a peer that held the
        // tombstone and not yet the message forwards the one without the other, so the removal
        // can come in a transaction of its own, after the tombstone. Reported as a deletion
        // then too, or views built in between list the message for good (simulator seed 20261182).
        const tombstones = this.annotations.tombstonesSetIn(event.transaction)
        const alone = new Set([...removed].filter(id => !tombstones.has(id)))
        if (alone.size > 0) onChanged?.(alone, 'deleted', event.transaction.origin)
      }
      if (ids.length === 0) return
      const small = ids.length <= BULK_MESSAGES || event.transaction.origin === local
      // a backfill: the sorted index is rebuilt on demand, and only the clocks are read now
      if (!small || (this.sorted !== null && ids.length > this.sorted.length / 8)) this.sorted = null
      if (small) {
        const records: MessageRecord[] = []
        for (const id of ids) {
          const m = this.appended.get(id) ?? this.record(id)
          if (m !== null) records.push(m)
        }
        if (this.sorted !== null) for (const m of records) insertSorted(this.sorted, m)
        onAdded?.({ records, count: records.length, newest: newestOf(records) }, event.transaction.origin)
      } else {
        const newestLater = (): Hlc | null => {
          const clocks: Hlc[] = []
          for (const id of ids) {
            const c = decodeMessageClock(this.messages.get(id))
            if (c !== null) clocks.push(c)
          }
          return newestOf(clocks)
        }
        onAdded?.({ records: null, count: ids.length, newest: null, newestLater }, event.transaction.origin)
      }
    })
  }

  append(record: MessageRecord): void {
    if (this.appended.size === 0)
      this.doc.once('afterTransaction', () => {
        this.appended.clear()
      })
    this.appended.set(record.id, record)
    this.messages.set(record.id, encodeMessageRecord(record))
  }

  /** One message, or null if the doc has none (or an unreadable one) under this id. */
  record(id: string): MessageRecord | null {
    return decodeMessageRecord(id, this.messages.get(id))
  }

  /** Every message record, in no particular order (decoded afresh). */
  records(): MessageRecord[] {
    const out: MessageRecord[] = []
    for (const [id, content] of this.messages.entries()) {
      const m = decodeMessageRecord(id, content)
      if (m !== null) out.push(m)
    }
    return out
  }

  /** All messages in display order (a shared array: do not mutate). */
  ordered(): readonly MessageRecord[] {
    this.sorted ??= this.records().sort(compareMessages)
    return this.sorted
  }

  get size(): number {
    if (this.count === null) {
      this.count = 0
      for (const item of this.messages._map.values()) if (!item.deleted) this.count++
    }
    return this.count
  }

  /**
   * Ids of the messages sent from `device` whose Yjs items `covered` does not cover, oldest
   * item first. Walks the map's items and decodes only the uncovered ones (a device with a
   * long history and little unsent pays for a map walk, not for decoding every record).
   */
  sentFromAfter(device: string, covered: (client: number, clock: number) => boolean): string[] {
    const found: Array<{ id: string; client: number; clock: number }> = []
    for (const [id, item] of this.messages._map) {
      if (item.deleted || covered(item.id.client, item.id.clock)) continue
      if (this.record(id)?.device === device) found.push({ id, client: item.id.client, clock: item.id.clock })
    }
    return found.sort((a, b) => a.client - b.client || a.clock - b.clock).map(f => f.id)
  }

  /** The Yjs item id of a message, as [client, clock]. */
  itemIdOf(messageId: string): [number, number] | undefined {
    const item = this.messages._map.get(messageId)
    return item === undefined || item.deleted ? undefined : [item.id.client, item.id.clock]
  }

  /**
   * The Yjs item id of the record a message was last shown from, deleted or not: a deletion for
   * everyone (the record's item deleted) can come before its tombstone, and until the tombstone
   * comes the message is still shown, with the status of that record (see SentTracker.statusOf).
   */
  shownItemIdOf(messageId: string): [number, number] | undefined {
    const item = this.messages._map.get(messageId)
    return item === undefined ? undefined : [item.id.client, item.id.clock]
  }
}

const newestOf = (clocks: Hlc[]): Hlc | null => (clocks.length === 0 ? null : clocks.reduce((a, b) => (compareHlc(a, b) >= 0 ? a : b)))
