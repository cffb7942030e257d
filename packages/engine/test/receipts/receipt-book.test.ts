import fc from 'fast-check'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { receiptsOf } from '../../src/receipts/message-receipts.js'
import { comparePositions, encodePosition, laterOf, type Position } from '../../src/receipts/position.js'
import { ReceiptBook, type ReceiptKind, type WatermarkMove } from '../../src/receipts/receipt-book.js'
import type { MessageRecord } from '../../src/model/message.js'

const DEVICES = [
  { account: 'alice', device: 'a1' },
  { account: 'alice', device: 'a2' },
  { account: 'bob', device: 'b1' },
  { account: 'bob', device: 'b2' }
] as const
const KINDS: ReceiptKind[] = ['delivered', 'read']

const position = fc.record({ wall: fc.integer({ min: 0, max: 40 }), counter: fc.integer({ min: 0, max: 2 }), id: fc.constantFrom('m1', 'm2', 'm3') })
const op = fc.oneof(
  fc.record({ op: fc.constant('raise' as const), at: fc.integer({ min: 0, max: 3 }), kind: fc.constantFrom(...KINDS), to: position }),
  // one update still on its way to a device, picked at random: any merge order, duplicates and gaps included
  fc.record({ op: fc.constant('deliver' as const), at: fc.integer({ min: 0, max: 3 }), pick: fc.nat() })
)

const SEED = Number(process.env.TANDEM_SEED ?? Math.floor(Math.random() * 2 ** 31))

describe('delivered and read watermarks', () => {
  it('never go back on any device, whatever order the devices’ writes merge in, and end at the latest any device wrote', () => {
    console.log(`receipt-book property seed ${SEED} (TANDEM_SEED=${SEED} replays it)`)
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 2 ** 30 }), { minLength: 4, maxLength: 4 }), (ops, clientIds) => {
        const docs = DEVICES.map((_, i) => {
          const doc = new Y.Doc()
          doc.clientID = clientIds[i]! * 4 + i // distinct, chosen by the run: Yjs breaks ties by client id
          return doc
        })
        const moves: WatermarkMove[][] = docs.map(() => [])
        const books = docs.map((doc, i) => new ReceiptBook(doc, m => moves[i]!.push(...m)))
        const inFlight: Uint8Array[][] = docs.map(() => [])
        docs.forEach((doc, i) => {
          doc.on('update', (update: Uint8Array, origin: unknown) => {
            if (origin === 'remote') return
            for (let j = 0; j < docs.length; j++) if (j !== i) inFlight[j]!.push(update)
          })
        })
        const highest = new Map<string, Position | null>()
        const seen = (i: number, kind: ReceiptKind, account: string) => `${i} ${kind} ${account}`
        const shown = new Map<string, Position>()
        const check = (i: number): void => {
          for (const account of ['alice', 'bob'])
            for (const kind of KINDS) {
              const mark = books[i]!.watermark(kind, account)
              const before = shown.get(seen(i, kind, account))
              if (before !== undefined) expect(mark !== null && comparePositions(mark, before) >= 0).toBe(true)
              if (mark !== null) shown.set(seen(i, kind, account), mark)
            }
        }
        for (const o of ops) {
          const { account, device } = DEVICES[o.at]!
          if (o.op === 'raise') {
            docs[o.at]!.transact(() => {
              books[o.at]!.raise(o.kind, account, device, o.to)
            })
            const k = `${o.kind} ${account}`
            highest.set(k, laterOf(highest.get(k) ?? null, o.to))
          } else if (inFlight[o.at]!.length > 0) {
            const [update] = inFlight[o.at]!.splice(o.pick % inFlight[o.at]!.length, 1)
            Y.applyUpdate(docs[o.at]!, update!, 'remote')
          }
          check(o.at)
        }
        // everything delivered: every device shows the latest each account's devices wrote
        for (let i = 0; i < docs.length; i++) for (const update of inFlight[i]!.splice(0)) Y.applyUpdate(docs[i]!, update, 'remote')
        for (let i = 0; i < docs.length; i++) {
          check(i)
          for (const account of ['alice', 'bob']) {
            const read = highest.get(`read ${account}`) ?? null
            const delivered = laterOf(highest.get(`delivered ${account}`) ?? null, read)
            expect(books[i]!.watermark('read', account)).toEqual(read)
            expect(books[i]!.watermark('delivered', account)).toEqual(delivered)
          }
          // every reported move went forward
          for (const m of moves[i]!) expect(m.from === null || comparePositions(m.to, m.from) > 0).toBe(true)
        }
      }),
      { numRuns: 300, seed: SEED }
    )
  })

  it('would go back with one key per account: two devices writing it at once keep the write of the larger client id, not the later position', () => {
    // why ReceiptBook keys by device: this is what Y.Map does with a single key
    const [one, two] = [new Y.Doc(), new Y.Doc()]
    one.clientID = 2
    two.clientID = 1
    one.getMap('m').set('read alice', encodePosition({ wall: 5, counter: 0, id: 'm1' }))
    two.getMap('m').set('read alice', encodePosition({ wall: 9, counter: 0, id: 'm2' }))
    Y.applyUpdate(two, Y.encodeStateAsUpdate(one))
    // the phone read up to 9, the laptop up to 5: after the merge the phone shows 5
    expect(two.getMap('m').get('read alice')).toEqual(encodePosition({ wall: 5, counter: 0, id: 'm1' }))
  })

  it('a message is delivered once on a device of every other member, read once every other member read it; its author and a chat of one account add nothing', () => {
    const doc = new Y.Doc()
    const book = new ReceiptBook(doc)
    const m: MessageRecord = { id: 'x', author: 'alice', device: 'a1', text: 'hi', wall: 10, counter: 0 }
    // written to the three of them, all members still
    const members = { members: ['alice', 'bob', 'carol'], removed: [] }
    expect(receiptsOf(book, members, m, 'sent')).toEqual({ status: 'sent', receipts: [] })
    doc.transact(() => book.raise('delivered', 'bob', 'b1', { wall: 10, counter: 0, id: 'x' }))
    expect(receiptsOf(book, members, m, 'sent')).toEqual({ status: 'sent', receipts: [{ account: 'bob', status: 'delivered' }] })
    // one recipient of two has another account's message: a relay passed it on, so it is sent
    expect(receiptsOf(book, members, m, 'pending')).toEqual({ status: 'sent', receipts: [{ account: 'bob', status: 'delivered' }] })
    // this account's own message before a relay acked it: a watermark over it moves nothing (it covers a position, not what bob holds)
    expect(receiptsOf(book, members, m, 'pending', true)).toEqual({ status: 'pending', receipts: [{ account: 'bob', status: 'delivered' }] })
    doc.transact(() => book.raise('read', 'carol', 'c1', { wall: 11, counter: 0, id: 'y' }))
    expect(receiptsOf(book, members, m, 'sent')).toEqual({
      status: 'delivered',
      receipts: [
        { account: 'bob', status: 'delivered' },
        { account: 'carol', status: 'read' }
      ]
    })
    doc.transact(() => book.raise('read', 'bob', 'b2', { wall: 10, counter: 0, id: 'x' }))
    expect(receiptsOf(book, members, m, 'pending').status).toBe('read')
    expect(receiptsOf(book, members, m, 'sent', true).status).toBe('read')
    expect(receiptsOf(book, members, m, 'pending', true).status).toBe('pending')
    // (failed: removed from the chat, it hears no ack any more; the watermarks are all it learns)
    expect(receiptsOf(book, members, m, 'failed', true).status).toBe('read')
    // the author's own marks count for nothing; with no other member the base status stands
    doc.transact(() => book.raise('read', 'alice', 'a2', { wall: 99, counter: 0, id: 'z' }))
    expect(receiptsOf(book, { members: ['alice'], removed: [] }, m, 'sent')).toEqual({ status: 'sent', receipts: [] })
    // a watermark before the message covers nothing of it
    expect(receiptsOf(book, { members: ['alice', 'dave'], removed: [] }, { ...m, wall: 100 }, 'sent').status).toBe('sent')
  })

  it('a read that covers what was not delivered yet moves delivered first, then read (so a status never shows read before delivered)', () => {
    const doc = new Y.Doc()
    const moves: WatermarkMove[] = []
    const book = new ReceiptBook(doc, m => moves.push(...m))
    const at = { wall: 7, counter: 0, id: 'm' }
    doc.transact(() => book.raise('read', 'bob', 'b1', at))
    expect(moves.map(m => [m.kind, m.account, m.from, m.to])).toEqual([
      ['delivered', 'bob', null, at],
      ['read', 'bob', null, at]
    ])
  })

  it('a device never lowers its own watermark, and an unreadable value counts for nothing', () => {
    const doc = new Y.Doc()
    const book = new ReceiptBook(doc)
    expect(book.raise('read', 'alice', 'a1', { wall: 5, counter: 1, id: 'm' })).toBe(true)
    expect(book.raise('read', 'alice', 'a1', { wall: 5, counter: 0, id: 'z' })).toBe(false)
    expect(book.watermark('read', 'alice')).toEqual({ wall: 5, counter: 1, id: 'm' })
    book.marks.set('r alice a9', new Uint8Array([99, 1, 2]))
    expect(book.watermark('read', 'alice')).toEqual({ wall: 5, counter: 1, id: 'm' })
  })
})
