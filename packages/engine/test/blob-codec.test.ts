import { randomBytes } from 'node:crypto'
import { brotliCompressSync, deflateRawSync } from 'node:zlib'
import * as Y from 'yjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  BadSignatureError,
  BlobEncoding,
  DecryptError,
  decodeBlobEnvelope,
  encodeBlobEnvelope,
  isSealed,
  MalformedFrameError,
  nativeSignatures,
  nobleSignatures,
  openSealed,
  readSealedHeader,
  SEALED_ENCODING,
  seal,
  type SignatureBackend,
  TandemError,
  UnknownEpochError,
  UnsupportedVersionError
} from '@tandem/protocol'
import { BlobCodec, type DocSealing, MIN_COMPRESSED_BYTES } from '../src/relay/blob-codec.js'
import type { KeyRing } from '../src/keys/key-ring.js'
import { nodeCompression } from '../src/node/compression.js'
import { encodeSv } from '../src/relay/state-vector.js'
import { device, hex, random, TestAccount, type TestDevice } from './key-fixtures.js'

const DOC = 'account:blob-codec'
const [d1, d2, d3] = [device(1), device(2), device(3)]

/** One account of three devices: d3 revoked at generation 2, so the account writes in epoch 2. */
const account = new TestAccount(d1)
const ring1 = account.ring(d1.agreement)
account.propose(d1.signer, ring1, [
  { type: 'add-device', device: d2.device },
  { type: 'add-device', device: d3.device }
])
const beforeRevocation = account.links.length
account.propose(d1.signer, ring1, [{ type: 'revoke-device', peerId: d3.peerId }])

let signatures: SignatureBackend
beforeAll(async () => {
  signatures = await nativeSignatures()
})

function codecOf(d: TestDevice, ring: () => KeyRing | null): BlobCodec {
  return new BlobCodec(nodeCompression, { signing: d.signing, ring, signatures: async () => signatures, randomBytes: random })
}

const ringOf1 = account.ring(d1.agreement)
const codec = codecOf(d1, () => ringOf1)
const reader = codecOf(d2, () => account.ring(d2.agreement))
const revoked = codecOf(d3, () => account.ring(d3.agreement))

function chatUpdate(messages: number): Uint8Array {
  const doc = new Y.Doc()
  const map = doc.getMap<string>('messages')
  doc.transact(() => {
    for (let i = 0; i < messages; i++) map.set(`m${i}`, `see you at the station at ${i} o'clock, bring the tickets`)
  })
  return Y.encodeStateAsUpdate(doc)
}

/** The envelope inside a sealed blob, as a device of the account opens it (what the codec chose to write). */
async function envelopeOf(blob: Uint8Array, doc = DOC) {
  const opened = await openSealed('blob', doc, blob, { keyFor: e => ringOf1.docKey(e, doc), standing: (a, e) => ringOf1.standing(a, e) }, nobleSignatures)
  return decodeBlobEnvelope(opened.plaintext)
}

/** A blob d1 seals around any envelope bytes (what a device of the account, buggy or not, could upload). */
const sealedByD1 = async (inner: Uint8Array, epoch = 2, doc = DOC): Promise<Uint8Array> =>
  seal(
    'blob',
    { docId: doc, epoch, author: d1.signing.publicKey, authorSeed: d1.signing.secretKey, key: ringOf1.docKey(epoch, doc)!, nonce: random(24), plaintext: inner },
    signatures
  )

const includes = (haystack: Uint8Array, needle: Uint8Array | string): boolean =>
  Buffer.from(haystack).includes(typeof needle === 'string' ? Buffer.from(needle) : Buffer.from(needle))

describe('relay blob codec', () => {
  it("compresses a chat update, seals it in the account's newest generation, and another device gives back the same bytes", async () => {
    const update = chatUpdate(1_000)
    const reach = new Map([[7, 1_000]])
    const blob = await codec.encode(DOC, update, reach)
    expect(isSealed(blob)).toBe(true)
    const header = readSealedHeader(blob)
    expect(header.epoch).toBe(2)
    expect(hex(header.author)).toBe(hex(d1.signing.publicKey))
    expect((await envelopeOf(blob)).encoding).toBe(BlobEncoding.Brotli)
    expect(blob.byteLength).toBeLessThan(update.byteLength / 3)
    expect(await reader.decode(DOC, blob)).toEqual({ update, reach, author: d1.signing.publicKey })
    expect(await codec.decode(DOC, blob)).toEqual({ update, reach, author: d1.signing.publicKey })
  })

  it('sealed bytes never contain the plaintext: not the update, not the compressed payload, not the reach', async () => {
    const update = chatUpdate(50)
    const blob = await codec.encode(DOC, update, new Map([[123_456, 789]]))
    const inner = await envelopeOf(blob)
    expect(includes(update, 'see you at the station')).toBe(true)
    expect(includes(blob, 'see you at the station')).toBe(false)
    expect(includes(blob, inner.payload.subarray(0, 16))).toBe(false)
    expect(includes(blob, encodeSv(new Map([[123_456, 789]])))).toBe(false)
    const noise = new Uint8Array(randomBytes(300))
    const rawBlob = await codec.encode(DOC, noise, new Map())
    for (let at = 0; at + 16 <= noise.length; at += 16) expect(includes(rawBlob, noise.subarray(at, at + 16))).toBe(false)
  })

  it('compresses a large update off the event loop, with the same result', async () => {
    const update = chatUpdate(40_000) // > 1 MiB
    expect(update.byteLength).toBeGreaterThan(1024 * 1024)
    const back = await reader.decode(DOC, await codec.encode(DOC, update, new Map()))
    expect(Buffer.from(back.update).equals(update)).toBe(true) // toEqual walks 3 MB element by element
  })

  it('packs a snapshot (dense) tighter than a live update of the same bytes, and both open to them', async () => {
    // a chat's worth of varied sentences (a text repeated a thousand times packs as well either way)
    const words = 'see you at the station tomorrow bring tickets lunch was great running late call me when you land'.split(' ')
    let x = 7
    const next = (): number => {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31
      return x
    }
    const doc = new Y.Doc()
    doc.transact(() => {
      for (let i = 0; i < 1000; i++)
        doc
          .getMap<string>('messages')
          .set(`3.${(1_790_000_000_000 + i * 37).toString(36)}0Qz3kPa`, Array.from({ length: 4 + (next() % 12) }, () => words[next() % words.length]).join(' '))
    })
    const update = Y.encodeStateAsUpdate(doc)
    const live = await codec.encode(DOC, update, new Map([[1, 1000]]))
    const dense = await codec.encode(DOC, update, new Map([[1, 1000]]), { dense: true })
    expect(dense.byteLength).toBeLessThan(live.byteLength)
    for (const blob of [live, dense]) expect(Buffer.from((await reader.decode(DOC, blob)).update).equals(update)).toBe(true)
  })

  it('chooses compression per blob: bytes that do not compress are kept as they are, next to a compressed blob', async () => {
    const noise = new Uint8Array(randomBytes(300))
    const raw = await codec.encode(DOC, noise, new Map([[1, 2]]))
    const packed = await codec.encode(DOC, chatUpdate(100), new Map([[1, 3]]))
    expect(await envelopeOf(raw)).toMatchObject({ encoding: BlobEncoding.Raw, payload: noise })
    expect((await envelopeOf(packed)).encoding).toBe(BlobEncoding.Brotli)
    expect(await reader.decode(DOC, raw)).toEqual({ update: noise, reach: new Map([[1, 2]]), author: d1.signing.publicKey })
  })

  it('leaves an update shorter than MIN_COMPRESSED_BYTES (a lone message) uncompressed, even one brotli would shrink', async () => {
    const two = chatUpdate(2)
    expect(two.byteLength).toBeLessThan(MIN_COMPRESSED_BYTES)
    expect((await nodeCompression.compress(two)).byteLength + 1).toBeLessThan(two.byteLength) // (it would have been packed)
    const blob = await codec.encode(DOC, two, new Map([[1, 4]]))
    expect(await envelopeOf(blob)).toMatchObject({ encoding: BlobEncoding.Raw, payload: two })
    expect(await reader.decode(DOC, blob)).toEqual({ update: two, reach: new Map([[1, 4]]), author: d1.signing.publicKey })
    const eight = chatUpdate(8)
    expect(eight.byteLength).toBeGreaterThanOrEqual(MIN_COMPRESSED_BYTES)
    expect((await envelopeOf(await codec.encode(DOC, eight, new Map()))).encoding).toBe(BlobEncoding.Brotli)
  })

  it('refuses unsealed blobs (ERR_BAD_SIGNATURE), whatever their envelope: a relay cannot make a device show what no device wrote', async () => {
    const update = chatUpdate(10)
    const plain = [
      encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: new Uint8Array([0]), payload: update }),
      encodeBlobEnvelope({ encoding: BlobEncoding.Brotli, reach: new Uint8Array([0]), payload: brotliCompressSync(update) }),
      encodeBlobEnvelope({ encoding: BlobEncoding.DeflateRaw, reach: new Uint8Array([0]), payload: deflateRawSync(update) }),
      new Uint8Array([9, 1, 2, 3]),
      new Uint8Array(0)
    ]
    for (const blob of plain) {
      const err = await reader.decode(DOC, blob).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BadSignatureError)
      expect((err as TandemError).code).toBe('ERR_BAD_SIGNATURE')
    }
    // something that starts like a sealed blob but is not one
    await expect(reader.decode(DOC, new Uint8Array([SEALED_ENCODING, 1, 2, 3]))).rejects.toBeInstanceOf(MalformedFrameError)
  })

  it('refuses a blob with any one bit flipped, a blob of another doc, and an ephemeral message in place of a blob', async () => {
    const blob = await codec.encode(DOC, chatUpdate(3), new Map([[1, 3]]))
    for (let at = 0; at < blob.length; at += 7) {
      const flipped = blob.slice()
      flipped[at]! ^= 1 << (at % 8)
      const err = await reader.decode(DOC, flipped).catch((e: unknown) => e)
      expect(err, `byte ${at}`).toBeInstanceOf(TandemError)
      expect(['ERR_MALFORMED_FRAME', 'ERR_BAD_SIGNATURE']).toContain((err as TandemError).code)
    }
    await expect(reader.decode('account:another', blob)).rejects.toBeInstanceOf(BadSignatureError)
    const ephemeral = await codec.sealEphemeral(DOC, new TextEncoder().encode('typing'))
    await expect(reader.decode(DOC, ephemeral)).rejects.toBeInstanceOf(BadSignatureError)
    await expect(reader.openEphemeral(DOC, blob)).rejects.toBeInstanceOf(BadSignatureError)
    expect(new TextDecoder().decode(await reader.openEphemeral(DOC, ephemeral))).toBe('typing')
  })

  it('a device revoked at generation 2 reads what was written before, not after (ERR_UNKNOWN_EPOCH); it can only write in generation 1', async () => {
    const before = await sealedByD1(encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: new Uint8Array([0]), payload: new Uint8Array([1, 2, 3]) }), 1)
    expect((await revoked.decode(DOC, before)).update).toEqual(new Uint8Array([1, 2, 3]))
    const after = await codec.encode(DOC, chatUpdate(3), new Map())
    await expect(revoked.decode(DOC, after)).rejects.toBeInstanceOf(UnknownEpochError)
    // it writes in the newest generation it holds (1): a reader cannot tell when, so that still opens (the relay is what
    // stops a revoked device's uploads); sealed in generation 2 (were it to get the key) it is refused
    const update = chatUpdate(3)
    const itsOwn = await revoked.encode(DOC, update, new Map())
    expect(readSealedHeader(itsOwn).epoch).toBe(1)
    expect((await reader.decode(DOC, itsOwn)).update).toEqual(update)
    const inner = encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: new Uint8Array([0]), payload: update })
    const later = await seal(
      'blob',
      { docId: DOC, epoch: 2, author: d3.signing.publicKey, authorSeed: d3.signing.secretKey, key: ringOf1.docKey(2, DOC)!, nonce: random(24), plaintext: inner },
      signatures
    )
    await expect(reader.decode(DOC, later)).rejects.toBeInstanceOf(BadSignatureError)
  })

  it('refuses, inside a sealed blob: an unknown encoding, a truncated header, bytes that do not decompress, and inflation past the bound', async () => {
    const noReach = new Uint8Array([0])
    await expect(reader.decode(DOC, await sealedByD1(new Uint8Array([9, 1, 2, 3])))).rejects.toBeInstanceOf(UnsupportedVersionError)
    await expect(reader.decode(DOC, await sealedByD1(new Uint8Array(0)))).rejects.toBeInstanceOf(MalformedFrameError)
    await expect(reader.decode(DOC, await sealedByD1(new Uint8Array([1, 5, 1])))).rejects.toBeInstanceOf(MalformedFrameError)
    await expect(
      reader.decode(DOC, await sealedByD1(encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: new Uint8Array([5]), payload: new Uint8Array(0) })))
    ).rejects.toBeInstanceOf(MalformedFrameError) // unreadable reach
    await expect(
      reader.decode(DOC, await sealedByD1(encodeBlobEnvelope({ encoding: BlobEncoding.Brotli, reach: noReach, payload: new Uint8Array([1, 2, 3, 4, 5]) })))
    ).rejects.toBeInstanceOf(MalformedFrameError)
    const bomb = await sealedByD1(encodeBlobEnvelope({ encoding: BlobEncoding.Brotli, reach: noReach, payload: brotliCompressSync(new Uint8Array(1024 * 1024)) }))
    expect(bomb.byteLength).toBeLessThan(300)
    await expect(reader.decode(DOC, bomb, 64 * 1024)).rejects.toBeInstanceOf(MalformedFrameError)
    expect((await reader.decode(DOC, bomb)).update.byteLength).toBe(1024 * 1024)
  })

  it('reads raw DEFLATE blobs, the encoding browser devices write, within the same bound', async () => {
    const update = chatUpdate(200)
    const reach = new Map([[3, 200]])
    const blob = await sealedByD1(encodeBlobEnvelope({ encoding: BlobEncoding.DeflateRaw, reach: encodeSv(reach), payload: deflateRawSync(update) }))
    expect(await reader.decode(DOC, blob)).toEqual({ update, reach, author: d1.signing.publicKey })
    const bomb = await sealedByD1(encodeBlobEnvelope({ encoding: BlobEncoding.DeflateRaw, reach: new Uint8Array([0]), payload: deflateRawSync(new Uint8Array(1024 * 1024)) }))
    await expect(reader.decode(DOC, bomb, 64 * 1024)).rejects.toBeInstanceOf(MalformedFrameError)
  })

  it('a blob sealed under the wrong key by a listed device is ERR_DECRYPT, never applied', async () => {
    const inner = encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: new Uint8Array([0]), payload: new Uint8Array([1]) })
    const wrong = await seal(
      'blob',
      { docId: DOC, epoch: 2, author: d1.signing.publicKey, authorSeed: d1.signing.secretKey, key: ringOf1.docKey(1, DOC)!, nonce: random(24), plaintext: inner },
      signatures
    )
    await expect(reader.decode(DOC, wrong)).rejects.toBeInstanceOf(DecryptError)
  })

  it('a shared chat’s blob that does not open with a key from a record its relay has not confirmed waits for the relay’s record (ERR_UNKNOWN_EPOCH); under a confirmed one it is ERR_DECRYPT', async () => {
    const chatDoc = 'chat:0123456789abcdef01234567:1'
    // two members started epoch 2 at once, each with its own key: the relay kept the other one
    const [mine, kept] = [random(32), random(32)]
    let confirmed = false
    const sealing: DocSealing = {
      writeEpoch: () => 2,
      keyFor: epoch => (epoch === 2 ? mine : null),
      standing: () => 'listed',
      latestEpoch: () => 2,
      provisional: epoch => epoch === 2 && !confirmed,
      refresh: async () => {}
    }
    const member = new BlobCodec(nodeCompression, {
      signing: d2.signing,
      ring: () => account.ring(d2.agreement),
      signatures: async () => signatures,
      randomBytes: random,
      shared: () => sealing
    })
    const inner = encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: new Uint8Array([0]), payload: new Uint8Array([1]) })
    const underKept = await seal(
      'blob',
      { docId: chatDoc, epoch: 2, author: d1.signing.publicKey, authorSeed: d1.signing.secretKey, key: kept, nonce: random(24), plaintext: inner },
      signatures
    )
    await expect(member.decode(chatDoc, underKept)).rejects.toBeInstanceOf(UnknownEpochError)
    confirmed = true // (the relay confirmed this device's record after all: the blob is damaged or forged)
    await expect(member.decode(chatDoc, underKept)).rejects.toBeInstanceOf(DecryptError)
  })

  it('without an account: decoding refuses (ERR_BAD_SIGNATURE); encoding waits until the ring holds a generation it may write in', async () => {
    let ring: KeyRing | null = null
    const waiting = codecOf(d1, () => ring)
    const blob = await codec.encode(DOC, chatUpdate(2), new Map())
    await expect(waiting.decode(DOC, blob)).rejects.toBeInstanceOf(BadSignatureError)
    let done = false
    const pending = waiting.encode(DOC, chatUpdate(2), new Map([[1, 2]])).then(b => {
      done = true
      return b
    })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(done).toBe(false)
    // a ring whose newest generation's start is not settled yet writes in the one before
    const unsettled = account.ring(d1.agreement)
    unsettled.update(account.links, i => i < beforeRevocation)
    ring = unsettled
    waiting.keysChanged()
    expect(readSealedHeader(await pending).epoch).toBe(1)
    expect((await reader.decode(DOC, await pending)).reach).toEqual(new Map([[1, 2]]))
  })
})
