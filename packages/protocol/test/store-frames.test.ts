import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import {
  AccessDeniedError,
  encodeChainLink,
  FrameTooLargeError,
  headOf,
  InvalidDeviceListError,
  InvalidMembershipError,
  MalformedFrameError,
  MAX_ACCOUNT_ID_BYTES,
  MAX_ACTIVITY_ENTRIES,
  MAX_CHUNK_BYTES,
  MAX_DOC_ID_BYTES,
  MAX_EPHEMERAL_BYTES,
  MAX_LINK_BYTES,
  MAX_LINKS_PER_FRAME,
  MAX_NOTICES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FRAME_BYTES,
  MAX_MEMBERS,
  MAX_PEER_ID_BYTES,
  STORE_PROTOCOL,
  STORE_PROTOCOL_VERSION,
  StoreFrameTag,
  UnsupportedVersionError,
  checkStoreVersion,
  decodeStoreFrame,
  docErrorFrame,
  encodeStoreFrame,
  errorFromWire,
  isDeviceToRelayFrame,
  readStoreFrame,
  splitLinks,
  storeErrorFrame,
  type StoreFrame
} from '../src/index.js'
import { distinctAscii, patterned, smallStoreFrameArb, storeFrameArb } from './arbitraries.js'
import { decodesSafely as helpersDecodesSafely, expectSameValue, mutate, mutationArb, varUint } from './helpers.js'
import { largestLink, realChain } from './wire-chains.js'

const decodesSafely = (bytes: Uint8Array): void => helpersDecodesSafely(bytes, { read: readStoreFrame, decode: decodeStoreFrame, encode: encodeStoreFrame })

const tags = Object.values(StoreFrameTag)
const tagArb = fc.oneof(fc.constantFrom(...tags), fc.integer({ min: 0, max: 40 }))
const boundValues = [
  MAX_DOC_ID_BYTES,
  MAX_CHUNK_BYTES,
  MAX_EPHEMERAL_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_ACCOUNT_ID_BYTES,
  MAX_LINKS_PER_FRAME,
  MAX_ACTIVITY_ENTRIES,
  MAX_MEMBERS,
  MAX_FRAME_BYTES,
  2 ** 30
]
const head = { version: 1, hash: new Uint8Array(32) }

describe('decodeStoreFrame on hostile input (property)', () => {
  it('arbitrary bytes: a frame or a TandemError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), bytes => decodesSafely(bytes)),
      { numRuns: 2000 }
    )
  })

  it('bytes after a valid tag: a frame or a TandemError', () => {
    const arb = fc.tuple(tagArb, fc.uint8Array({ maxLength: 300 }))
    fc.assert(
      fc.property(arb, ([tag, rest]) => decodesSafely(Buffer.concat([varUint(tag), rest]))),
      { numRuns: 2000 }
    )
  })

  it('valid frames mutated, truncated or with forged lengths and counts: a frame or a TandemError', () => {
    const arb = fc.tuple(smallStoreFrameArb, fc.array(mutationArb(boundValues), { minLength: 1, maxLength: 3 }))
    fc.assert(
      fc.property(arb, ([frame, mutations]) => decodesSafely(mutations.reduce(mutate, encodeStoreFrame(frame)))),
      { numRuns: 3000 }
    )
  })

  it('inputs around the frame bound: over it is always FrameTooLargeError', () => {
    const arb = fc.tuple(fc.integer({ min: MAX_FRAME_BYTES - 8, max: MAX_FRAME_BYTES + 8 }), fc.constantFrom(...tags), fc.integer())
    fc.assert(
      fc.property(arb, ([length, tag, seed]) => {
        const bytes = patterned(length, seed)
        bytes[0] = tag
        decodesSafely(bytes)
      }),
      { numRuns: 100 }
    )
  })
})

describe('encode/decode round trip (property)', () => {
  it('decodeStoreFrame(encodeStoreFrame(f)) equals f for every valid frame; none exceeds MAX_FRAME_BYTES', () => {
    fc.assert(
      fc.property(storeFrameArb(), frame => {
        const bytes = encodeStoreFrame(frame) // links runs: up to 64 real links, or one of MAX_LINK_BYTES
        expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
        expectSameValue(decodeStoreFrame(bytes), frame)
      }),
      { numRuns: 1000 }
    )
  })

  it('every type has its tag: device → relay 1..9, relay → device 20..33', () => {
    const device = ['hello', 'offer-links', 'membership', 'subscribe', 'unsubscribe', 'append', 'snapshot', 'ephemeral', 'refetch', 'resume']
    const relay = [
      'welcome',
      'ack',
      'subscribed',
      'blob',
      'notices',
      'snapshot-data',
      'caught-up',
      'ephemeral-data',
      'doc-error',
      'error',
      'live',
      'links',
      'device-activity',
      'member-of'
    ]
    expect(Object.entries(StoreFrameTag)).toEqual([...device.map((t, i) => [t, i + 1]), ...relay.map((t, i) => [t, i + 20])])
    fc.assert(
      fc.property(smallStoreFrameArb, frame => {
        const tag = StoreFrameTag[frame.type]
        expect(encodeStoreFrame(frame)[0]).toBe(tag)
        expect(isDeviceToRelayFrame(frame)).toBe(tag < 20)
      }),
      { numRuns: 200 }
    )
    expect(STORE_PROTOCOL).toBe('/tandem/store/1.0.0')
  })
})

describe('bounds', () => {
  it('the largest hello, welcome, device-activity and links frames fit in one frame', () => {
    const longest: StoreFrame = {
      type: 'hello',
      version: Number.MAX_SAFE_INTEGER,
      accountId: 'a'.repeat(MAX_ACCOUNT_ID_BYTES),
      head: { version: Number.MAX_SAFE_INTEGER, hash: new Uint8Array(32).fill(255) }
    }
    const activity: StoreFrame = {
      type: 'device-activity',
      devices: distinctAscii(MAX_ACTIVITY_ENTRIES, MAX_PEER_ID_BYTES, 0).map(peerId => ({ peerId, lastSeenAt: Number.MAX_SAFE_INTEGER }))
    }
    const sizes = [longest, { type: 'welcome', head: longest.head }, activity, { type: 'links', links: [largestLink()], last: true }].map(frame => {
      const bytes = encodeStoreFrame(frame as StoreFrame)
      expectSameValue(decodeStoreFrame(bytes), frame)
      return bytes.length
    })
    // hello: tag, version, accountId present, accountId, head present, head.version, head.hash
    expect(sizes).toEqual([1 + 8 + 1 + 1 + MAX_ACCOUNT_ID_BYTES + 1 + 8 + 32, 1 + 1 + 8 + 32, 1 + 1 + MAX_ACTIVITY_ENTRIES * (2 + MAX_PEER_ID_BYTES + 8), MAX_LINK_BYTES + 3])
  })

  it('a links or offer-links run holds 1 to MAX_LINKS_PER_FRAME links within the frame bound; splitLinks cuts any chain so', () => {
    const links = realChain().links
    for (const type of ['links', 'offer-links'] as const) {
      expect(() => encodeStoreFrame({ type, links: [], last: true })).toThrow(MalformedFrameError)
      expect(() => decodeStoreFrame(new Uint8Array([StoreFrameTag[type], 0, 1]))).toThrow(/at least one link/)
      expect(() => encodeStoreFrame({ type, links: [...links, ...links].slice(0, MAX_LINKS_PER_FRAME + 1), last: true })).toThrow(FrameTooLargeError)
      const claimed = Buffer.concat([varUint(StoreFrameTag[type]), varUint(MAX_LINKS_PER_FRAME + 1), encodeChainLink(links[0]!)])
      expect(() => decodeStoreFrame(claimed)).toThrow(FrameTooLargeError)
      expect(() => encodeStoreFrame({ type, links: [largestLink(), largestLink()], last: true })).toThrow(FrameTooLargeError)
      const full = { type, links: links.slice(0, MAX_LINKS_PER_FRAME), last: false }
      expectSameValue(decodeStoreFrame(encodeStoreFrame(full)), full)
    }
    const mixed = [links[0]!, largestLink(), ...links.slice(1), largestLink()]
    const runs = splitLinks(mixed)
    expectSameValue(runs.flat(), mixed)
    for (const run of runs) {
      expect(run.length).toBeLessThanOrEqual(MAX_LINKS_PER_FRAME)
      expect(encodeStoreFrame({ type: 'links', links: run, last: false }).length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
    }
  })

  it('names at most MAX_ACTIVITY_ENTRIES devices in device-activity, either way', () => {
    const devices = Array.from({ length: MAX_ACTIVITY_ENTRIES + 1 }, (_, i) => ({ peerId: `p${i}`, lastSeenAt: i }))
    expect(() => encodeStoreFrame({ type: 'device-activity', devices })).toThrow(FrameTooLargeError)
    const claimed = Buffer.concat([varUint(StoreFrameTag['device-activity']), varUint(MAX_ACTIVITY_ENTRIES + 1), new Uint8Array(4 * (MAX_ACTIVITY_ENTRIES + 1))])
    expect(() => decodeStoreFrame(claimed)).toThrow(FrameTooLargeError)
    expect(() => encodeStoreFrame({ type: 'device-activity', devices: [{ peerId: 'p'.repeat(MAX_PEER_ID_BYTES + 1), lastSeenAt: 0 }] })).toThrow(FrameTooLargeError)
    expect(() => encodeStoreFrame({ type: 'device-activity', devices: [{ peerId: 'p', lastSeenAt: -1 }] })).toThrow(MalformedFrameError)
    const none: StoreFrame = { type: 'device-activity', devices: [] }
    expect(Array.from(encodeStoreFrame(none))).toEqual([StoreFrameTag['device-activity'], 0])
  })

  it('each field bound is enforced on both sides', () => {
    const ok = (f: StoreFrame) => expectSameValue(decodeStoreFrame(encodeStoreFrame(f)), f)
    const tooBig = (f: StoreFrame) => expect(() => encodeStoreFrame(f)).toThrow(FrameTooLargeError)
    ok({ type: 'append', docId: 'd'.repeat(MAX_DOC_ID_BYTES), uploadId: Number.MAX_SAFE_INTEGER, final: true, chunk: new Uint8Array(MAX_CHUNK_BYTES) })
    tooBig({ type: 'append', docId: 'd', uploadId: 1, final: true, chunk: new Uint8Array(MAX_CHUNK_BYTES + 1) })
    tooBig({ type: 'subscribe', docId: 'd'.repeat(MAX_DOC_ID_BYTES + 1), since: 0 })
    ok({ type: 'snapshot-data', docId: 'd', covers: 9, final: false, chunk: new Uint8Array(MAX_CHUNK_BYTES) })
    tooBig({ type: 'blob', docId: 'd', seq: 1, final: true, chunk: new Uint8Array(MAX_CHUNK_BYTES + 1) })
    ok({ type: 'live', docId: 'd', liveId: Number.MAX_SAFE_INTEGER, blob: new Uint8Array(MAX_CHUNK_BYTES) })
    tooBig({ type: 'live', docId: 'd', liveId: 1, blob: new Uint8Array(MAX_CHUNK_BYTES + 1) })
    ok({ type: 'ephemeral', docId: 'd', payload: new Uint8Array(MAX_EPHEMERAL_BYTES) })
    tooBig({ type: 'ephemeral', docId: 'd', payload: new Uint8Array(MAX_EPHEMERAL_BYTES + 1) })
    tooBig({ type: 'ephemeral-data', docId: 'd', from: 'p', payload: new Uint8Array(MAX_EPHEMERAL_BYTES + 1) })
    tooBig({ type: 'ephemeral-data', docId: 'd', from: 'p'.repeat(MAX_PEER_ID_BYTES + 1), payload: new Uint8Array() })
    tooBig({ type: 'doc-error', docId: 'd', uploadId: 0, code: 'ERR_X', message: 'm'.repeat(MAX_ERROR_MESSAGE_BYTES + 1) })
    expect(() => encodeStoreFrame({ type: 'ack', docId: 'd', uploadId: 1, seq: 2 ** 53, sinceSnapshot: 0, tailBytes: 0, snapshotBytes: 0 })).toThrow(MalformedFrameError)
    expect(() => encodeStoreFrame({ type: 'subscribe', docId: 'd', since: -1 })).toThrow(MalformedFrameError)
    tooBig({ type: 'hello', version: 1, accountId: 'a'.repeat(MAX_ACCOUNT_ID_BYTES + 1), head: null })
    expect(() => encodeStoreFrame({ type: 'welcome', head: { version: 0, hash: new Uint8Array(32) } })).toThrow(MalformedFrameError)
    // Signed values inside frames report their own error classes.
    const link = realChain().links[1]!
    expect(() => encodeStoreFrame({ type: 'offer-links', links: [{ ...link, signature: new Uint8Array(1) }], last: true })).toThrow(InvalidDeviceListError)
    expect(() =>
      encodeStoreFrame({
        type: 'membership',
        record: { docId: 'd', version: 1, members: ['a', 'a'], issuedAt: 0, signerAccount: 'a', signerKey: new Uint8Array(32), signature: new Uint8Array(64) }
      })
    ).toThrow(InvalidMembershipError)
  })

  it('a frame claiming a 1 GiB chunk or 2^30 links fails fast, without allocating', () => {
    const chunk = Buffer.concat([varUint(StoreFrameTag.blob), varUint(1), Buffer.from('d'), varUint(1), varUint(1), varUint(2 ** 30), new Uint8Array(16)])
    expect(() => decodeStoreFrame(chunk)).toThrow(FrameTooLargeError)
    const links = Buffer.concat([varUint(StoreFrameTag.links), varUint(2 ** 30), new Uint8Array(16)])
    const start = performance.now()
    expect(() => decodeStoreFrame(links)).toThrow(FrameTooLargeError)
    expect(performance.now() - start).toBeLessThan(50)
    // Within the bound but more entries than bytes left: refused before building the array.
    const short = Buffer.concat([varUint(StoreFrameTag['offer-links']), varUint(MAX_LINKS_PER_FRAME), new Uint8Array(16)])
    expect(() => decodeStoreFrame(short)).toThrow(/entries claimed/)
  })

  it('names at most MAX_NOTICES entries in a notices frame, either way', () => {
    const entries = Array.from({ length: MAX_NOTICES + 1 }, (_, i) => ({ seq: i + 1, liveId: i }))
    expect(() => encodeStoreFrame({ type: 'notices', docId: 'd', entries })).toThrow(FrameTooLargeError)
    const claimed = Buffer.concat([varUint(StoreFrameTag.notices), varUint(1), Buffer.from('d'), varUint(MAX_NOTICES + 1), new Uint8Array(2 * (MAX_NOTICES + 1))])
    expect(() => decodeStoreFrame(claimed)).toThrow(FrameTooLargeError)
    const full = { type: 'notices' as const, docId: 'd', entries: entries.slice(0, MAX_NOTICES) }
    expect(decodeStoreFrame(encodeStoreFrame(full))).toEqual(full)
  })

  it('rejects trailing bytes, bad bools, unknown tags and tag 0', () => {
    const notices = encodeStoreFrame({ type: 'notices', docId: 'd', entries: [{ seq: 5, liveId: 0 }] })
    expect(() => decodeStoreFrame(Buffer.concat([notices, new Uint8Array([0])]))).toThrow(MalformedFrameError)
    const welcome = encodeStoreFrame({ type: 'welcome', head: null })
    expect(Array.from(welcome)).toEqual([StoreFrameTag.welcome, 0])
    expect(() => decodeStoreFrame(new Uint8Array([StoreFrameTag.welcome, 2]))).toThrow(/bool/)
    for (const tag of [0, 11, 19, 34, 35]) expect(() => decodeStoreFrame(new Uint8Array([tag, 0]))).toThrow(/unknown frame tag/)
    expect(() => decodeStoreFrame(new Uint8Array())).toThrow(MalformedFrameError)
  })

  it('chunks and payloads are views into the input; chain links, heads and signed values are copies', () => {
    const bytes = encodeStoreFrame({ type: 'blob', docId: 'd', seq: 1, final: true, chunk: new Uint8Array([1, 2, 3]) })
    const frame = decodeStoreFrame(bytes)
    expect(frame.type === 'blob' && frame.chunk.buffer).toBe(bytes.buffer)
    const linksBytes = encodeStoreFrame({ type: 'links', links: realChain().links.slice(0, 1), last: true })
    const links = decodeStoreFrame(linksBytes)
    expect(links.type === 'links' && links.links[0]!.signature.buffer).not.toBe(linksBytes.buffer)
    const helloBytes = encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: 'a', head })
    const hello = decodeStoreFrame(helloBytes)
    expect(hello.type === 'hello' && hello.head?.hash.buffer).not.toBe(helloBytes.buffer)
  })
})

describe('hello and versions', () => {
  it('a device of an account names it and its head; a device with no account yet names neither', () => {
    const { accountId, states } = realChain()
    const known: StoreFrame = { type: 'hello', version: STORE_PROTOCOL_VERSION, accountId, head: headOf(states.at(-1)!) }
    expectSameValue(decodeStoreFrame(encodeStoreFrame(known)), known)
    const linking: StoreFrame = { type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: null, head: null }
    expect(Array.from(encodeStoreFrame(linking))).toEqual([StoreFrameTag.hello, STORE_PROTOCOL_VERSION, 0, 0])
    expect(decodeStoreFrame(encodeStoreFrame(linking))).toEqual(linking)
    // The codec leaves judging the pair to the relay: an account without a head (a device that lost its chain) decodes.
    const noHead: StoreFrame = { type: 'hello', version: STORE_PROTOCOL_VERSION, accountId, head: null }
    expect(decodeStoreFrame(encodeStoreFrame(noHead))).toEqual(noHead)
    expect(() => decodeStoreFrame(new Uint8Array([StoreFrameTag.hello, STORE_PROTOCOL_VERSION, 2, 0]))).toThrow(/bool/)
  })

  it('a hello with an unknown version decodes; checkStoreVersion refuses it', () => {
    const frame = decodeStoreFrame(encodeStoreFrame({ type: 'hello', version: 7, accountId: null, head: null }))
    expect(frame).toMatchObject({ type: 'hello', version: 7, accountId: null, head: null })
    expect(() => checkStoreVersion(7)).toThrow(UnsupportedVersionError)
    expect(() => checkStoreVersion(1)).toThrow(UnsupportedVersionError) // certificates and device lists: before the device chain
    expect(() => checkStoreVersion(STORE_PROTOCOL_VERSION)).not.toThrow()
    expect(STORE_PROTOCOL_VERSION).toBe(2)
  })

  it('a hello of another version that does not parse as ours is UnsupportedVersionError', () => {
    for (const version of [1, STORE_PROTOCOL_VERSION + 1]) {
      const foreign = Buffer.concat([varUint(StoreFrameTag.hello), varUint(version), new Uint8Array([9, 9, 9])])
      expect(() => decodeStoreFrame(foreign)).toThrow(UnsupportedVersionError)
      expect(() => readStoreFrame(decoding.createDecoder(foreign))).toThrow(UnsupportedVersionError)
    }
    const ours = Buffer.concat([varUint(StoreFrameTag.hello), varUint(STORE_PROTOCOL_VERSION), new Uint8Array([1, 9, 9])])
    expect(() => decodeStoreFrame(ours)).toThrow(MalformedFrameError)
    const badHead = Buffer.concat([varUint(StoreFrameTag.hello), varUint(STORE_PROTOCOL_VERSION), new Uint8Array([0, 1, 0]), new Uint8Array(32)])
    expect(() => decodeStoreFrame(badHead)).toThrow(/at least 1/)
  })
})

describe('error frames', () => {
  it('storeErrorFrame and docErrorFrame cut to their bounds and round-trip', () => {
    const long = new AccessDeniedError('😀'.repeat(MAX_ERROR_MESSAGE_BYTES))
    const e = storeErrorFrame(long)
    expect(Buffer.byteLength(e.message)).toBe(MAX_ERROR_MESSAGE_BYTES)
    expectSameValue(decodeStoreFrame(encodeStoreFrame(e)), e)
    const d = docErrorFrame('d'.repeat(MAX_DOC_ID_BYTES + 5), -1, long)
    expect(d).toMatchObject({ type: 'doc-error', docId: 'd'.repeat(MAX_DOC_ID_BYTES), uploadId: 0, code: 'ERR_ACCESS_DENIED' })
    expectSameValue(decodeStoreFrame(encodeStoreFrame(d)), d)
    expect(errorFromWire(d.code, d.message)).toBeInstanceOf(AccessDeniedError)
  })
})
