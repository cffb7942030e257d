import { BlobEncoding, UnsupportedVersionError } from '@tandem/protocol'
import brotliDecoder from 'brotli-dec-wasm'
import type { Compression } from '../platform/compression.js'

/** Inflated bytes asked of the brotli decoder per call: the bound is checked between calls. */
const BROTLI_STEP_BYTES = 1024 * 1024

/**
 * A browser's compression: it writes raw DEFLATE with the native `CompressionStream` (no
 * browser compresses brotli, and a WebAssembly brotli encoder is ~1 MB of download); it reads
 * raw DEFLATE natively and brotli (what Node devices write) with brotli-dec-wasm, a 200 KB
 * WebAssembly decoder that streams, so the output bound is enforced as it inflates.
 */
export const browserCompression: Compression = {
  encoding: BlobEncoding.DeflateRaw,
  async compress(data) {
    return await collect(through(data, new CompressionStream('deflate-raw')), Infinity)
  },
  async decompress(encoding, data, maxBytes) {
    switch (encoding) {
      case BlobEncoding.DeflateRaw:
        return await collect(through(data, new DecompressionStream('deflate-raw')), maxBytes)
      case BlobEncoding.Brotli:
        return await unbrotli(data, maxBytes)
      default:
        throw new UnsupportedVersionError(`blob encoding ${encoding} is not supported`)
    }
  }
}

/** `data` piped through a (de)compression stream (typed by the DOM lib as taking any BufferSource). */
function through(data: Uint8Array, transform: CompressionStream | DecompressionStream): ReadableStream<Uint8Array> {
  const source = new ReadableStream<BufferSource>({
    start(controller) {
      controller.enqueue(data as Uint8Array<ArrayBuffer>)
      controller.close()
    }
  })
  return source.pipeThrough<Uint8Array>(transform)
}

async function collect(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = stream.getReader()
  const parts: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw new RangeError(`blob inflates to more than ${maxBytes} bytes`)
    }
    parts.push(value)
  }
  return concat(parts, total)
}

async function unbrotli(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const brotli = await brotliDecoder
  const stream = new brotli.BrotliDecStream()
  const parts: Uint8Array[] = []
  let total = 0
  let offset = 0
  try {
    for (;;) {
      const result = stream.dec(data.subarray(offset), Math.min(BROTLI_STEP_BYTES, maxBytes - total + 1))
      offset += result.input_offset
      total += result.buf.byteLength
      if (total > maxBytes) throw new RangeError(`blob inflates to more than ${maxBytes} bytes`)
      parts.push(result.buf)
      const code = result.code
      result.free()
      if (code === brotli.BrotliStreamResultCode.ResultSuccess) break
      if (code === brotli.BrotliStreamResultCode.NeedsMoreInput) throw new RangeError('brotli data is truncated')
    }
  } finally {
    stream.free()
  }
  return concat(parts, total)
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
