import * as Y from 'yjs'
import { compareMessages, isMessageRecord, type MessageRecord } from './message.js'

/** Doc id of a chat. Chat ids are random, lowercase base32/hex text. */
export const chatDocId = (chatId: string): string => `chat:${chatId}`
export const chatIdOfDoc = (docId: string): string | null => docId.startsWith('chat:') ? docId.slice(5) : null

export interface ChatMeta {
  title: string
  createdAt: number
  createdBy: string
}

/**
 * Typed view of a chat doc. Messages live in one Y.Array in arrival order;
 * `ordered()` keeps a sorted index up to date incrementally so listing a long
 * chat after each new message stays cheap.
 */
export class ChatDoc {
  readonly messages: Y.Array<MessageRecord>
  readonly meta: Y.Map<unknown>
  private sorted: MessageRecord[] | null = null
  private readonly ids = new Set<string>()
  /** Message id → Yjs item id (client, clock): whether a relay holds it is a state-vector check. */
  private itemIds: Map<string, [number, number]> | null = null

  constructor (readonly doc: Y.Doc) {
    this.messages = doc.getArray<MessageRecord>('messages')
    this.meta = doc.getMap('meta')
    this.messages.observe(event => {
      if (this.itemIds !== null) for (const item of event.changes.added) this.indexItem(item)
      if (this.sorted === null) return
      const added: MessageRecord[] = []
      for (const item of event.changes.added) {
        for (const content of item.content.getContent()) if (isMessageRecord(content)) added.push(content)
      }
      if (added.length > this.sorted.length / 8) { this.sorted = null; return }
      for (const m of added) this.insertSorted(m)
    })
  }

  append (record: MessageRecord): void {
    // insert at the end, not push: push walks the whole list.
    this.messages.insert(this.messages.length, [record])
  }

  setMeta (meta: ChatMeta): void {
    this.doc.transact(() => {
      this.meta.set('title', meta.title)
      this.meta.set('createdAt', meta.createdAt)
      this.meta.set('createdBy', meta.createdBy)
    })
  }

  getMeta (): ChatMeta | null {
    const title = this.meta.get('title')
    if (typeof title !== 'string') return null
    return { title, createdAt: Number(this.meta.get('createdAt') ?? 0), createdBy: String(this.meta.get('createdBy') ?? '') }
  }

  /** All messages in display order (a shared array: do not mutate). */
  ordered (): readonly MessageRecord[] {
    if (this.sorted === null) {
      this.ids.clear()
      const all: MessageRecord[] = []
      for (const m of this.messages.toArray()) {
        if (isMessageRecord(m) && !this.ids.has(m.id)) { this.ids.add(m.id); all.push(m) }
      }
      this.sorted = all.sort(compareMessages)
    }
    return this.sorted
  }

  get size (): number { return this.ordered().length }

  /** The Yjs item id of a message, as [client, clock]. */
  itemIdOf (messageId: string): [number, number] | undefined {
    if (this.itemIds === null) {
      this.itemIds = new Map()
      for (let item = this.messages._start; item !== null; item = item.right) this.indexItem(item)
    }
    return this.itemIds.get(messageId)
  }

  private indexItem (item: Y.Item): void {
    if (item.deleted) return
    item.content.getContent().forEach((m: unknown, i: number) => {
      if (isMessageRecord(m)) this.itemIds!.set(m.id, [item.id.client, item.id.clock + i])
    })
  }

  private insertSorted (m: MessageRecord): void {
    const list = this.sorted
    if (list === null || this.ids.has(m.id)) return
    this.ids.add(m.id)
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareMessages(list[mid]!, m) <= 0) lo = mid + 1
      else hi = mid
    }
    list.splice(lo, 0, m)
  }
}
