/** Shared fast-check generators for valid protocol values. */
import fc from 'fast-check'
import {
  MAX_ACCOUNT_ID_BYTES,
  MAX_CHUNK_BYTES,
  MAX_DEVICES,
  MAX_EPHEMERAL_BYTES,
  MAX_NOTICES,
  MAX_MEMBERS,
  MAX_REVOKED,
  MAX_DEVICE_NAME_BYTES,
  MAX_DOC_ID_BYTES,
  MAX_ERROR_CODE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_PEER_ID_BYTES,
  MAX_STATE_VECTOR_BYTES,
  type DeviceCertificate,
  type DeviceListEntry,
  type SignedDeviceList,
  type SignedMembership,
  type StoreFrame,
  type SyncFrame
} from '../src/index.js'

/** Strings within `maxBytes` of UTF-8: any code points (≤ 4 bytes each), or ASCII right up to the bound. */
export const boundedString = (maxBytes: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: Math.floor(maxBytes / 4) }),
    fc.string({ unit: 'grapheme-ascii', maxLength: maxBytes }),
    fc.string({ unit: 'grapheme-ascii', minLength: maxBytes, maxLength: maxBytes })
  )

/** Mostly small arrays; sometimes a large one (filled cheaply, not byte by byte), sometimes exactly `max`. */
export const boundedBytes = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max }), fc.integer()).map(([n, seed]) => patterned(n, seed)) },
    { weight: 1, arbitrary: fc.integer().map(seed => patterned(max, seed)) }
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
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
})

export const frameArb = (bytes: (max: number) => fc.Arbitrary<Uint8Array> = boundedBytes): fc.Arbitrary<SyncFrame> =>
  fc.oneof(
    fc.record({ type: fc.constant('hello' as const), version: fc.maxSafeNat(), certificate: certificateArb }),
    fc.record({
      type: fc.constant('sync-request' as const),
      docId: boundedString(MAX_DOC_ID_BYTES),
      stateVector: bytes(MAX_STATE_VECTOR_BYTES)
    }),
    fc.record({
      type: fc.constantFrom('sync-reply' as const, 'update' as const),
      docId: boundedString(MAX_DOC_ID_BYTES),
      final: fc.boolean(),
      chunk: bytes(MAX_CHUNK_BYTES)
    }),
    fc.record({
      type: fc.constant('error' as const),
      code: boundedString(MAX_ERROR_CODE_BYTES),
      message: boundedString(MAX_ERROR_MESSAGE_BYTES)
    }),
    fc.record({ type: fc.constant('peers' as const), peerIds: fc.array(boundedString(MAX_PEER_ID_BYTES), { maxLength: 8 }) })
  )

/** Small frames only, for mutation tests where big payloads just slow things down. */
export const smallFrameArb = frameArb(() => fc.uint8Array({ maxLength: 32 }))

/** `count` distinct strings of exactly `bytes` ASCII bytes (cheap: no shrinking, no uniqueness filter). */
export const distinctAscii = (count: number, bytes: number, seed: number): string[] => Array.from({ length: count }, (_, i) => `${i.toString(36)}-${seed}-`.padEnd(bytes, 'x'))

const entryArb: fc.Arbitrary<DeviceListEntry> = fc.record({
  peerId: boundedString(MAX_PEER_ID_BYTES),
  name: boundedString(MAX_DEVICE_NAME_BYTES),
  createdAt: fc.maxSafeNat()
})

/** Peer ids from a small pool, so lists overlap (revoked and listed, successors sharing revocations). */
export const peerIdPool = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']

const devicesArb: fc.Arbitrary<DeviceListEntry[]> = fc.oneof(
  { weight: 10, arbitrary: fc.uniqueArray(entryArb, { selector: d => d.peerId, maxLength: 6 }) },
  // Every bound at once: MAX_DEVICES entries with the longest peer ids and names.
  {
    weight: 1,
    arbitrary: fc
      .integer()
      .map(seed =>
        distinctAscii(MAX_DEVICES, MAX_PEER_ID_BYTES, seed).map((peerId, i) => ({ peerId, name: 'n'.repeat(MAX_DEVICE_NAME_BYTES), createdAt: Number.MAX_SAFE_INTEGER - i }))
      )
  }
)

const revokedArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 10, arbitrary: fc.uniqueArray(fc.oneof(fc.constantFrom(...peerIdPool), boundedString(MAX_PEER_ID_BYTES)), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.integer().map(seed => distinctAscii(MAX_REVOKED, MAX_PEER_ID_BYTES, seed)) }
)

export const deviceListArb: fc.Arbitrary<SignedDeviceList> = fc.record({
  accountPublicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  devices: devicesArb,
  revoked: revokedArb,
  issuedAt: fc.maxSafeNat(),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
})

/** Small lists only, for mutation tests. */
export const smallDeviceListArb: fc.Arbitrary<SignedDeviceList> = fc.record({
  accountPublicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  devices: fc.uniqueArray(fc.record({ peerId: fc.constantFrom(...peerIdPool), name: fc.string({ maxLength: 4 }), createdAt: fc.nat() }), {
    selector: d => d.peerId,
    maxLength: 3
  }),
  revoked: fc.uniqueArray(fc.constantFrom(...peerIdPool), { maxLength: 3 }),
  issuedAt: fc.nat(),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
})

const membersArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 10, arbitrary: fc.uniqueArray(boundedString(MAX_ACCOUNT_ID_BYTES), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.integer().map(seed => distinctAscii(MAX_MEMBERS, MAX_ACCOUNT_ID_BYTES, seed)) }
)

export const membershipArb: fc.Arbitrary<SignedMembership> = fc.record({
  docId: boundedString(MAX_DOC_ID_BYTES),
  version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  members: membersArb,
  issuedAt: fc.maxSafeNat(),
  signerPublicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
})

export const smallMembershipArb: fc.Arbitrary<SignedMembership> = fc.record({
  docId: fc.string({ maxLength: 8 }),
  version: fc.integer({ min: 1, max: 1000 }),
  members: fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  issuedAt: fc.nat(),
  signerPublicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
})

export const storeFrameArb = (
  bytes: (max: number) => fc.Arbitrary<Uint8Array> = boundedBytes,
  list: fc.Arbitrary<SignedDeviceList> = deviceListArb,
  record: fc.Arbitrary<SignedMembership> = membershipArb
): fc.Arbitrary<StoreFrame> => {
  const docId = boundedString(MAX_DOC_ID_BYTES)
  const n = fc.maxSafeNat()
  const c = <T extends string>(t: T) => fc.constant(t)
  return fc.oneof(
    fc.record({ type: c('hello'), version: n, certificate: certificateArb, deviceList: fc.option(list, { nil: null }) }),
    fc.record({ type: c('device-list'), list }),
    fc.record({ type: c('membership'), record }),
    fc.record({ type: c('subscribe'), docId, since: n }),
    fc.record({ type: c('unsubscribe'), docId }),
    fc.record({ type: c('refetch'), docId }),
    fc.record({ type: c('append'), docId, uploadId: n, final: fc.boolean(), chunk: bytes(MAX_CHUNK_BYTES) }),
    fc.record({ type: c('snapshot'), docId, uploadId: n, covers: n, final: fc.boolean(), chunk: bytes(MAX_CHUNK_BYTES) }),
    fc.record({ type: c('ephemeral'), docId, payload: bytes(MAX_EPHEMERAL_BYTES) }),
    fc.record({ type: c('welcome'), deviceList: fc.option(list, { nil: null }) }),
    fc.record({ type: c('ack'), docId, uploadId: n, seq: n, sinceSnapshot: n, tailBytes: n, snapshotBytes: n }),
    fc.record({ type: c('subscribed'), docId, head: n, entries: n, bytes: n }),
    fc.record({ type: c('blob'), docId, seq: n, final: fc.boolean(), chunk: bytes(MAX_CHUNK_BYTES) }),
    fc.record({ type: c('notices'), docId, entries: fc.array(fc.record({ seq: n, liveId: n }), { maxLength: MAX_NOTICES }) }),
    fc.record({ type: c('snapshot-data'), docId, covers: n, final: fc.boolean(), chunk: bytes(MAX_CHUNK_BYTES) }),
    fc.record({ type: c('caught-up'), docId, head: n }),
    fc.record({ type: c('ephemeral-data'), docId, from: boundedString(MAX_PEER_ID_BYTES), payload: bytes(MAX_EPHEMERAL_BYTES) }),
    fc.record({
      type: c('doc-error'),
      docId,
      uploadId: n,
      code: boundedString(MAX_ERROR_CODE_BYTES),
      message: boundedString(MAX_ERROR_MESSAGE_BYTES)
    }),
    fc.record({ type: c('error'), code: boundedString(MAX_ERROR_CODE_BYTES), message: boundedString(MAX_ERROR_MESSAGE_BYTES) }),
    fc.record({ type: c('live'), docId, liveId: n, blob: bytes(MAX_CHUNK_BYTES) })
  ) as fc.Arbitrary<StoreFrame>
}

/** Small frames only, for mutation tests where big payloads just slow things down. */
export const smallStoreFrameArb = storeFrameArb(() => fc.uint8Array({ maxLength: 32 }), smallDeviceListArb, smallMembershipArb)
