import type { BatchOp } from '@tandem/storage'
import { CrashableStore, Disk, HeldBatches } from '@tandem/storage/testing'
import { MemoryLevel } from 'memory-level'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { DocStore } from '../src/store/doc-store.js'

// DocStore is where compaction happens (the snapshot put and the log deletes in one batch of
// its WriteQueue): these tests crash it at every batch boundary through its public methods.

const DOC = 'chat:crash'
/** A disk with an empty device store on it (its format record written: opening it writes nothing). */
async function newDisk(): Promise<Disk> {
  const disk = new Disk(new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }))
  const db = new CrashableStore(disk)
  await db.open()
  await DocStore.open(db)
  return disk
}
/** A turn of the event loop: the queue resolves a landed batch's callers and starts its next batch. */
const turn = (): Promise<void> =>
  new Promise(resolve => {
    setImmediate(resolve)
  })

/** A batch that folds the log: it puts the snapshot and deletes log entries, all at once. */
const isCompaction = (ops: readonly BatchOp[]): boolean =>
  ops.some(op => op.type === 'put' && op.key === `snap!${DOC}`) && ops.some(op => op.type === 'del' && op.key.startsWith(`log!${DOC}!`))

/**
 * Appends the numbers 0..29 to a doc's array, one update each, compacting on the write path
 * every 5 entries and once more by compact(); a batch reaches the disk after each append
 * until `budget` have. Then the process crashes. Returns how many appends were acknowledged
 * and the ops of every batch that reached the disk.
 */
async function runUntilCrash(disk: Disk, budget: number): Promise<{ acked: number; landed: ReadonlyArray<readonly BatchOp[]> }> {
  const held = new HeldBatches()
  const db = new CrashableStore(disk, held.landing)
  await db.open()
  const store = await DocStore.open(db, { compactEntries: 5 })
  await store.loadDoc(DOC)
  const doc = new Y.Doc()
  const arr = doc.getArray<number>('n')
  let acked = 0
  for (let i = 0; i < 30; i++) {
    let update: Uint8Array | null = null
    doc.once('update', (u: Uint8Array) => {
      update = u
    })
    arr.push([i])
    // acknowledgements come in append order (one queue, batches in order): a count says which
    void store
      .append(DOC, update!, () => Y.encodeStateAsUpdate(doc))
      .then(() => {
        acked = i + 1
      })
    if (i === 17) void store.compact(DOC, Y.encodeStateAsUpdate(doc))
    await turn()
    if (held.landed.length < budget) held.landNext()
    await turn()
  }
  db.crash()
  return { acked, landed: [...held.landed] }
}

/** The next process: loads the doc from what reached the disk. */
async function restart(disk: Disk): Promise<number[]> {
  const db = new CrashableStore(disk)
  await db.open()
  const { snapshot, updates } = await (await DocStore.open(db)).loadDoc(DOC)
  const doc = new Y.Doc()
  if (snapshot !== null) Y.applyUpdate(doc, snapshot)
  for (const u of updates) Y.applyUpdate(doc, u)
  return doc.getArray<number>('n').toArray()
}

describe('DocStore under a crash', () => {
  it('a crash before or after any batch, compactions included, leaves a loadable doc holding every acknowledged append', async () => {
    const full = await runUntilCrash(await newDisk(), Infinity)
    expect(full.acked).toBe(30)
    const compactions = full.landed.flatMap((ops, n) => (isCompaction(ops) ? [n] : []))
    // the workload compacts several times, each in one batch: crash points land on both sides of each
    expect(compactions.length).toBeGreaterThanOrEqual(3)
    for (let budget = 0; budget <= full.landed.length; budget++) {
      const disk = await newDisk()
      const { acked } = await runUntilCrash(disk, budget)
      const loaded = await restart(disk)
      // a prefix of the appends, in order, no gaps: nothing lost that was acknowledged
      expect(loaded, `crash after ${budget} batches`).toEqual(Array.from({ length: loaded.length }, (_, i) => i))
      expect(loaded.length, `crash after ${budget} batches`).toBeGreaterThanOrEqual(acked)
    }
  })

  it('a compaction reaches the disk whole: the snapshot and the deletes of the entries it covers, or neither', async () => {
    const full = await runUntilCrash(await newDisk(), Infinity)
    const first = full.landed.findIndex(isCompaction)
    expect(first).toBeGreaterThan(0)
    for (const budget of [first, first + 1]) {
      const disk = await newDisk()
      await runUntilCrash(disk, budget)
      const keys: string[] = []
      for await (const key of disk.db.keys({})) keys.push(key)
      const logs = keys.filter(k => k.startsWith(`log!${DOC}!`))
      if (budget === first) {
        // just before: the whole log, no snapshot
        expect(keys).not.toContain(`snap!${DOC}`)
        expect(logs.length).toBeGreaterThan(0)
      } else {
        // just after: the snapshot, and none of the entries it covers
        expect(keys).toContain(`snap!${DOC}`)
        const deleted = full.landed[first]!.filter(op => op.type === 'del').map(op => op.key)
        expect(logs.filter(k => deleted.includes(k))).toEqual([])
      }
      const loaded = await restart(disk)
      expect(loaded).toEqual(Array.from({ length: loaded.length }, (_, i) => i))
    }
  })
})
