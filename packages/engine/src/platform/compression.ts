import type { BlobEncoding } from '@tandem/protocol'

/**
 * Blob compression, one per platform. Every device must read every encoding the blob
 * envelope names (a chat's log holds blobs from Node and browser devices alike); which one
 * it writes is the platform's choice: Node writes brotli with zlib, a browser writes raw
 * DEFLATE with its native `CompressionStream` (Chromium has no brotli compressor).
 */
export interface Compression {
  /** The encoding `compress` produces. */
  readonly encoding: BlobEncoding
  /**
   * `dense`: a blob kept long and read by every new device (a snapshot): worth more CPU for
   * fewer bytes, where the platform has a knob for it.
   */
  compress(data: Uint8Array, dense?: boolean): Promise<Uint8Array> | Uint8Array
  /**
   * The bytes `data` inflates to, written with `encoding` (never Raw). Throws once the output
   * would pass `maxBytes` (a relay that is not honest cannot make a device allocate more),
   * or if `data` is not valid in that encoding.
   */
  decompress(encoding: BlobEncoding, data: Uint8Array, maxBytes: number): Promise<Uint8Array> | Uint8Array
}
