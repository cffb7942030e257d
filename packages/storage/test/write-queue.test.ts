import { describe, expect, it } from 'vitest'
import { WriteQueue, type BatchOp, type KeyRange, type KeyValueStore } from '../src/index.js'

/**
 * A store whose batches wait to be let through one at a time: a test holds a batch "in
 * flight" for as long as it likes, then lands it (its ops become visible) or fails it.
 */
class GatedStore implements KeyValueStore {
  readonly disk = new Map<string, Uint8Array>()
  readonly batches: Array<{ ops: BatchOp[]; sync: boolean | undefined; land: () => void; fail: (err: Error) => void }> = []
  private waiting: Array<{ n: number; resolve: () => void }> = []

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.disk.get(key)
  }
  async *keys(_range: KeyRange): AsyncIterable<string> {
    yield* this.disk.keys()
  }
  async *iterator(_range: KeyRange): AsyncIterable<[string, Uint8Array]> {
    yield* this.disk.entries()
  }

  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batches.push({
        ops,
        sync: options?.sync,
        land: () => {
          for (const op of ops) op.type === 'put' ? this.disk.set(op.key, op.value) : this.disk.delete(op.key)
          resolve()
        },
        fail: reject
      })
      for (const w of this.waiting) if (this.batches.length >= w.n) w.resolve()
    })
  }

  /** Resolves once the queue has started its `n`th batch. */
  started(n: number): Promise<void> {
    return this.batches.length >= n
      ? Promise.resolve()
      : new Promise(resolve => {
          this.waiting.push({ n, resolve })
        })
  }
}

const put = (key: string): BatchOp => ({ type: 'put', key, value: new TextEncoder().encode(key) })
const keysOf = (ops: BatchOp[]): string[] => ops.map(op => op.key)

/** Whether each promise has settled yet, read after the test has waited on something later. */
function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' }
  p.then(
    () => {
      t.state = 'resolved'
    },
    err => {
      t.state = 'rejected'
      t.error = err
    }
  )
  return t
}

describe('WriteQueue', () => {
  it("writes enqueued in the same turn go to disk in one batch, in order, with the queue's sync flag", async () => {
    const db = new GatedStore()
    const q = new WriteQueue(db, true)
    const writes = [q.enqueue([put('a'), put('b')]), q.enqueue([put('c')]), q.enqueue([{ type: 'del', key: 'a' }])]
    await db.started(1)
    db.batches[0]!.land()
    await Promise.all(writes)
    expect(db.batches.map(b => keysOf(b.ops))).toEqual([['a', 'b', 'c', 'a']])
    expect(db.batches[0]!.sync).toBe(true)
    expect([...db.disk.keys()]).toEqual(['b', 'c'])
  })

  it('writes enqueued while a batch is in flight go together in the next batch', async () => {
    const db = new GatedStore()
    const q = new WriteQueue(db, false)
    const first = q.enqueue([put('a')])
    await db.started(1)
    // three separate turns, all while batch 1 is on its way to disk
    const second = q.enqueue([put('b')])
    await Promise.resolve()
    const third = q.enqueue([put('c')])
    await new Promise<void>(resolve => {
      setImmediate(resolve)
    })
    const fourth = q.enqueue([put('d')])
    db.batches[0]!.land()
    await db.started(2)
    db.batches[1]!.land()
    await Promise.all([first, second, third, fourth])
    expect(db.batches.map(b => keysOf(b.ops))).toEqual([['a'], ['b', 'c', 'd']])
    expect(db.batches.map(b => b.sync)).toEqual([false, false])
  })

  it('each caller resolves only after its own ops are on disk', async () => {
    const db = new GatedStore()
    const q = new WriteQueue(db, true)
    const seen: Record<string, boolean> = {}
    const first = q.enqueue([put('a')]).then(() => {
      seen.a = db.disk.has('a')
    })
    await db.started(1)
    const second = q.enqueue([put('b')]).then(() => {
      seen.b = db.disk.has('b')
    })
    const a = track(first)
    const b = track(second)
    await Promise.resolve()
    expect([a.state, b.state]).toEqual(['pending', 'pending'])
    db.batches[0]!.land()
    await db.started(2) // the queue resolves batch 1's callers before it starts batch 2
    await first
    expect(b.state).toBe('pending')
    db.batches[1]!.land()
    await second
    expect(seen).toEqual({ a: true, b: true })
  })

  it('a failed batch rejects exactly its own callers, writes none of their ops, and the queue keeps working', async () => {
    const db = new GatedStore()
    const q = new WriteQueue(db, true)
    const a = track(q.enqueue([put('a')]))
    await db.started(1)
    const b = q.enqueue([put('b')])
    const c = q.enqueue([put('c')])
    const bt = track(b)
    const ct = track(c)
    db.batches[0]!.land()
    await db.started(2)
    const boom = new Error('disk full')
    db.batches[1]!.fail(boom)
    await expect(b).rejects.toBe(boom)
    await expect(c).rejects.toBe(boom)
    const d = q.enqueue([put('d')])
    await db.started(3)
    db.batches[2]!.land()
    await d
    expect([a.state, bt.state, ct.state]).toEqual(['resolved', 'rejected', 'rejected'])
    expect(db.batches.map(x => keysOf(x.ops))).toEqual([['a'], ['b', 'c'], ['d']])
    expect([...db.disk.keys()]).toEqual(['a', 'd'])
  })

  it('drain resolves once everything enqueued before it is on disk, after a failed batch too, and at once when idle', async () => {
    const db = new GatedStore()
    const q = new WriteQueue(db, true)
    await q.drain() // idle: nothing to wait for
    void q.enqueue([put('a')])
    await db.started(1)
    q.enqueue([put('b')]).catch(() => {})
    const drained = q.drain()
    const dt = track(drained)
    db.batches[0]!.land()
    await db.started(2)
    expect(dt.state).toBe('pending')
    db.batches[1]!.fail(new Error('io error'))
    await drained // a drain waits for writes to settle; it is not their error to report
    expect([...db.disk.keys()]).toEqual(['a'])
  })

  it('a caller with no ops resolves too', async () => {
    const db = new GatedStore()
    const q = new WriteQueue(db, true)
    let done = false
    const empty = q.enqueue([]).then(() => {
      done = true
    })
    // bounded: a queue that never settles this caller fails here rather than hanging
    await Promise.race([
      empty,
      new Promise(resolve => {
        setTimeout(resolve, 1_000)
      })
    ])
    expect(done).toBe(true)
    expect(db.batches).toEqual([]) // and costs no batch
  })
})
