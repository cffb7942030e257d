/** Shared fast-check generators for valid protocol values. */
import fc from 'fast-check'
import {
  type ChainHead,
  type ChainLink,
  type DeviceActivity,
  headOf,
  MAX_ACCOUNT_ID_BYTES,
  MAX_ACTIVITY_ENTRIES,
  MAX_CHUNK_BYTES,
  MAX_EPHEMERAL_BYTES,
  MAX_LINKS_PER_FRAME,
  MAX_NOTICES,
  MAX_MEMBERS,
  MAX_DOC_ID_BYTES,
  MAX_ERROR_CODE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_PEER_ID_BYTES,
  MAX_STATE_VECTOR_BYTES,
  type ChatKeys,
  KEY_BOX_BYTES,
  WRAPPED_KEY_BYTES,
  type SignedMembership,
  type StoreFrame,
  type SyncFrame
} from '../src/index.js'
import { largestLink, REAL_CHAIN_LENGTH, realChain } from './wire-chains.js'

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

/** `count` distinct strings of exactly `bytes` ASCII bytes (cheap: no shrinking, no uniqueness filter). */
export const distinctAscii = (count: number, bytes: number, seed: number): string[] => Array.from({ length: count }, (_, i) => `${i.toString(36)}-${seed}-`.padEnd(bytes, 'x'))

/** An account id: the real chain's, or any string within the bound (the codec does not judge the spelling). */
export const accountIdArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(null).map(() => realChain().accountId),
  boundedString(MAX_ACCOUNT_ID_BYTES)
)

/** A head: of a real chain at some link, or any version ≥ 1 and hash. */
export const chainHeadArb: fc.Arbitrary<ChainHead> = fc.oneof(
  fc.nat({ max: REAL_CHAIN_LENGTH - 1 }).map(i => headOf(realChain().states[i]!)),
  fc.record({ version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), hash: fc.uint8Array({ minLength: 32, maxLength: 32 }) })
)

/**
 * A run of consecutive real links, 1 to MAX_LINKS_PER_FRAME of them (64 real links fit in
 * one frame), or the one largest link a frame can carry (MAX_LINK_BYTES).
 */
export const linkRunArb: fc.Arbitrary<ChainLink[]> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(fc.nat({ max: REAL_CHAIN_LENGTH - 1 }), fc.integer({ min: 1, max: MAX_LINKS_PER_FRAME })).map(([start, n]) => realChain().links.slice(start, start + n))
  },
  { weight: 1, arbitrary: fc.constant(null).map(() => realChain().links.slice(0, MAX_LINKS_PER_FRAME)) },
  { weight: 1, arbitrary: fc.constant(null).map(() => [largestLink()]) }
)

/** One or two of the first real links (a few hundred bytes each), for mutation tests. */
export const smallLinkRunArb: fc.Arbitrary<ChainLink[]> = fc
  .tuple(fc.nat({ max: 3 }), fc.integer({ min: 1, max: 2 }))
  .map(([start, n]) => realChain().links.slice(start, start + n))

const activityEntryArb: fc.Arbitrary<DeviceActivity> = fc.record({ peerId: boundedString(MAX_PEER_ID_BYTES), lastSeenAt: fc.maxSafeNat() })

/** A device-activity list: a few entries, or MAX_ACTIVITY_ENTRIES with the longest peer ids. */
export const activityArb: fc.Arbitrary<DeviceActivity[]> = fc.oneof(
  { weight: 8, arbitrary: fc.array(activityEntryArb, { maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc.integer().map(seed => distinctAscii(MAX_ACTIVITY_ENTRIES, MAX_PEER_ID_BYTES, seed).map((peerId, i) => ({ peerId, lastSeenAt: Number.MAX_SAFE_INTEGER - i })))
  }
)

export const frameArb = (bytes: (max: number) => fc.Arbitrary<Uint8Array> = boundedBytes, runs: fc.Arbitrary<ChainLink[]> = linkRunArb): fc.Arbitrary<SyncFrame> =>
  fc.oneof(
    fc.record({ type: fc.constant('hello' as const), version: fc.maxSafeNat(), accountId: accountIdArb, head: chainHeadArb }),
    fc.record({ type: fc.constant('links' as const), links: runs, last: fc.boolean() }),
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
    fc.record({ type: fc.constant('peers' as const), peerIds: fc.array(boundedString(MAX_PEER_ID_BYTES), { maxLength: 8 }) }),
    fc.record({ type: fc.constant('ephemeral' as const), docId: boundedString(MAX_DOC_ID_BYTES), payload: bytes(MAX_EPHEMERAL_BYTES) })
  )

/** Small frames only, for mutation tests where big payloads just slow things down. */
export const smallFrameArb = frameArb(() => fc.uint8Array({ maxLength: 32 }), smallLinkRunArb)

const membersArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 10, arbitrary: fc.uniqueArray(boundedString(MAX_ACCOUNT_ID_BYTES), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.integer().map(seed => distinctAscii(MAX_MEMBERS, MAX_ACCOUNT_ID_BYTES, seed)) }
)

const unkeyedMembershipArb: fc.Arbitrary<SignedMembership> = fc.record({
  docId: boundedString(MAX_DOC_ID_BYTES),
  version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  members: membersArb,
  issuedAt: fc.maxSafeNat(),
  signerAccount: accountIdArb,
  signerKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
})

const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

/** A chat's key material for `members` (one box each, in order), at any epoch up to `maxEpoch`. */
export const chatKeysArb = (members: readonly string[], maxEpoch = 6): fc.Arbitrary<ChatKeys> =>
  fc.integer({ min: 1, max: maxEpoch }).chain(epoch =>
    fc.record({
      epoch: fc.constant(epoch),
      keyId: bytesOf(16),
      boxes: fc.tuple(
        ...members.map(account =>
          fc.record({ account: fc.constant(account), generation: fc.integer({ min: 1, max: 2 ** 40 }), recipient: bytesOf(32), box: bytesOf(KEY_BOX_BYTES) })
        )
      ),
      previous: fc.array(bytesOf(WRAPPED_KEY_BYTES), { minLength: epoch - 1, maxLength: epoch - 1 })
    })
  )

/** Records of a chat between accounts (format 3): a few members, each with a box. */
export const keyedMembershipArb: fc.Arbitrary<SignedMembership> = fc
  .tuple(unkeyedMembershipArb, fc.uniqueArray(boundedString(MAX_ACCOUNT_ID_BYTES), { minLength: 1, maxLength: 5 }))
  .chain(([{ signature, ...record }, members]) => chatKeysArb(members).map(keys => ({ ...record, members, keys, signature })))

export const membershipArb: fc.Arbitrary<SignedMembership> = fc.oneof(unkeyedMembershipArb, keyedMembershipArb)

export const smallMembershipArb: fc.Arbitrary<SignedMembership> = fc.record({
  docId: fc.string({ maxLength: 8 }),
  version: fc.integer({ min: 1, max: 1000 }),
  members: fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  issuedAt: fc.nat(),
  signerAccount: fc.string({ maxLength: 4 }),
  signerKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
})

export const storeFrameArb = (
  bytes: (max: number) => fc.Arbitrary<Uint8Array> = boundedBytes,
  runs: fc.Arbitrary<ChainLink[]> = linkRunArb,
  record: fc.Arbitrary<SignedMembership> = membershipArb
): fc.Arbitrary<StoreFrame> => {
  const docId = boundedString(MAX_DOC_ID_BYTES)
  const n = fc.maxSafeNat()
  const c = <T extends string>(t: T) => fc.constant(t)
  return fc.oneof(
    fc.record({ type: c('hello'), version: n, accountId: fc.option(accountIdArb, { nil: null }), head: fc.option(chainHeadArb, { nil: null }) }),
    fc.record({ type: c('offer-links'), links: runs, last: fc.boolean() }),
    fc.record({ type: c('membership'), record }),
    fc.record({ type: c('subscribe'), docId, since: n }),
    fc.record({ type: c('unsubscribe'), docId }),
    fc.record({ type: c('refetch'), docId }),
    fc.record({ type: c('resume'), docId, since: n }),
    fc.record({ type: c('append'), docId, uploadId: n, final: fc.boolean(), chunk: bytes(MAX_CHUNK_BYTES) }),
    fc.record({ type: c('snapshot'), docId, uploadId: n, covers: n, final: fc.boolean(), chunk: bytes(MAX_CHUNK_BYTES) }),
    fc.record({ type: c('ephemeral'), docId, payload: bytes(MAX_EPHEMERAL_BYTES) }),
    fc.record({ type: c('welcome'), head: fc.option(chainHeadArb, { nil: null }) }),
    fc.record({ type: c('links'), links: runs, last: fc.boolean() }),
    fc.record({ type: c('device-activity'), devices: activityArb }),
    fc.record({ type: c('member-of'), record }),
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
export const smallStoreFrameArb = storeFrameArb(() => fc.uint8Array({ maxLength: 32 }), smallLinkRunArb, smallMembershipArb)
