import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { decodeMessageRecord, encodeMessageRecord, type MessageRecord } from '../src/model/message.js'

/** The record as lib0's encoder writes it: the layout decodeMessageRecord reads. */
function lib0Record(r: MessageRecord): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 1)
  encoding.writeVarString(enc, r.author)
  encoding.writeVarString(enc, r.device)
  encoding.writeVarString(enc, r.text)
  encoding.writeVarUint(enc, r.wall)
  encoding.writeVarUint(enc, r.counter)
  if (r.replyTo !== undefined || r.members !== undefined) encoding.writeVarString(enc, r.replyTo ?? '')
  if (r.members !== undefined) encoding.writeVarUint(enc, r.members)
  return encoding.toUint8Array(enc)
}

const record = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 40 }),
    author: fc.string({ maxLength: 60 }),
    device: fc.string({ maxLength: 60 }),
    // long texts pass the scratch array's size (3 KiB) and take the other path
    text: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', minLength: 1000, maxLength: 2000 })),
    wall: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
    counter: fc.nat(),
    replyTo: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    members: fc.option(fc.nat(), { nil: undefined })
  },
  { requiredKeys: ['id', 'author', 'device', 'text', 'wall', 'counter'] }
)

describe('message records', () => {
  it('are written byte for byte as lib0 writes them, and read back whole', () => {
    fc.assert(
      fc.property(record, fc.string({ maxLength: 300 }), (r, before) => {
        // (a record written after another: the text's scratch bytes of the first never leak into the second)
        encodeMessageRecord({ ...r, text: before })
        const bytes = encodeMessageRecord(r)
        expect(bytes).toEqual(lib0Record(r))
        const back = decodeMessageRecord(r.id, bytes)
        expect(back).toEqual(r.replyTo === undefined ? { ...r, replyTo: undefined } : r)
      }),
      { numRuns: 200 }
    )
  })
})
