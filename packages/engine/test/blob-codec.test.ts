import { randomBytes } from 'node:crypto'
import { brotliCompressSync, deflateRawSync } from 'node:zlib'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { BlobEncoding, MalformedFrameError, UnsupportedVersionError, decodeBlobEnvelope, encodeBlobEnvelope } from '@tandem/protocol'
import { BlobCodec } from '../src/relay/blob-codec.js'
import { nodeCompression } from '../src/node/compression.js'
import { encodeSv } from '../src/relay/state-vector.js'

const codec = new BlobCodec(nodeCompression)
const encodeBlob = codec.encode.bind(codec)
const decodeBlob = codec.decode.bind(codec)

function chatUpdate(messages: number): Uint8Array {
  const doc = new Y.Doc()
  const map = doc.getMap<string>('messages')
  doc.transact(() => {
    for (let i = 0; i < messages; i++) map.set(`m${i}`, `see you at the station at ${i} o'clock, bring the tickets`)
  })
  return Y.encodeStateAsUpdate(doc)
}

describe('relay blob codec', () => {
  it('compresses a chat update and gives back the same bytes', async () => {
    const update = chatUpdate(1_000)
    const reach = new Map([[7, 1_000]])
    const blob = await encodeBlob(update, reach)
    expect(decodeBlobEnvelope(blob).encoding).toBe(BlobEncoding.Brotli)
    expect(blob.byteLength).toBeLessThan(update.byteLength / 3)
    expect(await decodeBlob(blob)).toEqual({ update, reach })
  })

  it('compresses a large update off the event loop, with the same result', async () => {
    const update = chatUpdate(40_000) // > 1 MiB
    expect(update.byteLength).toBeGreaterThan(1024 * 1024)
    const back = await decodeBlob(await encodeBlob(update, new Map()))
    expect(Buffer.from(back.update).equals(update)).toBe(true) // toEqual walks 3 MB element by element
  })

  it('keeps bytes that do not compress as they are', async () => {
    const noise = new Uint8Array(randomBytes(300))
    const blob = await encodeBlob(noise, new Map([[1, 2]]))
    expect(decodeBlobEnvelope(blob)).toMatchObject({ encoding: BlobEncoding.Raw, payload: noise })
    expect(await decodeBlob(blob)).toEqual({ update: noise, reach: new Map([[1, 2]]) })
  })

  it('refuses an unknown encoding, bytes that do not decompress, and inflation past the bound', async () => {
    await expect(decodeBlob(new Uint8Array([9, 1, 2, 3]))).rejects.toBeInstanceOf(UnsupportedVersionError)
    await expect(decodeBlob(new Uint8Array(0))).rejects.toBeInstanceOf(MalformedFrameError)
    const noReach = new Uint8Array([0])
    await expect(decodeBlob(new Uint8Array([1, 5, 1]))).rejects.toBeInstanceOf(MalformedFrameError) // truncated header
    await expect(decodeBlob(encodeBlobEnvelope({ encoding: BlobEncoding.Brotli, reach: noReach, payload: new Uint8Array([1, 2, 3, 4, 5]) }))).rejects.toBeInstanceOf(
      MalformedFrameError
    )
    const bomb = encodeBlobEnvelope({ encoding: BlobEncoding.Brotli, reach: noReach, payload: brotliCompressSync(new Uint8Array(1024 * 1024)) })
    expect(bomb.byteLength).toBeLessThan(100)
    await expect(decodeBlob(bomb, 64 * 1024)).rejects.toBeInstanceOf(MalformedFrameError)
    expect((await decodeBlob(bomb)).update.byteLength).toBe(1024 * 1024)
  })

  it('reads raw DEFLATE blobs, the encoding browser devices write, within the same bound', async () => {
    const update = chatUpdate(200)
    const reach = new Map([[3, 200]])
    const blob = encodeBlobEnvelope({ encoding: BlobEncoding.DeflateRaw, reach: encodeSv(reach), payload: deflateRawSync(update) })
    expect(await decodeBlob(blob)).toEqual({ update, reach })
    const bomb = encodeBlobEnvelope({ encoding: BlobEncoding.DeflateRaw, reach: new Uint8Array([0]), payload: deflateRawSync(new Uint8Array(1024 * 1024)) })
    await expect(decodeBlob(bomb, 64 * 1024)).rejects.toBeInstanceOf(MalformedFrameError)
  })
})
