import { promisify } from 'node:util'
import { brotliCompress, brotliCompressSync, brotliDecompress, brotliDecompressSync, constants, inflateRaw, inflateRawSync, type BrotliOptions, type ZlibOptions } from 'node:zlib'
import { BlobEncoding, UnsupportedVersionError } from '@tandem/protocol'
import type { Compression } from '../platform/compression.js'

/**
 * Blobs larger than this are (de)compressed on the thread pool, not on the event loop: a
 * burst's uploads then cost the sender's loop nothing (one message is far below it, and
 * stays synchronous: the hop to a pool thread would add to its latency). (Not lower for
 * inflating: the simulator runs this code, and the pool settles outside its clock.)
 */
const OFF_THREAD_BYTES = 64 * 1024

/**
 * Brotli quality: 2 for what is sent live (as small as 4 for a burst of messages, 1.6× faster),
 * 5 for a snapshot (`dense`) or over 1 MiB: a 1,000-message segment's snapshot is 48.6 B a
 * message at 5 against 52.1 at 2 and 51.2 at 4, for 6 ms of encoding instead of 3, once per
 * segment (6 and 7 save under 1 % more for more time; decoding is no slower).
 */
const qualityFor = (bytes: number, dense: boolean): number => (dense || bytes > 1024 * 1024 ? 5 : 2)

const brotliAsync = promisify<Uint8Array, BrotliOptions, Buffer>(brotliCompress)
const unbrotliAsync = promisify<Uint8Array, BrotliOptions, Buffer>(brotliDecompress)
const inflateRawAsync = promisify<Uint8Array, ZlibOptions, Buffer>(inflateRaw)

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

/** Node's zlib: writes brotli, reads brotli and raw DEFLATE (what browser devices write). */
export const nodeCompression: Compression = {
  encoding: BlobEncoding.Brotli,
  async compress(data, dense = false) {
    const options: BrotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: qualityFor(data.byteLength, dense), [constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength } }
    return view(data.byteLength > OFF_THREAD_BYTES ? await brotliAsync(data, options) : brotliCompressSync(data, options))
  },
  async decompress(encoding, data, maxBytes) {
    const big = data.byteLength > OFF_THREAD_BYTES
    const options = { maxOutputLength: maxBytes }
    switch (encoding) {
      case BlobEncoding.Brotli:
        return view(big ? await unbrotliAsync(data, options) : brotliDecompressSync(data, options))
      case BlobEncoding.DeflateRaw:
        return view(big ? await inflateRawAsync(data, options) : inflateRawSync(data, options))
      default:
        throw new UnsupportedVersionError(`blob encoding ${encoding} is not supported`)
    }
  }
}
