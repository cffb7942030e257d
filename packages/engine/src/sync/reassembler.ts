import { FrameTooLargeError } from '@tandem/protocol'

/**
 * Joins the chunks of one chunked payload (sync reply or update) per doc.
 * Bounded: a peer cannot make us buffer more than `maxBytes` per payload.
 */
export class Reassembler {
  private readonly parts = new Map<string, { chunks: Uint8Array[]; bytes: number }>()

  constructor(private readonly maxBytes: number) {}

  /** Drops a partial payload that will never be finished. */
  discard(key: string): void {
    this.parts.delete(key)
  }

  /** Adds a chunk; returns the whole payload when `final`, else null. */
  add(key: string, chunk: Uint8Array, final: boolean): Uint8Array | null {
    let entry = this.parts.get(key)
    if (entry === undefined && final) return chunk
    if (entry === undefined) {
      entry = { chunks: [], bytes: 0 }
      this.parts.set(key, entry)
    }
    entry.bytes += chunk.byteLength
    if (entry.bytes > this.maxBytes) {
      this.parts.delete(key)
      throw new FrameTooLargeError(`chunked payload for ${key} exceeds ${this.maxBytes} bytes`)
    }
    // chunks are views into transport buffers: copy so they outlive the frame
    entry.chunks.push(chunk.slice())
    if (!final) return null
    this.parts.delete(key)
    const out = new Uint8Array(entry.bytes)
    let offset = 0
    for (const c of entry.chunks) {
      out.set(c, offset)
      offset += c.byteLength
    }
    return out
  }
}
