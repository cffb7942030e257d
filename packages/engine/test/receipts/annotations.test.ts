import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { MessageLog } from '../../src/model/message-log.js'
import { decodeMessageClock, decodeMessageRecord, encodeMessageRecord, type MessageRecord } from '../../src/model/message.js'

// Issue 16 asks that edits are marked and the latest wins everywhere, that a delete for
// everyone removes the content from the doc (not hides it), and that replies name their message.

const record = (id: string, text: string, wall: number): MessageRecord => ({ id, author: 'ann', device: 'd1', text, wall, counter: 0 })
const contains = (bytes: Uint8Array, text: string): boolean => Buffer.from(bytes).includes(Buffer.from(text))
const SEED = Number(process.env.TANDEM_SEED ?? Math.floor(Math.random() * 2 ** 31))

describe('message annotations', () => {
  it('the latest edit (by its clock) wins on every device, whatever order the edits arrive in', () => {
    console.log(`annotations property seed ${SEED} (TANDEM_SEED=${SEED} replays it)`)
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ device: fc.constantFrom('d1', 'd2', 'd3'), wall: fc.integer({ min: 1, max: 50 }), counter: fc.integer({ min: 0, max: 2 }) }), {
          selector: e => `${e.device} ${e.wall} ${e.counter}`,
          minLength: 1,
          maxLength: 12
        }),
        edits => {
          const docs = [new Y.Doc(), new Y.Doc()]
          const logs = docs.map(d => new MessageLog(d, null))
          for (const log of logs) log.append(record('m', 'first', 1))
          // each device writes its own key (latest per device), applied in two different orders
          const updates = edits.map(e => {
            const d = new Y.Doc()
            Y.applyUpdate(d, Y.encodeStateAsUpdate(docs[0]!))
            new MessageLog(d, null).annotations.edit('m', e.device, `${e.device}@${e.wall}.${e.counter}`, e)
            return Y.encodeStateAsUpdate(d, Y.encodeStateVector(docs[0]!))
          })
          for (const u of updates) Y.applyUpdate(docs[0]!, u)
          for (const u of [...updates].reverse()) Y.applyUpdate(docs[1]!, u)
          const [a, b] = logs.map(l => l.annotations.editOf('m'))
          expect(a).toEqual(b)
          expect(a).not.toBeNull()
        }
      ),
      { numRuns: 200, seed: SEED }
    )
  })

  // (what stays: Y.Map keeps the keys of deleted entries as tombstones, so the doc still says
  // that message m1 had an edit from device d1 and a 🤫 from ann, not what they said)
  it('a delete for everyone removes the text and its edits’ texts from the doc’s bytes, on the device that deletes and on one that gets it after', () => {
    const doc = new Y.Doc()
    const log = new MessageLog(doc, null)
    doc.transact(() => {
      log.append(record('m1', 'the secret plan', 1))
      log.append(record('m2', 'kept', 2))
    })
    log.annotations.edit('m1', 'd1', 'the edited secret', { wall: 3, counter: 0 })
    log.annotations.react('m1', 'ann', '🤫', true)
    expect(contains(Y.encodeStateAsUpdate(doc), 'the secret plan')).toBe(true)
    doc.transact(() => log.annotations.remove('m1'))
    const after = Y.encodeStateAsUpdate(doc)
    for (const text of ['the secret plan', 'the edited secret']) expect(contains(after, text)).toBe(false)
    expect(log.annotations.reactionsOf('m1')).toEqual([])
    expect(log.record('m1')).toBeNull()
    expect(log.annotations.isDeleted('m1')).toBe(true)
    // a device that gets the whole doc now never receives the text
    const other = new Y.Doc()
    Y.applyUpdate(other, after)
    expect(new MessageLog(other, null).ordered().map(m => m.text)).toEqual(['kept'])
  })

  it('a reply names its message in a field readers from before replies skip: they show it as a plain message', () => {
    const reply: MessageRecord = { ...record('m2', 'yes', 2), replyTo: 'm1' }
    const bytes = encodeMessageRecord(reply)
    expect(decodeMessageRecord('m2', bytes)).toEqual(reply)
    expect(decodeMessageClock(bytes)).toEqual({ wall: 2, counter: 0 })
    // the record reader as it was before replies (commit 8819c1e): the fields up to counter, nothing after checked
    const before = (id: string, content: Uint8Array): MessageRecord | null => {
      const dec = decoding.createDecoder(content)
      if (decoding.readVarUint(dec) !== 1) return null
      return {
        id,
        author: decoding.readVarString(dec),
        device: decoding.readVarString(dec),
        text: decoding.readVarString(dec),
        wall: decoding.readVarUint(dec),
        counter: decoding.readVarUint(dec)
      }
    }
    const { replyTo: _, ...plain } = reply
    expect(before('m2', bytes)).toEqual(plain)
  })
})
