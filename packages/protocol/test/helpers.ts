/** Shared test helpers: byte comparison, structural equality for big values, byte-level mutations. */
import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { FrameTooLargeError, MAX_FRAME_BYTES, TandemError } from '../src/index.js'
import { expect } from 'vitest'

export const bytesOf = (write: (e: encoding.Encoder) => void): Uint8Array => encoding.encode(write)

export const varUint = (n: number): Uint8Array => bytesOf(e => encoding.writeVarUint(e, n))

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)

/** Deep equality that compares byte arrays with Buffer.equals, since toEqual walks big arrays slowly. */
export function expectSameValue(actual: unknown, expected: unknown): void {
  const split = (value: unknown) => {
    const bytes: Uint8Array[] = []
    const rest = JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `#bytes${bytes.push(v)}` : v))
    return { rest, bytes }
  }
  const a = split(actual)
  const b = split(expected)
  expect(a.rest).toBe(b.rest)
  expect(a.bytes.length).toBe(b.bytes.length)
  a.bytes.forEach((x, i) => {
    expect(equalBytes(x, b.bytes[i]!)).toBe(true)
  })
}

export type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'length'; at: number; value: number }

/** Flipped bytes, truncation, inserted garbage, and varuints forged near the given bounds (or huge). */
export const mutationArb = (boundValues: readonly number[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({
      kind: fc.constant('length' as const),
      at: fc.nat(),
      value: fc.oneof(
        fc.constantFrom(...boundValues).chain(b => fc.integer({ min: Math.max(0, b - 2), max: b + 2 })),
        fc.maxSafeNat(),
        fc.nat({ max: 300 })
      )
    })
  )

export function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : m.kind === 'append' ? bytes.length : m.at % (bytes.length + 1)
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice()
      if (out.length > 0) out[at % out.length]! ^= m.xor
      return out
    }
    case 'truncate':
      return bytes.slice(0, at)
    case 'insert':
    case 'append':
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)])
    case 'length': // overwrite one byte with a whole varuint, e.g. a length prefix claiming a huge size
      return Buffer.concat([bytes.subarray(0, at), varUint(m.value), bytes.subarray(at + 1)])
  }
}

/**
 * The decoding property every frame family must hold: `read` (streaming) and `decode`
 * (whole frame) return a frame or throw a TandemError — nothing else, never reading past
 * the end; over-bound input is a FrameTooLargeError; an accepted frame re-encodes to
 * exactly the bytes received (canonical encoding).
 */
export function decodesSafely<F extends { type: string }>(bytes: Uint8Array, codec: { read(d: decoding.Decoder): F; decode(b: Uint8Array): F; encode(f: F): Uint8Array }): void {
  if (bytes.length <= MAX_FRAME_BYTES) {
    const decoder = decoding.createDecoder(bytes)
    try {
      codec.read(decoder)
    } catch (e) {
      if (!(e instanceof TandemError)) throw new Error(`non-TandemError escaped: ${String(e)}`, { cause: e })
    }
    if (decoder.pos > bytes.length) throw new Error(`read past the end: ${decoder.pos} > ${bytes.length}`)
  }
  let frame: F
  try {
    frame = codec.decode(bytes)
  } catch (e) {
    if (!(e instanceof TandemError)) throw new Error(`non-TandemError escaped: ${String(e)}`, { cause: e })
    if (bytes.length > MAX_FRAME_BYTES && !(e instanceof FrameTooLargeError)) throw new Error(`over-bound input gave ${String(e)}`)
    return
  }
  if (!equalBytes(codec.encode(frame), bytes)) throw new Error(`accepted ${frame.type} bytes are not canonical`)
}
