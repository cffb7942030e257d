import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { COMPACT_QUIET_MS, DocHost } from '../src/store/doc-host.js'
import { DocStore } from '../src/store/doc-store.js'
import type { KeyValueStore } from '../src/store/kv.js'
import { StoreCorruptError } from '../src/errors.js'

interface Adapter {
  name: string
  make(): Promise<{ open(): KeyValueStore; cleanup(): Promise<void> }>
}

// One conformance suite, run against every store adapter the engine supports.
const adapters: Adapter[] = [
  {
    name: 'memory-level',
    async make() {
      // memory-level loses everything on close, so "reopen" hands back the same instance
      const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
      let closed = false
      const reusable: KeyValueStore = {
        open: async () => {
          if (!closed) await db.open()
        },
        close: async () => {
          closed = true
        },
        get: k => db.get(k),
        batch: (ops, o) => db.batch(ops, o),
        keys: r => db.keys(r),
        iterator: r => db.iterator(r)
      }
      return {
        open: () => {
          closed = false
          return reusable
        },
        cleanup: async () => {
          await db.close()
        }
      }
    }
  },
  {
    name: 'level (classic-level on disk)',
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-store-'))
      return {
        open: () => new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' }),
        cleanup: () => rm(dir, { recursive: true, force: true })
      }
    }
  }
]

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

for (const adapter of adapters) {
  describe(`DocStore on ${adapter.name}`, () => {
    async function openHost(open: () => KeyValueStore, options = {}): Promise<{ store: DocStore; host: DocHost }> {
      const db = open()
      await db.open()
      const store = await DocStore.open(db, options)
      return { store, host: new DocHost(store) }
    }

    it('reads back every stored update after a reopen', async () => {
      const env = await adapter.make()
      cleanups.push(env.cleanup)
      const { store, host } = await openHost(env.open)
      const doc = await host.open('chat:one')
      const arr = doc.getArray<number>('a')
      for (let i = 0; i < 50; i++) arr.insert(arr.length, [i])
      await host.written('chat:one')
      await store.putMeta('x', new Uint8Array([1, 2, 3]))
      await store.close()

      const again = await openHost(env.open)
      const reread = await again.host.open('chat:one')
      expect(reread.getArray<number>('a').toArray()).toEqual(Array.from({ length: 50 }, (_, i) => i))
      expect(await again.store.listDocs()).toEqual(['chat:one'])
      expect([...(await again.store.getMeta('x'))!]).toEqual([1, 2, 3])
      await again.store.close()
    })

    it('compacts the log into a snapshot on the write path and loses nothing', async () => {
      const env = await adapter.make()
      cleanups.push(env.cleanup)
      const { store, host } = await openHost(env.open, { compactEntries: 10 })
      const doc = await host.open('chat:c')
      const arr = doc.getArray<number>('a')
      const writes: Array<Promise<void>> = []
      for (let i = 0; i < 95; i++) {
        arr.insert(arr.length, [i])
        writes.push(host.written('chat:c'))
      }
      await Promise.all(writes)
      const stored = await store.loadDoc('chat:c')
      expect(stored.snapshot).not.toBeNull()
      expect(stored.updates.length).toBeLessThan(10)
      await store.close()

      const again = await openHost(env.open, { compactEntries: 10 })
      expect((await again.host.open('chat:c')).getArray('a').length).toBe(95)
      await again.store.close()
    })

    it('reports a corrupt snapshot as StoreCorruptError', async () => {
      const env = await adapter.make()
      cleanups.push(env.cleanup)
      const db = env.open()
      await db.open()
      await db.batch([{ type: 'put', key: 'snap!chat:bad', value: new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x07]) }])
      const host = new DocHost(await DocStore.open(db))
      await expect(host.open('chat:bad')).rejects.toBeInstanceOf(StoreCorruptError)
      await db.close()
    })
  })
}

it('rejects doc ids that could break the key layout', () => {
  expect(() => {
    DocStore.assertDocId('chat:x!log')
  }).toThrow(/invalid doc id/)
  expect(() => {
    DocStore.assertDocId('')
  }).toThrow(/invalid doc id/)
  DocStore.assertDocId('account:abc')
})

it('a compaction snapshot equals the doc state', async () => {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  const store = await DocStore.open(db, { compactEntries: 3 })
  const host = new DocHost(store)
  const doc = await host.open('chat:s')
  for (let i = 0; i < 3; i++) doc.getMap('m').set(`k${i}`, i)
  await host.written('chat:s')
  const { snapshot } = await store.loadDoc('chat:s')
  const copy = new Y.Doc()
  Y.applyUpdate(copy, snapshot!)
  expect(copy.getMap('m').toJSON()).toEqual({ k0: 0, k1: 1, k2: 2 })
  await db.close()
})

it('compacts a big doc only once its log holds a fair share of the snapshot: constant cost per appended byte', async () => {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  const store = await DocStore.open(db, { compactEntries: 10, compactBytes: 1 << 20 })
  let compactions = 0
  const snapshot = (): Uint8Array => {
    compactions++
    return new Uint8Array(40_000)
  }
  const append = (bytes: number): Promise<void> => store.append('chat:big', new Uint8Array(bytes), snapshot)
  for (let i = 0; i < 10; i++) await append(10)
  expect(compactions).toBe(1) // a small doc: every 10 entries, as configured
  for (let i = 0; i < 50; i++) await append(10)
  expect(compactions).toBe(1) // 50 entries but 500 B: not worth re-encoding 40 kB
  for (let i = 0; i < 9; i++) await append(1_000)
  expect(compactions).toBe(1)
  await append(1_000) // 10,500 B ≥ a quarter of the snapshot
  expect(compactions).toBe(2)
  const { snapshot: stored, updates } = await store.loadDoc('chat:big')
  expect(stored?.byteLength).toBe(40_000)
  expect(updates).toEqual([])
  await db.close()
})

it('stores a first large update as the snapshot itself, without re-encoding the doc', async () => {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  const store = await DocStore.open(db, { compactEntries: 10, compactBytes: 1_000 })
  const big = new Uint8Array(5_000).fill(7)
  await store.append('chat:first', big, () => {
    throw new Error('must not re-encode')
  })
  const { snapshot, updates } = await store.loadDoc('chat:first')
  expect(Buffer.from(snapshot!).equals(big)).toBe(true)
  expect(updates).toEqual([])
  await db.close()
})

it('puts a due compaction off until the doc is quiet, and compacts on the write path once it is overdue', async () => {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  // a hand-driven clock: timers run only when the test says
  let now = 0
  const timers = new Map<number, { at: number; fn: () => void }>()
  let nextTimer = 1
  const clock = {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      timers.set(nextTimer, { at: now + ms, fn })
      return nextTimer++
    },
    clearTimeout: (h: unknown) => {
      timers.delete(h as number)
    }
  }
  const advance = (ms: number): void => {
    now += ms
    for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at))
      if (t.at <= now) {
        timers.delete(id)
        t.fn()
      }
  }
  const store = await DocStore.open(db, { compactEntries: 10, compactBytes: 1 << 20 })
  const host = new DocHost(store, clock)
  const doc = await host.open('chat:q')
  const map = doc.getMap<number>('m')
  const stored = async (): Promise<{ log: number; snapshot: boolean }> => {
    await host.written('chat:q')
    const s = await store.loadDoc('chat:q')
    return { log: s.updates.length, snapshot: s.snapshot !== null }
  }
  // a burst that makes the log due: nothing is re-encoded while updates keep coming
  for (let i = 0; i < 15; i++) {
    advance(100)
    map.set(`k${i}`, i)
  }
  expect(await stored()).toEqual({ log: 15, snapshot: false })
  advance(COMPACT_QUIET_MS - 1)
  expect(await stored()).toEqual({ log: 15, snapshot: false }) // the last update was < 1 s ago
  advance(1)
  expect(await stored()).toEqual({ log: 0, snapshot: true })
  // a burst that never pauses: compacted on the write path once the log is four times due
  for (let i = 0; i < 40; i++) map.set(`b${i}`, i)
  expect((await stored()).log).toBeLessThan(40)
  const copy = new Y.Doc()
  const back = await store.loadDoc('chat:q')
  Y.applyUpdate(copy, back.snapshot!)
  for (const u of back.updates) Y.applyUpdate(copy, u)
  expect(copy.getMap('m').size).toBe(55)
  host.destroy()
  await db.close()
})
