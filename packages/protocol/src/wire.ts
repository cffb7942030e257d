/**
 * Bounded read/write helpers over lib0 encoders, shared by frames, certificates and
 * credentials. lib0's readers trust their input: `readUint8Array` silently returns a
 * short view past the end, `readUint8` returns undefined, `readVarUint` throws plain
 * Errors. So every length is checked against its bound and the remaining bytes before
 * anything is read, and failures become the caller's typed error.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as string from 'lib0/string'
import { FrameTooLargeError, MalformedFrameError, TandemError } from './errors.js'

/** Which typed error a format raises for unparsable bytes and for over-bound sizes. */
export interface WireErrors {
  malformed(message: string, options?: ErrorOptions): TandemError
  tooLarge(message: string, options?: ErrorOptions): TandemError
}

/** The errors of a frame grammar (sync, store, link): malformed bytes, and bounds exceeded. */
export const FRAME_ERRORS: WireErrors = {
  malformed: (m, o) => new MalformedFrameError(m, o),
  tooLarge: (m, o) => new FrameTooLargeError(m, o)
}

// fatal: bad UTF-8 is an error, not U+FFFD; ignoreBOM: a leading BOM is data, so strings round-trip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export const remaining = (decoder: decoding.Decoder): number => decoder.arr.length - decoder.pos

/** Bytes lib0's writeVarUint uses for `n`; anything longer is a non-canonical encoding. */
const varUintSize = (n: number): number => {
  let size = 1
  while (n > 0x7f) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

export function readUint(decoder: decoding.Decoder, what: string, errs: WireErrors): number {
  const start = decoder.pos
  let n: number
  try {
    n = decoding.readVarUint(decoder)
  } catch (cause) {
    throw errs.malformed(`${what}: truncated or overlong varuint`, { cause })
  }
  // Canonical encodings only: one value has one byte string, so frames can be compared and hashed.
  if (!Number.isSafeInteger(n) || decoder.pos - start !== varUintSize(n)) {
    throw errs.malformed(`${what}: non-canonical or unsafe varuint`)
  }
  return n
}

/** Reads a length prefix, rejecting it before any allocation if over `max` or past the end. */
export function readLength(decoder: decoding.Decoder, what: string, max: number, errs: WireErrors): number {
  const len = readUint(decoder, `${what} length`, errs)
  if (len > max) throw errs.tooLarge(`${what}: ${len} bytes, over the bound of ${max}`)
  if (len > remaining(decoder)) throw errs.malformed(`${what}: ${len} bytes claimed, ${remaining(decoder)} left`)
  return len
}

/**
 * Reads an element count. Every element takes at least one byte, so a count past the
 * remaining bytes is refused like a length, before any array is built.
 */
export function readCount(decoder: decoding.Decoder, what: string, max: number, errs: WireErrors): number {
  const count = readUint(decoder, `${what} count`, errs)
  if (count > max) throw errs.tooLarge(`${what}: ${count} entries, over the bound of ${max}`)
  if (count > remaining(decoder)) throw errs.malformed(`${what}: ${count} entries claimed, ${remaining(decoder)} bytes left`)
  return count
}

/** A view into the decoder's buffer (no copy), like lib0's own readVarUint8Array. */
export function readBytes(decoder: decoding.Decoder, what: string, max: number, errs: WireErrors): Uint8Array {
  return decoding.readUint8Array(decoder, readLength(decoder, what, max, errs))
}

export function readFixedBytes(decoder: decoding.Decoder, what: string, size: number, errs: WireErrors): Uint8Array {
  if (size > remaining(decoder)) throw errs.malformed(`${what}: truncated`)
  return decoding.readUint8Array(decoder, size)
}

export function readString(decoder: decoding.Decoder, what: string, maxBytes: number, errs: WireErrors): string {
  const bytes = readBytes(decoder, what, maxBytes, errs)
  try {
    return utf8.decode(bytes)
  } catch {
    throw errs.malformed(`${what}: invalid UTF-8`)
  }
}

export function readBool(decoder: decoding.Decoder, what: string, errs: WireErrors): boolean {
  if (remaining(decoder) < 1) throw errs.malformed(`${what}: truncated`)
  const b = decoding.readUint8(decoder)
  if (b > 1) throw errs.malformed(`${what}: bool byte ${b}, expected 0 or 1`)
  return b === 1
}

export function writeUint(encoder: encoding.Encoder, what: string, n: number, errs: WireErrors): void {
  if (!Number.isSafeInteger(n) || n < 0) throw errs.malformed(`${what}: ${n} is not a non-negative safe integer`)
  encoding.writeVarUint(encoder, n)
}

export function writeBytes(encoder: encoding.Encoder, what: string, bytes: Uint8Array, max: number, errs: WireErrors): void {
  if (!(bytes instanceof Uint8Array)) throw errs.malformed(`${what}: not a Uint8Array`)
  if (bytes.length > max) throw errs.tooLarge(`${what}: ${bytes.length} bytes, over the bound of ${max}`)
  encoding.writeVarUint8Array(encoder, bytes)
}

export function writeFixedBytes(encoder: encoding.Encoder, what: string, bytes: Uint8Array, size: number, errs: WireErrors): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) throw errs.malformed(`${what}: expected ${size} bytes`)
  encoding.writeUint8Array(encoder, bytes)
}

export function writeString(encoder: encoding.Encoder, what: string, s: string, maxBytes: number, errs: WireErrors): void {
  // Lone surrogates would be sent as U+FFFD and come back as a different string.
  if (typeof s !== 'string' || !s.isWellFormed()) throw errs.malformed(`${what}: not a well-formed string`)
  writeBytes(encoder, what, string.encodeUtf8(s), maxBytes, errs)
}

/** Writes an element count, refusing one over `max` (the reader refuses it too). */
export function writeCount(encoder: encoding.Encoder, what: string, count: number, max: number, errs: WireErrors): void {
  if (count > max) throw errs.tooLarge(`${what}: ${count} entries, over the bound of ${max}`)
  writeUint(encoder, `${what} count`, count, errs)
}

export function writeBool(encoder: encoding.Encoder, what: string, b: boolean, errs: WireErrors): void {
  if (typeof b !== 'boolean') throw errs.malformed(`${what}: not a boolean`)
  encoding.writeUint8(encoder, b ? 1 : 0)
}

/**
 * Decodes one whole value: trailing bytes are an error, and anything that is not already
 * a TandemError (a lib0 or engine bug) is wrapped, so callers only ever see typed errors.
 */
export function decodeWhole<T>(bytes: Uint8Array, read: (d: decoding.Decoder) => T, what: string, errs: WireErrors): T {
  if (!(bytes instanceof Uint8Array)) throw errs.malformed(`${what}: not a Uint8Array`)
  const decoder = decoding.createDecoder(bytes)
  const value = guard(() => read(decoder), what, errs)
  if (decoding.hasContent(decoder)) throw errs.malformed(`${what}: ${remaining(decoder)} trailing bytes`)
  return value
}

export function guard<T>(f: () => T, what: string, errs: WireErrors): T {
  try {
    return f()
  } catch (cause) {
    if (cause instanceof TandemError) throw cause
    throw errs.malformed(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i])
}

const utf8Encoder = new TextEncoder()

/** Cuts `text` (made well-formed first) at a character boundary to at most `maxBytes` of UTF-8. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const wellFormed = text.toWellFormed()
  let bytes = 0
  let end = 0
  for (const ch of wellFormed) {
    const size = utf8Encoder.encode(ch).length
    if (bytes + size > maxBytes) break
    bytes += size
    end += ch.length
  }
  return wellFormed.slice(0, end)
}
