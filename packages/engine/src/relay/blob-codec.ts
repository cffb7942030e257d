import { promisify } from 'node:util'
import { brotliCompress, brotliCompressSync, brotliDecompress, brotliDecompressSync, constants, type BrotliOptions } from 'node:zlib'
import { BlobEncoding, MalformedFrameError, decodeBlobEnvelope, encodeBlobEnvelope } from '@tandem/protocol'
import { decodeSv, encodeSv, type StateVector } from './state-vector.js'

/** Largest update a blob may inflate to: a relay cannot make a device allocate more. */
export const MAX_INFLATED_BLOB_BYTES = 512 * 1024 * 1024

/**
 * Updates larger than this are compressed on the thread pool, not on the event loop: a
 * burst's uploads then cost the sender's loop nothing (one message is far below it, and
 * stays synchronous: the hop to a pool thread would add to its latency).
 */
const OFF_THREAD_BYTES = 64 * 1024

/**
 * Brotli quality by size. A burst's upload (tens of kB of messages): quality 2 compresses
 * it as well as 4 does, 1.6× faster (it runs on the sender's event loop for every write).
 * A big blob (a snapshot of a long chat, off the loop): quality 4 is ~10 % smaller, and
 * 5+ gains ~4 % more for twice the time.
 */
const qualityFor = (bytes: number): number => bytes > 1024 * 1024 ? 4 : 2

const compressAsync = promisify<Uint8Array, BrotliOptions, Buffer>(brotliCompress)
const decompressAsync = promisify<Uint8Array, BrotliOptions, Buffer>(brotliDecompress)

export interface DecodedBlob {
  update: Uint8Array
  /** The clocks the update reaches (see BlobEnvelope.reach). */
  reach: StateVector
}

/**
 * A Yjs update as a relay blob: brotli-compressed unless that does not make it smaller,
 * with the clocks it reaches in the header.
 */
export async function encodeBlob (update: Uint8Array, reach: StateVector): Promise<Uint8Array> {
  const options: BrotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: qualityFor(update.byteLength), [constants.BROTLI_PARAM_SIZE_HINT]: update.byteLength } }
  const packed = update.byteLength > OFF_THREAD_BYTES ? await compressAsync(update, options) : brotliCompressSync(update, options)
  const compressed = packed.byteLength + 1 < update.byteLength
  return encodeBlobEnvelope({ encoding: compressed ? BlobEncoding.Brotli : BlobEncoding.Raw, reach: encodeSv(reach), payload: compressed ? packed : update })
}

/** The Yjs update inside a relay blob. Throws a typed error for an unknown encoding or bad bytes. */
export async function decodeBlob (blob: Uint8Array, maxBytes = MAX_INFLATED_BLOB_BYTES): Promise<DecodedBlob> {
  const { encoding, reach: reachBytes, payload } = decodeBlobEnvelope(blob)
  let reach: StateVector
  try {
    reach = decodeSv(reachBytes)
  } catch (err) {
    throw new MalformedFrameError('relay blob has an unreadable reach', { cause: err })
  }
  if (encoding === BlobEncoding.Raw) return { update: payload, reach }
  const options: BrotliOptions = { maxOutputLength: maxBytes }
  try {
    const out = payload.byteLength > OFF_THREAD_BYTES ? await decompressAsync(payload, options) : brotliDecompressSync(payload, options)
    return { update: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), reach }
  } catch (err) {
    throw new MalformedFrameError('relay blob does not decompress', { cause: err })
  }
}
