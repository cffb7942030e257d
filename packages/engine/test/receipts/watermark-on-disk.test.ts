import { CrashableStore, Disk, HeldBatches } from '@tandem/storage/testing'
import { MemoryLevel } from 'memory-level'
import * as Y from 'yjs'
import { expect, it } from 'vitest'
import { ReceiptBook } from '../../src/receipts/receipt-book.js'
import { DocHost } from '../../src/store/doc-host.js'
import { DocStore } from '../../src/store/doc-store.js'

// A watermark is shown once the update that moved it is on this device's disk, through the
// real DocHost and DocStore (simulator seed 20261135 with --people: a read mark shown from an
// update whose write was still queued went back to delivered when the device crashed first).

const DOC = 'chat:marks'

/** A turn of the event loop: a landed batch's callers are resolved. */
const turn = (): Promise<void> =>
  new Promise(resolve => {
    setImmediate(resolve)
  })

it('shows a read mark another device wrote only once the update carrying it is on disk, and a crash then keeps it', async () => {
  const disk = new Disk(new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }))
  const first = new CrashableStore(disk)
  await first.open()
  await DocStore.open(first) // (its format record: opening it again writes nothing)

  const held = new HeldBatches()
  const db = new CrashableStore(disk, held.landing)
  await db.open()
  const host = new DocHost(await DocStore.open(db))
  const doc = await host.open(DOC)
  const moves: string[] = []
  const book = new ReceiptBook(
    doc,
    ms => moves.push(...ms.map(m => `${m.kind} ${m.account}`)),
    () => host.committed(doc)
  )

  // Bob's device read up to m1; its update comes from a relay
  const bobs = new Y.Doc()
  bobs.transact(() => new ReceiptBook(bobs).raise('read', 'bob', 'b1', { wall: 10, counter: 0, id: 'm1' }))
  host.applyRemote(DOC, doc, Y.encodeStateAsUpdate(bobs), 'relay')
  await turn()
  await turn()
  // its write waits for the disk: nothing is shown yet
  expect(held.held).toHaveLength(1)
  expect(moves).toEqual([])
  expect(book.watermark('read', 'bob')).toBeNull()

  held.landNext()
  await turn()
  await turn()
  expect(moves.sort()).toEqual(['delivered bob', 'read bob'])

  // the process crashes now: what was shown is what the disk gives back
  const after = new CrashableStore(disk)
  await after.open()
  const again = await new DocHost(await DocStore.open(after)).open(DOC)
  expect(new ReceiptBook(again).watermark('read', 'bob')).toEqual({ wall: 10, counter: 0, id: 'm1' })
})
