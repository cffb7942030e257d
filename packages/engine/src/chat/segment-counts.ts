import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { DocStore } from '../store/doc-store.js'

/** Metadata name prefix of a segment's message count (`segment-count!<docId>`). */
const PREFIX = 'segment-count!'

/**
 * How many messages each segment held when it last left memory, kept on this device only
 * (never synced): a chat's count stays whole while most of its segments stay on disk, and a
 * restart reads a few bytes per segment instead of every message. A segment whose count is
 * missing (a crash before it left memory, a damaged record) is read from disk once to count it.
 */
export class SegmentCounts {
  private readonly counts = new Map<string, number>()

  constructor(private readonly store: DocStore) {}

  async load(): Promise<void> {
    for (const [name, value] of await this.store.metaEntries(PREFIX)) {
      try {
        this.counts.set(name.slice(PREFIX.length), decoding.readVarUint(decoding.createDecoder(value)))
      } catch {
        // a garbled count: the segment is counted again when it is next read
      }
    }
  }

  get(docId: string): number | undefined {
    return this.counts.get(docId)
  }

  /** Records a segment's count as it leaves memory (in the store's next batch). */
  save(docId: string, count: number): void {
    if (this.counts.get(docId) === count) return
    this.counts.set(docId, count)
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, count)
    void this.store.writeMeta([[PREFIX + docId, encoding.toUint8Array(enc)]]).catch(() => {
      // the store's write failure is reported by the write path itself; a count is only a hint
    })
  }
}
