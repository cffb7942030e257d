import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import {
  AccessDeniedError,
  FrameTooLargeError,
  InvalidCertificateError,
  InvalidDeviceListError,
  InvalidMembershipError,
  MalformedFrameError,
  MAX_CHUNK_BYTES,
  MAX_DEVICE_NAME_BYTES,
  MAX_DEVICES,
  MAX_DOC_ID_BYTES,
  MAX_EPHEMERAL_BYTES,
  MAX_NOTICES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_FRAME_BYTES,
  MAX_MEMBERS,
  MAX_PEER_ID_BYTES,
  MAX_REVOKED,
  STORE_PROTOCOL,
  STORE_PROTOCOL_VERSION,
  StoreFrameTag,
  UnsupportedVersionError,
  accountKeyFromSecret,
  checkStoreVersion,
  decodeStoreFrame,
  docErrorFrame,
  encodeStoreFrame,
  errorFromWire,
  isDeviceToRelayFrame,
  readStoreFrame,
  signDeviceCertificate,
  signDeviceList,
  storeErrorFrame,
  verifyDeviceList,
  type DeviceCertificate,
  type SignedDeviceList,
  type StoreFrame
} from '../src/index.js'
import { distinctAscii, patterned, smallStoreFrameArb, storeFrameArb } from './arbitraries.js'
import { decodesSafely as helpersDecodesSafely, expectSameValue, mutate, mutationArb, varUint } from './helpers.js'

const decodesSafely = (bytes: Uint8Array): void => helpersDecodesSafely(bytes, { read: readStoreFrame, decode: decodeStoreFrame, encode: encodeStoreFrame })

const tags = Object.values(StoreFrameTag)
const tagArb = fc.oneof(fc.constantFrom(...tags), fc.integer({ min: 0, max: 40 }))
const boundValues = [MAX_DOC_ID_BYTES, MAX_CHUNK_BYTES, MAX_EPHEMERAL_BYTES, MAX_ERROR_MESSAGE_BYTES, MAX_DEVICES, MAX_REVOKED, MAX_MEMBERS, MAX_FRAME_BYTES, 2 ** 30]

const certificate: DeviceCertificate = signDeviceCertificate(accountKeyFromSecret(new Uint8Array(32).fill(1)), {
  peerId: 'p'.repeat(MAX_PEER_ID_BYTES),
  name: 'n'.repeat(MAX_DEVICE_NAME_BYTES),
  createdAt: Number.MAX_SAFE_INTEGER
})

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
  it('decodeStoreFrame(encodeStoreFrame(f)) equals f for every valid frame', () => {
    fc.assert(
      fc.property(storeFrameArb(), frame => {
        const bytes = encodeStoreFrame(frame) // every frame within its field bounds fits in MAX_FRAME_BYTES
        expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
        expectSameValue(decodeStoreFrame(bytes), frame)
      }),
      { numRuns: 1000 }
    )
  })

  it('every type has its tag: device → relay 1..9, relay → device 20..30', () => {
    const device = ['hello', 'device-list', 'membership', 'subscribe', 'unsubscribe', 'append', 'snapshot', 'ephemeral', 'refetch']
    const relay = ['welcome', 'ack', 'subscribed', 'blob', 'notices', 'snapshot-data', 'caught-up', 'ephemeral-data', 'doc-error', 'error', 'live']
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
  const worstList = (seed: number): SignedDeviceList => ({
    accountPublicKey: new Uint8Array(32),
    version: Number.MAX_SAFE_INTEGER,
    devices: distinctAscii(MAX_DEVICES, MAX_PEER_ID_BYTES, seed).map(peerId => ({
      peerId,
      name: 'é'.repeat(MAX_DEVICE_NAME_BYTES / 2),
      createdAt: Number.MAX_SAFE_INTEGER
    })),
    revoked: distinctAscii(MAX_REVOKED, MAX_PEER_ID_BYTES, seed + 1),
    issuedAt: Number.MAX_SAFE_INTEGER,
    signature: new Uint8Array(64)
  })

  it('a hello, device-list or welcome carrying the largest certificate and device list fits in one frame', () => {
    const list = worstList(0)
    for (const frame of [
      { type: 'hello', version: Number.MAX_SAFE_INTEGER, certificate, deviceList: list },
      { type: 'device-list', list },
      { type: 'welcome', deviceList: list }
    ] as StoreFrame[]) {
      const bytes = encodeStoreFrame(frame)
      expect(bytes.length).toBeLessThan(MAX_FRAME_BYTES - 16 * 1024)
      expectSameValue(decodeStoreFrame(bytes), frame)
    }
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
    // Signed values inside frames report their own error classes.
    expect(() => encodeStoreFrame({ type: 'device-list', list: { ...worstList(0), revoked: distinctAscii(MAX_REVOKED + 1, 4, 0) } })).toThrow(InvalidDeviceListError)
    expect(() =>
      encodeStoreFrame({
        type: 'membership',
        record: { docId: 'd', version: 1, members: ['a', 'a'], issuedAt: 0, signerPublicKey: new Uint8Array(32), signature: new Uint8Array(64) }
      })
    ).toThrow(InvalidMembershipError)
    expect(() => encodeStoreFrame({ type: 'hello', version: 1, certificate: { ...certificate, signature: new Uint8Array(1) }, deviceList: null })).toThrow(InvalidCertificateError)
  })

  it('a frame claiming a 1 GiB chunk or 2^30 devices fails fast, without allocating', () => {
    const chunk = Buffer.concat([varUint(StoreFrameTag.blob), varUint(1), Buffer.from('d'), varUint(1), varUint(1), varUint(2 ** 30), new Uint8Array(16)])
    expect(() => decodeStoreFrame(chunk)).toThrow(FrameTooLargeError)
    const list = Buffer.concat([varUint(StoreFrameTag['device-list']), varUint(1), new Uint8Array(32), varUint(1), varUint(2 ** 30), new Uint8Array(16)])
    const start = performance.now()
    expect(() => decodeStoreFrame(list)).toThrow(InvalidDeviceListError)
    expect(performance.now() - start).toBeLessThan(50)
    // Within the bound but more entries than bytes left: refused before building the array.
    const short = Buffer.concat([varUint(StoreFrameTag['device-list']), varUint(1), new Uint8Array(32), varUint(1), varUint(MAX_DEVICES), new Uint8Array(16)])
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
    const welcome = encodeStoreFrame({ type: 'welcome', deviceList: null })
    expect(Array.from(welcome)).toEqual([StoreFrameTag.welcome, 0])
    expect(() => decodeStoreFrame(new Uint8Array([StoreFrameTag.welcome, 2]))).toThrow(/bool/)
    for (const tag of [0, 10, 19, 31, 32]) expect(() => decodeStoreFrame(new Uint8Array([tag, 0]))).toThrow(/unknown frame tag/)
    expect(() => decodeStoreFrame(new Uint8Array())).toThrow(MalformedFrameError)
  })

  it('chunks and payloads are views into the input; signed values are copies', () => {
    const bytes = encodeStoreFrame({ type: 'blob', docId: 'd', seq: 1, final: true, chunk: new Uint8Array([1, 2, 3]) })
    const frame = decodeStoreFrame(bytes)
    expect(frame.type === 'blob' && frame.chunk.buffer).toBe(bytes.buffer)
    const hello = decodeStoreFrame(encodeStoreFrame({ type: 'hello', version: 1, certificate, deviceList: null }))
    expect(hello.type === 'hello' && hello.certificate.signature.buffer).not.toBe(bytes.buffer)
  })
})

describe('hello and versions', () => {
  it('a signed device list survives a hello; verification needs no re-encoding', () => {
    const account = accountKeyFromSecret(new Uint8Array(32).fill(1))
    const deviceList = signDeviceList(account, { version: 3, devices: [{ peerId: 'p', name: 'n', createdAt: 1 }], revoked: ['q'], issuedAt: 2 })
    const frame = decodeStoreFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate, deviceList }))
    expect(frame.type === 'hello' && frame.deviceList !== null && verifyDeviceList(frame.deviceList)).toBeTruthy()
  })

  it('a hello with an unknown version decodes; checkStoreVersion refuses it', () => {
    const frame = decodeStoreFrame(encodeStoreFrame({ type: 'hello', version: 7, certificate, deviceList: null }))
    expect(frame).toMatchObject({ type: 'hello', version: 7, deviceList: null })
    expect(() => checkStoreVersion(7)).toThrow(UnsupportedVersionError)
    expect(() => checkStoreVersion(STORE_PROTOCOL_VERSION)).not.toThrow()
  })

  it('a hello of another version that does not parse as ours is UnsupportedVersionError', () => {
    const future = Buffer.concat([varUint(StoreFrameTag.hello), varUint(2), new Uint8Array([9, 9, 9])])
    expect(() => decodeStoreFrame(future)).toThrow(UnsupportedVersionError)
    expect(() => readStoreFrame(decoding.createDecoder(future))).toThrow(UnsupportedVersionError)
    const ours = Buffer.concat([varUint(StoreFrameTag.hello), varUint(STORE_PROTOCOL_VERSION), new Uint8Array([1, 0])])
    expect(() => decodeStoreFrame(ours)).toThrow(InvalidCertificateError)
    const badList = Buffer.concat([encodeStoreFrame({ type: 'hello', version: 1, certificate, deviceList: null }).subarray(0, -1), new Uint8Array([1, 1, 0])])
    expect(() => decodeStoreFrame(badList)).toThrow(InvalidDeviceListError)
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
