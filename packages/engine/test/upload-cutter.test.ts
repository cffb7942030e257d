import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { UploadCutter } from '../src/relay/upload-cutter.js'

/** A doc whose local transactions feed a cutter, as the engine wires it. */
function device(clientID: number): { doc: Y.Doc; cutter: UploadCutter } {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const cutter = new UploadCutter()
  doc.on('update', (update: Uint8Array, origin: unknown, _d: Y.Doc, tr: Y.Transaction) => {
    if (origin !== 'peer') cutter.collect('chat:c', update, tr)
  })
  return { doc, cutter }
}

const replay = (...updates: Uint8Array[]): Y.Doc => {
  const d = new Y.Doc()
  for (const u of updates) Y.applyUpdate(d, u)
  return d
}

describe('UploadCutter', () => {
  it('uploads its own writes as the merge of their updates, reaching its own clock', () => {
    const { doc, cutter } = device(1)
    for (let i = 0; i < 3; i++) doc.getMap('messages').set(`m${i}`, new Uint8Array([i]))
    const cut = cutter.cut('chat:c', doc, new Map(), false)!
    expect(cut.reach).toEqual(new Map([[1, 3]]))
    expect(cut.uploaded).toEqual(new Map([[1, 3]]))
    expect(replay(cut.update).getMap('messages').toJSON()).toEqual(doc.getMap('messages').toJSON())
    expect(cutter.cut('chat:c', doc, cut.uploaded, false)).toBeNull() // nothing new
  })

  it("leaves a peer's content out of its own cut, and puts it in a cut of everything", () => {
    const { doc, cutter } = device(1)
    const peer = new Y.Doc()
    peer.clientID = 2
    peer.getMap('messages').set('theirs', new Uint8Array([9]))
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer), 'peer')
    doc.getMap('messages').set('mine', new Uint8Array([1]))
    const own = cutter.cut('chat:c', doc, new Map(), false)!
    expect(own.reach).toEqual(new Map([[1, 1]]))
    expect(own.uploaded.has(2)).toBe(false)
    const all = cutter.cut('chat:c', doc, own.uploaded, true)!
    expect(all.reach).toEqual(new Map([[2, 1]]))
    expect(replay(own.update, all.update).getMap('messages').toJSON()).toEqual(doc.getMap('messages').toJSON())
  })

  it('cuts from the doc when its collected updates do not join up with what the relay holds', () => {
    const { doc, cutter } = device(1)
    doc.getMap('messages').set('a', new Uint8Array([1]))
    cutter.cut('chat:c', doc, new Map(), false) // uploaded, but say the relay state says otherwise:
    doc.getMap('messages').set('b', new Uint8Array([2]))
    const cut = cutter.cut('chat:c', doc, new Map(), false)! // relay holds nothing of ours
    expect(cut.reach).toEqual(new Map([[1, 2]]))
    expect([...replay(cut.update).getMap('messages').keys()].sort()).toEqual(['a', 'b'])
  })

  it('sends everything for a bare deletion, which adds no struct of ours', () => {
    const { doc, cutter } = device(1)
    const list = doc.getArray<number>('l')
    list.insert(0, [1, 2, 3])
    const first = cutter.cut('chat:c', doc, new Map(), false)!
    list.delete(0, 1)
    const del = cutter.cut('chat:c', doc, first.uploaded, false)!
    expect(replay(first.update, del.update).getArray('l').toArray()).toEqual([2, 3])
  })

  it("leaves out of a cut of everything the clients its `foreign` names (another account's writers), as if the relay held them", () => {
    const { doc, cutter } = device(1)
    for (const client of [2, 3]) {
      const peer = new Y.Doc()
      peer.clientID = client
      peer.getMap('messages').set(`from ${client}`, new Uint8Array([client]))
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer), 'peer')
    }
    doc.getMap('messages').set('mine', new Uint8Array([1]))
    const cut = cutter.cut('chat:c', doc, new Map(), true, () => new Set([3, 1]))!
    // (its own client is never left out)
    expect(Object.keys(replay(cut.update).getMap('messages').toJSON()).sort()).toEqual(['from 2', 'mine'])
    expect(cut.reach).toEqual(
      new Map([
        [1, 1],
        [2, 1]
      ])
    )
    expect(cut.uploaded).toEqual(
      new Map([
        [1, 1],
        [2, 1],
        [3, 1]
      ])
    )
    expect(cutter.cut('chat:c', doc, cut.uploaded, true, () => new Set([3]))).toBeNull()
  })
})
