import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import {
  checkLinkVersion,
  decodeLinkFrame,
  encodeLinkFrame,
  FrameTooLargeError,
  LinkFrameTag,
  type LinkFrame,
  LinkRateLimitedError,
  linkErrorFrame,
  MalformedFrameError,
  MAX_FRAME_BYTES,
  MAX_APPROVAL_CHAIN_BYTES,
  MAX_CHAT_HINTS,
  MAX_HINT_CHAT_ID_BYTES,
  MAX_KEY_MATERIAL_BYTES,
  MAX_SEGMENT_INDEX,
  MAX_RETRY_AFTER_MS,
  readLinkFrame,
  UnsupportedVersionError
} from '../src/index.js'
import { boundedBytes } from './arbitraries.js'
import { decodesSafely, expectSameValue, mutate, mutationArb, varUint } from './helpers.js'
import { linkFrameArb } from './link-arbitraries.js'

const codec = { read: readLinkFrame, decode: decodeLinkFrame, encode: encodeLinkFrame }
const smallFrameArb = linkFrameArb(() => fc.uint8Array({ maxLength: 32 }))

describe('link frames', () => {
  it('decode(encode(frame)) is the frame, every bound included; a frame never exceeds MAX_FRAME_BYTES (property)', () => {
    fc.assert(
      fc.property(linkFrameArb(boundedBytes), frame => {
        const bytes = encodeLinkFrame(frame)
        expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES)
        expectSameValue(decodeLinkFrame(bytes), frame)
        // the streaming reader reads the same frame and stops at its end
        const longer = new Uint8Array(bytes.length + 1).fill(0xff)
        longer.set(bytes)
        const decoder = decoding.createDecoder(longer)
        expectSameValue(readLinkFrame(decoder), frame)
        expect(decoder.pos).toBe(bytes.length)
      }),
      { numRuns: 300 }
    )
  })

  it('arbitrary, mutated or truncated bytes: a frame that re-encodes to the same bytes, or a TandemError — never anything else (property)', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc
        .tuple(smallFrameArb, fc.array(mutationArb([32, 16, MAX_APPROVAL_CHAIN_BYTES, MAX_KEY_MATERIAL_BYTES, MAX_RETRY_AFTER_MS, 2 ** 40]), { minLength: 1, maxLength: 3 }))
        .map(([frame, ms]) => ms.reduce(mutate, encodeLinkFrame(frame)))
    )
    fc.assert(
      fc.property(arb, bytes => {
        decodesSafely(bytes, codec)
      }),
      { numRuns: 3000 }
    )
  })

  it('the approval carries a chain up to MAX_APPROVAL_CHAIN_BYTES, key material up to MAX_KEY_MATERIAL_BYTES and MAX_CHAT_HINTS chat hints in one frame with the longest account id; one byte or hint more is refused both ways', () => {
    const hints = Array.from({ length: MAX_CHAT_HINTS }, () => ({ chatId: 'c'.repeat(MAX_HINT_CHAT_ID_BYTES), segment: MAX_SEGMENT_INDEX }))
    const frame: LinkFrame = {
      type: 'approval',
      accountId: 'a'.repeat(64),
      chain: new Uint8Array(MAX_APPROVAL_CHAIN_BYTES),
      keyMaterial: new Uint8Array(MAX_KEY_MATERIAL_BYTES),
      hints
    }
    const bytes = encodeLinkFrame(frame)
    expect(bytes.length).toBeLessThan(MAX_FRAME_BYTES)
    expectSameValue(decodeLinkFrame(bytes), frame)
    expect(() => encodeLinkFrame({ ...frame, keyMaterial: new Uint8Array(MAX_KEY_MATERIAL_BYTES + 1) })).toThrow(FrameTooLargeError)
    expect(() => encodeLinkFrame({ ...frame, chain: new Uint8Array(MAX_APPROVAL_CHAIN_BYTES + 1) })).toThrow(FrameTooLargeError)
    expect(() => encodeLinkFrame({ ...frame, hints: [...hints, hints[0]!] })).toThrow(FrameTooLargeError)
    expect(() => encodeLinkFrame({ ...frame, hints: [{ chatId: 'c', segment: MAX_SEGMENT_INDEX + 1 }] })).toThrow(MalformedFrameError)
    const approval = (hintBytes: number[]) => Uint8Array.of(...varUint(LinkFrameTag.approval), ...varUint(1), 97, ...varUint(0), ...varUint(0), ...hintBytes)
    expect(decodeLinkFrame(approval([...varUint(1), ...varUint(1), 99, ...varUint(7)]))).toMatchObject({ hints: [{ chatId: 'c', segment: 7 }] })
    expect(() => decodeLinkFrame(approval([...varUint(1), ...varUint(1), 99, ...varUint(MAX_SEGMENT_INDEX + 1)]))).toThrow(MalformedFrameError)
    expect(() => decodeLinkFrame(approval([...varUint(MAX_CHAT_HINTS + 1)]))).toThrow(FrameTooLargeError)
    const forged = encoding.encode(e => {
      encoding.writeVarUint(e, LinkFrameTag.approval)
      encoding.writeVarString(e, 'a')
      encoding.writeVarUint8Array(e, new Uint8Array(1))
      encoding.writeVarUint(e, MAX_KEY_MATERIAL_BYTES + 1)
    })
    expect(() => decodeLinkFrame(forged)).toThrow(FrameTooLargeError)
  })

  it('a passphrase challenge carries only parameters Argon2id can run within the maximum; a retry only a wait up to a day', () => {
    const challenge = (t: number, m: number, p: number) =>
      Uint8Array.of(...varUint(LinkFrameTag['passphrase-challenge']), ...varUint(t), ...varUint(m), ...varUint(p), ...new Uint8Array(16))
    expect(decodeLinkFrame(challenge(2, 65536, 1))).toMatchObject({ type: 'passphrase-challenge', params: { t: 2, m: 65536, p: 1 } })
    for (const [t, m, p] of [
      [0, 65536, 1],
      [9, 65536, 1],
      [2, 256 * 1024 + 1, 1],
      [2, 7, 1],
      [2, 65536, 5],
      [2, 65536, 0]
    ] as const) {
      expect(() => decodeLinkFrame(challenge(t, m, p)), `t=${t} m=${m} p=${p}`).toThrow(MalformedFrameError)
    }
    expect(() => encodeLinkFrame({ type: 'passphrase-retry', retryAfterMs: MAX_RETRY_AFTER_MS + 1 })).toThrow(MalformedFrameError)
    expect(() => decodeLinkFrame(Uint8Array.of(...varUint(LinkFrameTag['passphrase-retry']), ...varUint(MAX_RETRY_AFTER_MS + 1)))).toThrow(MalformedFrameError)
  })

  it('tag 0 and unknown tags are malformed; a hello of another version reports the version, not a parse error', () => {
    expect(() => decodeLinkFrame(Uint8Array.of(0))).toThrow(/unknown link frame tag 0/)
    expect(() => decodeLinkFrame(Uint8Array.of(11))).toThrow(/unknown link frame tag 11/)
    const future = Uint8Array.of(...varUint(LinkFrameTag.hello), ...varUint(3), 1, 2, 3)
    expect(() => decodeLinkFrame(future)).toThrow(UnsupportedVersionError)
    expect(() => checkLinkVersion(3)).toThrow(UnsupportedVersionError)
    // version 1's approval had no chat hints
    expect(() => checkLinkVersion(1)).toThrow(UnsupportedVersionError)
    expect(() => checkLinkVersion(2)).not.toThrow()
    expect(() => encodeLinkFrame({ type: 'nope' } as unknown as LinkFrame)).toThrow(MalformedFrameError)
  })

  it('an error frame reports any typed error, cut to the bounds', () => {
    const frame = linkErrorFrame(new LinkRateLimitedError('x'.repeat(5000), 30_000))
    expect(frame.code).toBe('ERR_LINK_RATE_LIMITED')
    expect(() => encodeLinkFrame(frame)).not.toThrow()
    expect(frame.message).toHaveLength(1024)
  })
})
