import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import {
  encodeChainLink,
  FrameTooLargeError,
  headOf,
  headOfLinks,
  InvalidDeviceListError,
  MalformedFrameError,
  MAX_ACCOUNT_ID_BYTES,
  MAX_CHUNK_BYTES,
  MAX_LINK_BYTES,
  MAX_LINKS_PER_FRAME,
  MAX_DOC_ID_BYTES,
  MAX_EPHEMERAL_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FRAME_BYTES,
  MAX_STATE_VECTOR_BYTES,
  SYNC_PROTOCOL_VERSION,
  SyncFrameTag,
  TandemError,
  UnsupportedVersionError,
  checkVersion,
  chunkPayload,
  decodeSyncFrame,
  encodeSyncFrame,
  errorFrame,
  readSyncFrame,
  splitLinks,
  type SyncFrame
} from '../src/index.js'
import { frameArb, patterned, smallFrameArb } from './arbitraries.js'
import { largestLink, realChain } from './wire-chains.js'
import { decodesSafely as helpersDecodesSafely, equalBytes, expectSameValue, mutate, mutationArb, varUint } from './helpers.js'

const decodesSafely = (bytes: Uint8Array): void => helpersDecodesSafely(bytes, { read: readSyncFrame, decode: decodeSyncFrame, encode: encodeSyncFrame })

const boundValues = [MAX_DOC_ID_BYTES, MAX_STATE_VECTOR_BYTES, MAX_CHUNK_BYTES, MAX_ERROR_MESSAGE_BYTES, MAX_ACCOUNT_ID_BYTES, MAX_LINKS_PER_FRAME, MAX_FRAME_BYTES, 2 ** 30]
const lastTag = Math.max(...Object.values(SyncFrameTag))

describe('decodeSyncFrame on hostile input (property)', () => {
  it('arbitrary bytes: a frame or a TandemError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), bytes => decodesSafely(bytes)),
      { numRuns: 2000 }
    )
  })

  it('bytes after a valid tag: a frame or a TandemError', () => {
    const arb = fc.tuple(fc.integer({ min: 0, max: lastTag + 1 }), fc.uint8Array({ maxLength: 300 }))
    fc.assert(
      fc.property(arb, ([tag, rest]) => decodesSafely(Buffer.concat([varUint(tag), rest]))),
      { numRuns: 2000 }
    )
  })

  it('valid frames mutated, truncated or with forged lengths: a frame or a TandemError', () => {
    const arb = fc.tuple(smallFrameArb, fc.array(mutationArb(boundValues), { minLength: 1, maxLength: 3 }))
    fc.assert(
      fc.property(arb, ([frame, mutations]) => decodesSafely(mutations.reduce(mutate, encodeSyncFrame(frame)))),
      { numRuns: 3000 }
    )
  })

  it('inputs around the frame bound: over it is always FrameTooLargeError', () => {
    const arb = fc.tuple(fc.integer({ min: MAX_FRAME_BYTES - 8, max: MAX_FRAME_BYTES + 8 }), fc.integer({ min: 0, max: lastTag }), fc.integer())
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
  it('decodeSyncFrame(encodeSyncFrame(f)) equals f for every valid frame; none exceeds MAX_FRAME_BYTES', () => {
    fc.assert(
      fc.property(frameArb(), frame => {
        const bytes = encodeSyncFrame(frame) // links runs: up to 64 real links, or one of MAX_LINK_BYTES

        expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
        expectSameValue(decodeSyncFrame(bytes), frame)
      }),
      { numRuns: 1000 }
    )
  })
})

describe('bounds', () => {
  const claim = (tag: number, ...parts: Uint8Array[]) => Buffer.concat([varUint(tag), ...parts])

  it('a frame claiming a 1 GiB doc id fails fast, without allocating it', () => {
    const bytes = claim(SyncFrameTag['sync-request'], varUint(2 ** 30), new Uint8Array(16))
    const before = process.memoryUsage().arrayBuffers
    const start = performance.now()
    expect(() => decodeSyncFrame(bytes)).toThrow(FrameTooLargeError)
    expect(performance.now() - start).toBeLessThan(50)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
  })

  it('a length within its bound but past the end of the frame is MalformedFrameError', () => {
    const bytes = claim(SyncFrameTag.update, varUint(1), new Uint8Array([0x61, 1]), varUint(MAX_CHUNK_BYTES), new Uint8Array(10))
    expect(() => decodeSyncFrame(bytes)).toThrow(MalformedFrameError)
  })

  it('each field bound is enforced on both sides', () => {
    const ok = (f: SyncFrame) => expectSameValue(decodeSyncFrame(encodeSyncFrame(f)), f)
    const tooBig = (f: SyncFrame) => expect(() => encodeSyncFrame(f)).toThrow(FrameTooLargeError)
    ok({ type: 'sync-request', docId: 'd'.repeat(MAX_DOC_ID_BYTES), stateVector: new Uint8Array(MAX_STATE_VECTOR_BYTES) })
    ok({ type: 'sync-request', docId: '𝄞'.repeat(MAX_DOC_ID_BYTES / 4), stateVector: new Uint8Array() })
    tooBig({ type: 'sync-request', docId: 'd'.repeat(MAX_DOC_ID_BYTES + 1), stateVector: new Uint8Array() })
    tooBig({ type: 'sync-request', docId: 'é'.repeat(MAX_DOC_ID_BYTES / 2 + 1), stateVector: new Uint8Array() })
    tooBig({ type: 'sync-request', docId: 'd', stateVector: new Uint8Array(MAX_STATE_VECTOR_BYTES + 1) })
    ok({ type: 'update', docId: 'd', final: true, chunk: new Uint8Array(MAX_CHUNK_BYTES) })
    tooBig({ type: 'sync-reply', docId: 'd', final: true, chunk: new Uint8Array(MAX_CHUNK_BYTES + 1) })
    ok({ type: 'ephemeral', docId: 'chat:c', payload: new Uint8Array(MAX_EPHEMERAL_BYTES) })
    tooBig({ type: 'ephemeral', docId: 'chat:c', payload: new Uint8Array(MAX_EPHEMERAL_BYTES + 1) })
    ok({ type: 'error', code: 'ERR_X', message: 'm'.repeat(MAX_ERROR_MESSAGE_BYTES) })
    tooBig({ type: 'error', code: 'ERR_X', message: 'm'.repeat(MAX_ERROR_MESSAGE_BYTES + 1) })

    const longDocId = claim(SyncFrameTag['sync-request'], varUint(MAX_DOC_ID_BYTES + 1), new Uint8Array(MAX_DOC_ID_BYTES + 1), varUint(0))
    expect(() => decodeSyncFrame(longDocId)).toThrow(FrameTooLargeError)
  })

  it('a whole frame over MAX_FRAME_BYTES is refused before parsing', () => {
    expect(() => decodeSyncFrame(new Uint8Array(MAX_FRAME_BYTES + 1))).toThrow(FrameTooLargeError)
  })

  it('rejects trailing bytes, bad bools, bad UTF-8, non-canonical varuints, unknown tags', () => {
    const update = encodeSyncFrame({ type: 'update', docId: 'd', final: false, chunk: new Uint8Array([1]) })
    expect(() => decodeSyncFrame(Buffer.concat([update, new Uint8Array([0])]))).toThrow(MalformedFrameError)
    const badBool = update.slice()
    badBool[3] = 2 // tag, docId length, 'd', final
    expect(() => decodeSyncFrame(badBool)).toThrow(/bool/)
    expect(() => decodeSyncFrame(claim(SyncFrameTag.error, varUint(1), new Uint8Array([0xff]), varUint(0)))).toThrow(/UTF-8/)
    expect(() => decodeSyncFrame(new Uint8Array([0x84, 0x00, 0x01, 0x64, 0x00, 0x00]))).toThrow(/non-canonical/)
    expect(() => decodeSyncFrame(new Uint8Array([0]))).toThrow(/unknown frame tag 0/)
    expect(() => decodeSyncFrame(new Uint8Array([])), 'empty').toThrow(MalformedFrameError)
  })

  it('refuses to encode strings that would not round-trip', () => {
    expect(() => encodeSyncFrame({ type: 'sync-request', docId: '\ud800', stateVector: new Uint8Array() })).toThrow(MalformedFrameError)
  })

  it('decoded payloads are views into the input, not copies', () => {
    const bytes = encodeSyncFrame({ type: 'sync-reply', docId: 'd', final: true, chunk: new Uint8Array([1, 2, 3]) })
    const frame = decodeSyncFrame(bytes)
    expect(frame.type === 'sync-reply' && frame.chunk.buffer).toBe(bytes.buffer)
  })
})

describe('hello and links', () => {
  const chain = () => realChain()

  it('a hello names the account and the head of its chain; the longest account id is a small frame', () => {
    const head = headOf(chain().states.at(-1)!)
    const hello: SyncFrame = { type: 'hello', version: SYNC_PROTOCOL_VERSION, accountId: chain().accountId, head }
    expectSameValue(decodeSyncFrame(encodeSyncFrame(hello)), hello)
    const longest: SyncFrame = {
      ...hello,
      version: Number.MAX_SAFE_INTEGER,
      accountId: 'a'.repeat(MAX_ACCOUNT_ID_BYTES),
      head: { version: Number.MAX_SAFE_INTEGER, hash: new Uint8Array(32).fill(255) }
    }
    const bytes = encodeSyncFrame(longest)
    expect(bytes.length).toBe(1 + 8 + 1 + MAX_ACCOUNT_ID_BYTES + 1 + 8 + 32) // tag, version, accountId, head present, head.version, head.hash
    expectSameValue(decodeSyncFrame(bytes), longest)
    expect(() => encodeSyncFrame({ ...hello, accountId: 'a'.repeat(MAX_ACCOUNT_ID_BYTES + 1) })).toThrow(FrameTooLargeError)
  })

  it('a hello always carries a head (version ≥ 1, 32-byte hash), both ways', () => {
    const hello = encodeSyncFrame({ type: 'hello', version: SYNC_PROTOCOL_VERSION, accountId: 'a', head: { version: 1, hash: new Uint8Array(32) } })
    expect(() => encodeSyncFrame({ type: 'hello', version: SYNC_PROTOCOL_VERSION, accountId: 'a', head: null as never })).toThrow(/hello.head/)
    const noHead = Buffer.concat([hello.subarray(0, 4), new Uint8Array([0])]) // tag, version, accountId 'a', head absent
    expect(() => decodeSyncFrame(noHead)).toThrow(MalformedFrameError)
    const versionZero = hello.slice()
    versionZero[5] = 0 // after tag, version, accountId, present
    expect(() => decodeSyncFrame(versionZero)).toThrow(/at least 1/)
    expect(() => encodeSyncFrame({ type: 'hello', version: 1, accountId: 'a', head: { version: 0, hash: new Uint8Array(32) } })).toThrow(MalformedFrameError)
    expect(() => encodeSyncFrame({ type: 'hello', version: 1, accountId: 'a', head: { version: 1, hash: new Uint8Array(31) } })).toThrow(MalformedFrameError)
  })

  it('a whole chain travels as splitLinks runs of at most MAX_LINKS_PER_FRAME, each one frame, ending in the hello head', () => {
    const { links, states } = chain()
    const runs = splitLinks(links)
    expect(runs.map(r => r.length)).toEqual([MAX_LINKS_PER_FRAME, links.length - MAX_LINKS_PER_FRAME])
    const received = runs.flatMap((run, i) => {
      const frame = decodeSyncFrame(encodeSyncFrame({ type: 'links', links: run, last: i === runs.length - 1 }))
      if (frame.type !== 'links') throw new Error(frame.type)
      expect(frame.last).toBe(i === runs.length - 1)
      return frame.links
    })
    expectSameValue(received, links)
    expect(headOfLinks(received)).toEqual(headOf(states.at(-1)!))
    expect(headOfLinks([])).toBeNull()
  })

  it('a run holds 1 to MAX_LINKS_PER_FRAME links, and one link of MAX_LINK_BYTES fits; two do not', () => {
    const links = chain().links
    const empty = { type: 'links' as const, links: [], last: true }
    expect(() => encodeSyncFrame(empty)).toThrow(MalformedFrameError)
    expect(() => decodeSyncFrame(new Uint8Array([SyncFrameTag.links, 0, 1]))).toThrow(/at least one link/)
    const many = [...links, ...links].slice(0, MAX_LINKS_PER_FRAME + 1)
    expect(() => encodeSyncFrame({ type: 'links', links: many, last: true })).toThrow(FrameTooLargeError)
    const claimed = Buffer.concat([varUint(SyncFrameTag.links), varUint(MAX_LINKS_PER_FRAME + 1), encodeChainLink(links[0]!)])
    expect(() => decodeSyncFrame(claimed)).toThrow(FrameTooLargeError)
    const huge = Buffer.concat([varUint(SyncFrameTag.links), varUint(2 ** 30), new Uint8Array(16)])
    expect(() => decodeSyncFrame(huge)).toThrow(FrameTooLargeError)
    const short = Buffer.concat([varUint(SyncFrameTag.links), varUint(MAX_LINKS_PER_FRAME), new Uint8Array(16)])
    expect(() => decodeSyncFrame(short)).toThrow(/entries claimed/)

    const largest = largestLink()
    const one = encodeSyncFrame({ type: 'links', links: [largest], last: true })
    expect(one.length).toBe(MAX_LINK_BYTES + 3) // tag, count, link, last
    expectSameValue(decodeSyncFrame(one), { type: 'links', links: [largest], last: true })
    expect(() => encodeSyncFrame({ type: 'links', links: [largest, largest], last: true })).toThrow(FrameTooLargeError)
    const runs = splitLinks([largest, largest, ...links.slice(0, 3)])
    expect(runs.map(r => r.length)).toEqual([1, 4]) // two largest links exceed MAX_LINK_RUN_BYTES; one and three small ones do not
    for (const run of runs) expect(encodeSyncFrame({ type: 'links', links: run, last: true }).length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
  })

  it('a damaged link inside a links frame is InvalidDeviceListError (UnsupportedVersionError for another link format); decoded links are copies', () => {
    const bytes = encodeSyncFrame({ type: 'links', links: chain().links.slice(0, 2), last: false })
    expect(() => decodeSyncFrame(bytes.subarray(0, bytes.length - 10))).toThrow(InvalidDeviceListError) // the second link's signature cut short
    const foreign = bytes.slice()
    foreign[2] = 2 // the first link's format version
    expect(() => decodeSyncFrame(foreign)).toThrow(UnsupportedVersionError)
    const frame = decodeSyncFrame(bytes)
    expect(frame.type === 'links' && frame.links[0]!.signature.buffer).not.toBe(bytes.buffer)
  })
})

describe('versions', () => {
  const head = { version: 1, hash: new Uint8Array(32) }

  it('a hello with an unknown version decodes; checkVersion refuses it', () => {
    const frame = decodeSyncFrame(encodeSyncFrame({ type: 'hello', version: 7, accountId: 'a', head }))
    expect(frame).toMatchObject({ type: 'hello', version: 7, accountId: 'a' })
    expect(() => checkVersion(7)).toThrow(UnsupportedVersionError)
    expect(() => checkVersion(1)).toThrow(UnsupportedVersionError) // certificates: before the device chain
    expect(() => checkVersion(SYNC_PROTOCOL_VERSION)).not.toThrow()
    expect(SYNC_PROTOCOL_VERSION).toBe(3)
  })

  it('a hello of another version that does not parse as ours is UnsupportedVersionError', () => {
    for (const version of [1, SYNC_PROTOCOL_VERSION + 1]) {
      const foreign = Buffer.concat([varUint(SyncFrameTag.hello), varUint(version), new Uint8Array([9, 9, 9])])
      expect(() => decodeSyncFrame(foreign)).toThrow(UnsupportedVersionError)
      expect(() => readSyncFrame(decoding.createDecoder(foreign))).toThrow(UnsupportedVersionError)
    }
    const ours = Buffer.concat([varUint(SyncFrameTag.hello), varUint(SYNC_PROTOCOL_VERSION), new Uint8Array([9, 9, 9])])
    expect(() => decodeSyncFrame(ours)).toThrow(MalformedFrameError)
  })
})

describe('errorFrame', () => {
  it('cuts long messages at a character boundary within the bound', () => {
    const frame = errorFrame(new TandemError('ERR_X', '😀'.repeat(MAX_ERROR_MESSAGE_BYTES)))
    expect(Buffer.byteLength(frame.message)).toBe(MAX_ERROR_MESSAGE_BYTES)
    expect(frame.message).toBe('😀'.repeat(MAX_ERROR_MESSAGE_BYTES / 4))
    expect(decodeSyncFrame(encodeSyncFrame(frame))).toEqual(frame)
  })
})

describe('chunkPayload', () => {
  it('empty payload → one empty chunk', () => {
    const chunks = chunkPayload(new Uint8Array())
    expect(chunks).toHaveLength(1)
    expect(chunks[0]).toHaveLength(0)
  })

  it('splits exactly at MAX_CHUNK_BYTES by default', () => {
    expect(chunkPayload(new Uint8Array(MAX_CHUNK_BYTES)).map(c => c.length)).toEqual([MAX_CHUNK_BYTES])
    expect(chunkPayload(new Uint8Array(MAX_CHUNK_BYTES + 1)).map(c => c.length)).toEqual([MAX_CHUNK_BYTES, 1])
  })

  it('rejects a non-positive chunk size', () => {
    expect(() => chunkPayload(new Uint8Array(3), 0)).toThrow(RangeError)
  })

  it('chunks are non-empty views that concatenate back to the payload (property)', () => {
    const arb = fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 64 }))
    fc.assert(
      fc.property(arb, ([payload, max]) => {
        const chunks = chunkPayload(payload, max)
        expect(chunks.length).toBe(Math.max(1, Math.ceil(payload.length / max)))
        for (const c of chunks) {
          expect(c.length).toBeLessThanOrEqual(max)
          expect(c.buffer).toBe(payload.buffer)
          if (payload.length > 0) expect(c.length).toBeGreaterThan(0)
        }
        expect(equalBytes(Buffer.concat(chunks), payload)).toBe(true)
      }),
      { numRuns: 500 }
    )
  })
})
