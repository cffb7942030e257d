import fc from 'fast-check'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { HybridLogicalClock } from '../src/hlc.js'
import { MessageLog } from '../src/model/message-log.js'
import { compareMessages, decodeMessageClock, decodeMessageRecord, encodeMessageRecord, type MessageRecord } from '../src/model/message.js'

describe('hybrid logical clock', () => {
  it('never goes backwards, even when the wall clock does', () => {
    let wall = 1000
    const clock = new HybridLogicalClock(() => wall)
    const a = clock.tick()
    wall = 900 // clock stepped back
    const b = clock.tick()
    expect(b.wall).toBe(1000)
    expect(b.counter).toBe(a.counter + 1)
  })

  it('moves past every remote stamp it observes (a reply sorts after what it answers)', () => {
    const clock = new HybridLogicalClock(() => 500)
    clock.observe({ wall: 10_000, counter: 7 })
    const next = clock.tick()
    expect(next).toEqual({ wall: 10_000, counter: 8 })
  })
})

const record = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 6 }),
    author: fc.constant('a'),
    device: fc.constantFrom('d1', 'd2', 'd3'),
    text: fc.string({ maxLength: 8 }),
    wall: fc.integer({ min: 0, max: 20 }),
    counter: fc.integer({ min: 0, max: 3 })
  })
  .map(r => ({ ...r })) // Yjs stores plain objects only

describe('chat display order', () => {
  it('is the same whatever order the messages arrive in, and the incremental index matches a full sort', () => {
    fc.assert(
      fc.property(fc.uniqueArray(record, { selector: r => r.id, maxLength: 60 }), fc.integer({ min: 0, max: 2 ** 31 }), (records, seed) => {
        // deliver the same messages to two docs in different orders and batch sizes
        const shuffled = [...records].sort((a, b) => ((a.id.charCodeAt(0) * seed) % 97) - ((b.id.charCodeAt(0) * seed) % 97))
        const one = new MessageLog(new Y.Doc(), null)
        const two = new MessageLog(new Y.Doc(), null)
        one.ordered() // index live from the start: exercises incremental inserts
        for (const r of records) one.append(r)
        for (let i = 0; i < shuffled.length; i += 7) {
          const batch = shuffled.slice(i, i + 7)
          two.doc.transact(() => {
            for (const r of batch) two.append(r)
          })
        }
        const expected = [...records].sort(compareMessages).map(r => r.id)
        expect(one.ordered().map(r => r.id)).toEqual(expected)
        expect(two.ordered().map(r => r.id)).toEqual(expected)
      }),
      { numRuns: 300 }
    )
  })

  it('orders by clock, then by id', () => {
    const m = (id: string, wall: number, counter: number): MessageRecord => ({ id, author: 'a', device: 'd', text: '', wall, counter })
    expect([m('b', 1, 0), m('a', 1, 0), m('c', 0, 5), m('d', 1, 1)].sort(compareMessages).map(x => x.id)).toEqual(['c', 'a', 'b', 'd'])
  })
})

it("reads a record's clock without decoding its strings, and refuses what is not a record", () => {
  const record = { id: 'x', author: 'a'.repeat(300), device: 'd', text: 'é'.repeat(200), wall: 1_790_000_000_123, counter: 7 }
  expect(decodeMessageClock(encodeMessageRecord(record))).toEqual({ wall: record.wall, counter: 7 })
  expect(decodeMessageRecord('x', encodeMessageRecord(record))).toEqual(record)
  expect(decodeMessageClock(new Uint8Array([9, 1, 2]))).toBeNull()
  expect(decodeMessageClock(new Uint8Array([1, 200]))).toBeNull()
  expect(decodeMessageClock(new Uint8Array([1, 5, 0x61]))).toBeNull() // a string longer than the record
  expect(decodeMessageClock('not bytes')).toBeNull()
})
