import type * as Y from 'yjs'

export { chatDocId, segmentDocId } from '@tandem/protocol'

export interface ChatMeta {
  title: string
  createdAt: number
  createdBy: string
}

/**
 * Typed view of a chat doc: the chat's title and the index of its segments. The messages
 * themselves live in segment docs (`chat:<id>:<n>`, each a MessageLog); a chat from before
 * segments keeps its messages in this doc's own `messages` map, read as segment 0.
 *
 * The index is a Y.Map from segment number to the wall time it was started: entries are
 * only ever added, two devices starting the same segment write the same key, so the newest
 * segment is the largest key on every device that holds the same state.
 */
export class ChatDoc {
  readonly meta: Y.Map<unknown>
  readonly segments: Y.Map<number>
  private newest: number | null = null

  constructor(readonly doc: Y.Doc) {
    this.meta = doc.getMap('meta')
    this.segments = doc.getMap('segments')
    this.segments.observe(() => {
      this.newest = null
    })
  }

  setMeta(meta: ChatMeta): void {
    this.doc.transact(() => {
      this.meta.set('title', meta.title)
      this.meta.set('createdAt', meta.createdAt)
      this.meta.set('createdBy', meta.createdBy)
    })
  }

  getMeta(): ChatMeta | null {
    const title = this.meta.get('title')
    if (typeof title !== 'string') return null
    return { title, createdAt: Number(this.meta.get('createdAt') ?? 0), createdBy: String(this.meta.get('createdBy') ?? '') }
  }

  /** The newest segment the index names; 0 when it names none (a new chat, or one from before segments). */
  newestSegment(): number {
    if (this.newest === null) {
      let newest = 0
      for (const key of this.segments.keys()) {
        const n = Number(key)
        if (Number.isSafeInteger(n) && n > newest) newest = n
      }
      this.newest = newest
    }
    return this.newest
  }

  /** Names segment `n` in the index (the caller's transaction). */
  startSegment(n: number, at: number): void {
    if (!this.segments.has(String(n))) this.segments.set(String(n), at)
  }
}
