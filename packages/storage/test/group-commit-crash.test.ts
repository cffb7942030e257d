import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { WriteQueue, type BatchOp } from '../src/index.js'
import { CrashableStore, CrashedError, Disk, HeldBatches } from '../src/testing/index.js'

const newDisk = (): Disk => new Disk(new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }))
/** A turn of the event loop: the queue resolves a landed batch's callers and starts its next batch. */
const turn = (): Promise<void> =>
  new Promise(resolve => {
    setImmediate(resolve)
  })

interface Write {
  keys: string[]
  acked: boolean
}

/**
 * Six rounds of three writers each (two keys per write), a batch let through after each
 * round until `budget` batches have reached the disk; then the process crashes.
 */
async function runUntilCrash(disk: Disk, budget: number): Promise<{ writes: Write[]; landed: number }> {
  const held = new HeldBatches()
  const store = new CrashableStore(disk, held.landing)
  await store.open()
  const queue = new WriteQueue(store, true)
  const writes: Write[] = []
  for (let round = 0; round < 6; round++) {
    for (let w = 0; w < 3; w++) {
      const id = `w${round}.${w}`
      const write: Write = { keys: [`${id}!a`, `${id}!b`], acked: false }
      writes.push(write)
      queue.enqueue(write.keys.map((key): BatchOp => ({ type: 'put', key, value: new TextEncoder().encode(key) }))).then(
        () => {
          write.acked = true
        },
        () => {}
      )
    }
    await turn()
    if (held.landed.length < budget) held.landNext()
    await turn()
  }
  const landed = held.landed.length
  store.crash()
  held.landNext() // a batch the dead process had in flight: it must not reach the disk now
  expect(() => store.batch([])).toThrow(CrashedError)
  return { writes, landed }
}

describe('group commit under a crash', () => {
  it('at every batch boundary, every acknowledged write survives a restart and every write is all there or not at all', async () => {
    const full = await runUntilCrash(newDisk(), Infinity)
    expect(full.landed).toBeGreaterThanOrEqual(4) // the workload does group into several batches
    for (let budget = 0; budget <= full.landed; budget++) {
      const disk = newDisk()
      const { writes } = await runUntilCrash(disk, budget)
      // the next process on the same disk
      const again = new CrashableStore(disk)
      await again.open()
      const onDisk = new Set<string>()
      for await (const key of again.keys({})) onDisk.add(key)
      for (const w of writes) {
        const present = w.keys.filter(k => onDisk.has(k))
        if (w.acked) expect(present, `acknowledged ${w.keys[0]} after crash point ${budget}`).toEqual(w.keys)
        else expect(present.length === 0 || present.length === w.keys.length, `${w.keys[0]} half written at crash point ${budget}`).toBe(true)
      }
      // nothing of a batch the crash dropped, nothing acknowledged beyond what landed
      expect(writes.filter(w => w.acked).length, `crash point ${budget}`).toBe(writes.filter(w => w.keys.every(k => onDisk.has(k))).length)
      if (budget === 0) expect(onDisk.size).toBe(0)
    }
  })
})
