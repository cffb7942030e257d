import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { FrameTooLargeError, MalformedFrameError, UnsupportedVersionError } from './errors.js'
import { MAX_STATE_VECTOR_BYTES } from './sync-frames.js'

/**
 * How the payload of a relay blob is encoded. The relay stores blobs as opaque bytes;
 * only devices read this tag. New encodings (sealed, say) get new tags, and a device
 * that meets a tag it does not know says so instead of feeding garbage to Yjs.
 */
export const BlobEncoding = {
  /** A Yjs update (v1) as is. */
  Raw: 0,
  /** A Yjs update (v1), brotli-compressed. */
  Brotli: 1,
  /**
   * A Yjs update (v1), raw DEFLATE (RFC 1951): what a browser device writes with its own
   * `CompressionStream('deflate-raw')` (no browser compresses brotli natively).
   */
  DeflateRaw: 2
} as const

const KNOWN_ENCODINGS: ReadonlySet<number> = new Set(Object.values(BlobEncoding))

export type BlobEncoding = (typeof BlobEncoding)[keyof typeof BlobEncoding]

export interface BlobEnvelope {
  encoding: BlobEncoding
  /**
   * The clocks the update reaches, for every client it carries (a Yjs-encoded state
   * vector): a relay log is a chain of diffs, so a device that holds the blob knows the
   * relay holds everything below them — without decoding the update to find out.
   */
  reach: Uint8Array
  payload: Uint8Array
}

export function encodeBlobEnvelope(envelope: BlobEnvelope): Uint8Array {
  if (envelope.reach.byteLength > MAX_STATE_VECTOR_BYTES) throw new FrameTooLargeError(`blob reach exceeds ${MAX_STATE_VECTOR_BYTES} bytes`)
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, envelope.encoding)
  encoding.writeVarUint8Array(encoder, envelope.reach)
  encoding.writeUint8Array(encoder, envelope.payload)
  return encoding.toUint8Array(encoder)
}

export function decodeBlobEnvelope(bytes: Uint8Array): BlobEnvelope {
  if (bytes.byteLength === 0) throw new MalformedFrameError('empty blob')
  const decoder = decoding.createDecoder(bytes)
  let tag: number
  let reach: Uint8Array
  try {
    tag = decoding.readVarUint(decoder)
    if (!KNOWN_ENCODINGS.has(tag)) throw new UnsupportedVersionError(`blob encoding ${tag} is not supported`)
    const length = decoding.readVarUint(decoder)
    if (length > MAX_STATE_VECTOR_BYTES) throw new FrameTooLargeError(`blob reach exceeds ${MAX_STATE_VECTOR_BYTES} bytes`)
    reach = decoding.readUint8Array(decoder, length)
  } catch (err) {
    if (err instanceof UnsupportedVersionError || err instanceof FrameTooLargeError) throw err
    throw new MalformedFrameError('blob header is truncated', { cause: err })
  }
  return { encoding: tag as BlobEncoding, reach, payload: bytes.subarray(decoder.pos) }
}
