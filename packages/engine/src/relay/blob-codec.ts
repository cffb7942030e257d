import { promisify } from 'node:util'
import { brotliCompress, brotliCompressSync, brotliDecompress, brotliDecompressSync, constants, type BrotliOptions } from 'node:zlib'
import { BlobEncoding, MalformedFrameError, decodeBlobEnvelope, encodeBlobEnvelope } from '@tandem/protocol'

/** Largest update a blob may inflate to: a relay cannot make a device allocate more. */
export const MAX_INFLATED_BLOB_BYTES = 512 * 1024 * 1024

/** Blobs larger than this are (de)compressed on the thread pool, not on the event loop. */
const OFF_THREAD_BYTES = 1024 * 1024

/** Quality 4: ~4× smaller chat history at ~100 MB/s (quality 5+ gains ~4 % for twice the time). */
const QUALITY = 4

const compressAsync = promisify<Uint8Array, BrotliOptions, Buffer>(brotliCompress)
const decompressAsync = promisify<Uint8Array, BrotliOptions, Buffer>(brotliDecompress)

/** A Yjs update as a relay blob: brotli-compressed unless that does not make it smaller. */
export async function encodeBlob (update: Uint8Array): Promise<Uint8Array> {
  const options: BrotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: update.byteLength } }
  const packed = update.byteLength > OFF_THREAD_BYTES ? await compressAsync(update, options) : brotliCompressSync(update, options)
  return packed.byteLength + 1 < update.byteLength
    ? encodeBlobEnvelope({ encoding: BlobEncoding.Brotli, payload: packed })
    : encodeBlobEnvelope({ encoding: BlobEncoding.Raw, payload: update })
}

/** The Yjs update inside a relay blob. Throws a typed error for an unknown encoding or bad bytes. */
export async function decodeBlob (blob: Uint8Array, maxBytes = MAX_INFLATED_BLOB_BYTES): Promise<Uint8Array> {
  const { encoding, payload } = decodeBlobEnvelope(blob)
  if (encoding === BlobEncoding.Raw) return payload
  const options: BrotliOptions = { maxOutputLength: maxBytes }
  try {
    const out = payload.byteLength > OFF_THREAD_BYTES / 4 ? await decompressAsync(payload, options) : brotliDecompressSync(payload, options)
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
  } catch (err) {
    throw new MalformedFrameError('relay blob does not decompress', { cause: err })
  }
}
