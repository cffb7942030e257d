import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MalformedFrameError, UnsupportedVersionError } from './errors.js'

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
} as const

export type BlobEncoding = (typeof BlobEncoding)[keyof typeof BlobEncoding]

export interface BlobEnvelope {
  encoding: BlobEncoding
  payload: Uint8Array
}

export function encodeBlobEnvelope(envelope: BlobEnvelope): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, envelope.encoding)
  encoding.writeUint8Array(encoder, envelope.payload)
  return encoding.toUint8Array(encoder)
}

export function decodeBlobEnvelope(bytes: Uint8Array): BlobEnvelope {
  if (bytes.byteLength === 0) throw new MalformedFrameError('empty blob')
  const decoder = decoding.createDecoder(bytes)
  let tag: number
  try {
    tag = decoding.readVarUint(decoder)
  } catch (err) {
    throw new MalformedFrameError('blob has no encoding tag', { cause: err })
  }
  if (tag !== BlobEncoding.Raw && tag !== BlobEncoding.Brotli) throw new UnsupportedVersionError(`blob encoding ${tag} is not supported`)
  return { encoding: tag, payload: bytes.subarray(decoder.pos) }
}
