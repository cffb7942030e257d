/** Shared fast-check generators for valid protocol values. */
import fc from 'fast-check'
import {
  MAX_CHUNK_BYTES,
  MAX_DEVICE_NAME_BYTES,
  MAX_DOC_ID_BYTES,
  MAX_ERROR_CODE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_PEER_ID_BYTES,
  MAX_STATE_VECTOR_BYTES,
  type DeviceCertificate,
  type SyncFrame,
} from '../src/index.js'

/** Strings within `maxBytes` of UTF-8: any code points (≤ 4 bytes each), or ASCII right up to the bound. */
export const boundedString = (maxBytes: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: Math.floor(maxBytes / 4) }),
    fc.string({ unit: 'grapheme-ascii', maxLength: maxBytes }),
    fc.string({ unit: 'grapheme-ascii', minLength: maxBytes, maxLength: maxBytes }),
  )

/** Mostly small arrays; sometimes a large one (filled cheaply, not byte by byte), sometimes exactly `max`. */
export const boundedBytes = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max }), fc.integer()).map(([n, seed]) => patterned(n, seed)) },
    { weight: 1, arbitrary: fc.integer().map((seed) => patterned(max, seed)) },
  )

export const patterned = (length: number, seed: number): Uint8Array => {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff
  return bytes
}

export const certificateArb: fc.Arbitrary<DeviceCertificate> = fc.record({
  accountPublicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  peerId: boundedString(MAX_PEER_ID_BYTES),
  name: boundedString(MAX_DEVICE_NAME_BYTES),
  createdAt: fc.maxSafeNat(),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
})

export const frameArb = (bytes: (max: number) => fc.Arbitrary<Uint8Array> = boundedBytes): fc.Arbitrary<SyncFrame> =>
  fc.oneof(
    fc.record({ type: fc.constant('hello' as const), version: fc.maxSafeNat(), certificate: certificateArb }),
    fc.record({
      type: fc.constant('sync-request' as const),
      docId: boundedString(MAX_DOC_ID_BYTES),
      stateVector: bytes(MAX_STATE_VECTOR_BYTES),
    }),
    fc.record({
      type: fc.constantFrom('sync-reply' as const, 'update' as const),
      docId: boundedString(MAX_DOC_ID_BYTES),
      final: fc.boolean(),
      chunk: bytes(MAX_CHUNK_BYTES),
    }),
    fc.record({
      type: fc.constant('error' as const),
      code: boundedString(MAX_ERROR_CODE_BYTES),
      message: boundedString(MAX_ERROR_MESSAGE_BYTES),
    }),
  )

/** Small frames only, for mutation tests where big payloads just slow things down. */
export const smallFrameArb = frameArb(() => fc.uint8Array({ maxLength: 32 }))
