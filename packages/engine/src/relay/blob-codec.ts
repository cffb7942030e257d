import { BlobEncoding, MalformedFrameError, UnsupportedVersionError, decodeBlobEnvelope, encodeBlobEnvelope } from '@tandem/protocol'
import type { Compression } from '../platform/compression.js'
import { decodeSv, encodeSv, type StateVector } from './state-vector.js'

/** Largest update a blob may inflate to: a relay cannot make a device allocate more. */
export const MAX_INFLATED_BLOB_BYTES = 512 * 1024 * 1024

export interface DecodedBlob {
  update: Uint8Array
  /** The clocks the update reaches (see BlobEnvelope.reach). */
  reach: StateVector
}

/**
 * A Yjs update as a relay blob and back: compressed with the platform's encoding unless that
 * does not make it smaller, with the clocks it reaches in the header. Reads every encoding.
 */
export class BlobCodec {
  constructor(private readonly compression: Compression) {}

  async encode(update: Uint8Array, reach: StateVector): Promise<Uint8Array> {
    const packed = await this.compression.compress(update)
    const compressed = packed.byteLength + 1 < update.byteLength
    return encodeBlobEnvelope({ encoding: compressed ? this.compression.encoding : BlobEncoding.Raw, reach: encodeSv(reach), payload: compressed ? packed : update })
  }

  /** The Yjs update inside a relay blob. Throws a typed error for an unknown encoding or bad bytes. */
  async decode(blob: Uint8Array, maxBytes = MAX_INFLATED_BLOB_BYTES): Promise<DecodedBlob> {
    const { encoding, reach: reachBytes, payload } = decodeBlobEnvelope(blob)
    let reach: StateVector
    try {
      reach = decodeSv(reachBytes)
    } catch (err) {
      throw new MalformedFrameError('relay blob has an unreadable reach', { cause: err })
    }
    if (encoding === BlobEncoding.Raw) return { update: payload, reach }
    try {
      return { update: await this.compression.decompress(encoding, payload, maxBytes), reach }
    } catch (err) {
      if (err instanceof UnsupportedVersionError) throw err
      throw new MalformedFrameError('relay blob does not decompress', { cause: err })
    }
  }
}
