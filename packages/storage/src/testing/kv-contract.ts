// The KeyValueStore contract as cases any runner can call: vitest on Node (memory-level,
// classic-level), a page in Chromium (browser-level). No test framework and no Node APIs
// here; a case throws an Error saying what differed.
import type { BatchOp, KeyRange, KeyValueStore } from '../kv.js'
import { patternBytes } from './pattern.js'

/** A new, empty, opened store. */
export type OpenStore = () => Promise<KeyValueStore>
/** Closes `store` and opens a new handle on the same data (a restart, for a persistent store). */
export type ReopenStore = (store: KeyValueStore) => Promise<KeyValueStore>

export interface KvContractCase {
  name: string
  run(open: OpenStore, reopen?: ReopenStore): Promise<void>
}

export interface KvContractResult {
  name: string
  ok: boolean
  error?: unknown
}

/** Runs every case in turn; never throws: each result says whether its case passed. */
export async function runKvContract(open: OpenStore, reopen?: ReopenStore): Promise<KvContractResult[]> {
  const results: KvContractResult[] = []
  for (const c of kvContractCases) {
    try {
      await c.run(open, reopen)
      results.push({ name: c.name, ok: true })
    } catch (error) {
      results.push({ name: c.name, ok: false, error })
    }
  }
  return results
}

export const KV_CASE_NOT_ALIASED = 'values are copied in and out: mutating a buffer after writing it, or one read back, changes nothing stored'

export const kvContractCases: readonly KvContractCase[] = [
  {
    name: 'a missing key reads as undefined, also after it was deleted',
    run: open =>
      withStore(open, async db => {
        check((await db.get('doc!never')) === undefined, 'a key never written read as a value')
        await db.batch([put('doc!a', [1])])
        await db.batch([{ type: 'del', key: 'doc!a' }])
        check((await db.get('doc!a')) === undefined, 'a deleted key read as a value')
        await db.batch([{ type: 'del', key: 'doc!never' }]) // deleting a missing key is no error
      })
  },
  {
    name: 'get returns exactly the bytes written: empty, every byte value, and 1 MiB',
    run: open =>
      withStore(open, async db => {
        const every = Uint8Array.from({ length: 256 }, (_, i) => i)
        const big = patternBytes(1024 * 1024)
        // a view into a larger buffer: only the view's bytes are the value
        const view = new Uint8Array([9, 9, 1, 2, 3, 9]).subarray(2, 5)
        await db.batch([
          { type: 'put', key: 'k!empty', value: new Uint8Array(0) },
          { type: 'put', key: 'k!every', value: every },
          { type: 'put', key: 'k!big', value: big },
          { type: 'put', key: 'k!view', value: view }
        ])
        sameBytes(await db.get('k!empty'), new Uint8Array(0), 'the empty value')
        sameBytes(await db.get('k!every'), every, 'the value holding every byte')
        sameBytes(await db.get('k!big'), big, 'the 1 MiB value')
        sameBytes(await db.get('k!view'), new Uint8Array([1, 2, 3]), 'the value written from a subarray')
      })
  },
  {
    name: KV_CASE_NOT_ALIASED,
    run: open =>
      withStore(open, async db => {
        const written = new Uint8Array([1, 2, 3])
        await db.batch([{ type: 'put', key: 'k', value: written }])
        written[0] = 99
        sameBytes(await db.get('k'), [1, 2, 3], 'the value after the writer reused its buffer')
        const read = await db.get('k')
        read![1] = 99
        sameBytes(await db.get('k'), [1, 2, 3], 'the value after a reader changed what get() gave it')
        for await (const [, value] of db.iterator({})) value[2] = 99
        sameBytes(await db.get('k'), [1, 2, 3], 'the value after a reader changed what iterator() gave it')
      })
  },
  {
    name: 'a batch applies its ops in order: put then del deletes, del then put keeps, the last put wins',
    run: open =>
      withStore(open, async db => {
        await db.batch([put('a', [1]), { type: 'del', key: 'a' }, { type: 'del', key: 'b' }, put('b', [2]), put('c', [3]), put('c', [4])])
        check((await db.get('a')) === undefined, 'put then del of one key left it stored')
        sameBytes(await db.get('b'), [2], 'del then put of one key')
        sameBytes(await db.get('c'), [4], 'two puts of one key')
      })
  },
  {
    name: 'a batch is all or nothing: one invalid op and none of its ops is applied',
    run: open =>
      withStore(open, async db => {
        await db.batch([put('keep', [1])])
        const bad = { type: 'put', key: 'bad', value: undefined } as unknown as BatchOp
        let threw = false
        try {
          await db.batch([put('first', [1]), { type: 'del', key: 'keep' }, bad, put('last', [1])])
        } catch {
          threw = true
        }
        check(threw, 'a batch with a put of undefined was accepted')
        same(await collect(db.keys({})), ['keep'], 'keys after the refused batch')
      })
  },
  {
    name: 'a batch with sync: true, sync: false or no options is stored',
    run: open =>
      withStore(open, async db => {
        await db.batch([put('s!true', [1])], { sync: true })
        await db.batch([put('s!false', [2])], { sync: false })
        await db.batch([put('s!none', [3])])
        same(await collect(db.keys({ gt: 's!', lt: 's"' })), ['s!false', 's!none', 's!true'], 'keys written with each sync option')
      })
  },
  {
    name: 'keys() and iterator() agree and come in key order, across thousands of keys',
    run: open =>
      withStore(open, async db => {
        // written out of order and in several batches, more keys than one iterator read-ahead
        const seqs = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 3000)
        for (let at = 0; at < seqs.length; at += 500) {
          await db.batch(seqs.slice(at, at + 500).map(seq => put(logKey('chat:a', seq), [seq & 0xff, seq >> 8])))
        }
        const keys = await collect(db.keys({}))
        const entries = await collect(db.iterator({}))
        same(
          keys,
          Array.from({ length: 3000 }, (_, seq) => logKey('chat:a', seq)),
          'keys()'
        )
        same(
          entries.map(([k]) => k),
          keys,
          'iterator() keys'
        )
        entries.forEach(([, v], seq) => {
          sameBytes(v, [seq & 0xff, seq >> 8], `the value of log entry ${seq}`)
        })
      })
  },
  {
    name: 'range bounds: gt and lt exclude the bound, gte and lte include it, and bounds need not be keys',
    run: open =>
      withStore(open, async db => {
        await db.batch(['b', 'c', 'd', 'e'].map(k => put(k, [1])))
        const cases: Array<[KeyRange, string[]]> = [
          [{ gt: 'b', lt: 'e' }, ['c', 'd']],
          [{ gte: 'b', lte: 'e' }, ['b', 'c', 'd', 'e']],
          [{ gt: 'b', lte: 'd' }, ['c', 'd']],
          [{ gte: 'c' }, ['c', 'd', 'e']],
          [{ lt: 'c' }, ['b']],
          [{ gt: 'a', lt: 'cc' }, ['b', 'c']],
          [{ gte: 'bb', lte: 'dd' }, ['c', 'd']],
          [{ gt: 'e' }, []],
          [{ gt: 'c', lt: 'c' }, []],
          [{ gte: 'd', lte: 'b' }, []]
        ]
        for (const [range, want] of cases) {
          same(await collect(db.keys(range)), want, `keys(${JSON.stringify(range)})`)
          same(
            (await collect(db.iterator(range))).map(([k]) => k),
            want,
            `iterator(${JSON.stringify(range)})`
          )
        }
      })
  },
  {
    name: "the engine's prefix ranges hold exactly their own keys, not those of an id that shares the prefix",
    run: open =>
      withStore(open, async db => {
        // DocStore's layout; doc ids that extend 'chat:a' with each character a doc id may hold
        const ids = ['account', 'chat:a', 'chat:a-b', 'chat:a.b', 'chat:a0', 'chat:a:b', 'chat:a_b', 'chat:ab']
        const keys = ids.flatMap(id => [`doc!${id}`, `snap!${id}`, logKey(id, 0), logKey(id, 255)])
        await db.batch([...keys, 'meta!clock', 'meta!relay!r1', 'meta!relay!r2', 'meta!relayx'].map(k => put(k, [1])))
        // listDocs: gt 'doc!', lt 'doc"' ('"' follows '!')
        same(
          await collect(db.keys({ gt: 'doc!', lt: 'doc"' })),
          ids.map(id => `doc!${id}`),
          "listDocs' range"
        )
        // loadDoc: gt prefix, lt prefix + '~' (hex digits sort below '~')
        same(await collect(db.keys({ gt: 'log!chat:a!', lt: 'log!chat:a!~' })), [logKey('chat:a', 0), logKey('chat:a', 255)], "loadDoc('chat:a')'s range")
        // metaEntries: gte prefix, lt prefix + '\uffff'
        same(await collect(db.keys({ gte: 'meta!relay!', lt: 'meta!relay!\uffff' })), ['meta!relay!r1', 'meta!relay!r2'], "metaEntries('relay!')'s range")
      })
  },
  {
    name: "the relay's prefix ranges hold exactly the keys it expects, a doc id with '!' included",
    run: open =>
      withStore(open, async db => {
        // the relay's keys.ts layout: its doc ids may hold '!', so 'chat:a!x' sorts inside
        // 'chat:a''s log range and the relay tells them apart by key length (isLogKeyOf)
        const ids = ['chat:a', 'chat:a!x', 'chat:ab']
        const keys = ids.flatMap(id => [`doc!${id}`, relayLogKey(id, 1), relayLogKey(id, 2), `hash!${id}!00ff`])
        const parts = ['u', 'u2'].flatMap(u => [0, 1].map(n => `part!${u}!${n.toString(16).padStart(8, '0')}`))
        await db.batch([...keys, ...parts, 'pending!u', 'pending!u2', 'acct!a1', 'rec!list!a1'].map(k => put(k, [1])))
        same(
          await collect(db.keys({ gt: 'log!chat:a!', lt: 'log!chat:a!~' })),
          [relayLogKey('chat:a', 1), relayLogKey('chat:a', 2), relayLogKey('chat:a!x', 1), relayLogKey('chat:a!x', 2)],
          'the log range of chat:a'
        )
        same(
          await collect(db.keys({ gt: relayLogKey('chat:a', 1), lt: 'log!chat:a!~' })),
          [relayLogKey('chat:a', 2), relayLogKey('chat:a!x', 1), relayLogKey('chat:a!x', 2)],
          'the log of chat:a after entry 1'
        )
        same(await collect(db.keys({ gt: 'log!chat:a!', lte: relayLogKey('chat:a', 1) })), [relayLogKey('chat:a', 1)], 'the log of chat:a up to entry 1')
        same(await collect(db.keys({ gte: 'part!u!00000000', lt: 'part!u"' })), ['part!u!00000000', 'part!u!00000001'], 'the parts of upload u')
        same(await collect(db.keys({ gt: 'pending!', lt: 'pending"' })), ['pending!u', 'pending!u2'], 'pending uploads')
        same(
          await collect(db.keys({ gt: 'doc!', lt: 'doc"' })),
          ids.map(id => `doc!${id}`),
          'doc records'
        )
      })
  },
  {
    name: 'keys sort by their UTF-8 bytes (code point order), and \\uffff bounds every text key',
    run: open =>
      withStore(open, async db => {
        const keys = ['m!~', 'm!A', 'm!Z', 'm!a', 'm!z', 'm!\u00e9', 'm!\u00ff', 'm!\u0100', 'm!\u4e2d', 'm!\ufb01', 'm!\ufffd']
        await db.batch(keys.map(k => put(k, [1])))
        const want = [...keys].sort() // for text within the BMP, UTF-16 and code point order agree
        same(await collect(db.keys({ gte: 'm!', lt: 'm!\uffff' })), want, 'keys in order')
        same(await collect(db.keys({ gt: 'm!z', lt: 'm!\u4e2d' })), ['m!~', 'm!\u00e9', 'm!\u00ff', 'm!\u0100'], 'keys between z and \u4e2d')
      })
  },
  {
    name: 'reopening the store keeps every key and value, and it takes writes again',
    run: async (open, reopen) => {
      if (reopen === undefined) throw new Error('this case needs reopen(): pass one that closes the store and opens its data again')
      let db = await open()
      try {
        const entries = Array.from({ length: 200 }, (_, i) => put(logKey('chat:r', i), patternBytes(1 + i * 13, i)))
        await db.batch(entries.slice(0, 100), { sync: true })
        await db.batch([...entries.slice(100), put('meta!x', [7]), put('doc!gone', [1])], { sync: true })
        await db.batch([{ type: 'del', key: 'doc!gone' }], { sync: true })
        db = await reopen(db)
        const read = await collect(db.iterator({ gt: 'log!chat:r!', lt: 'log!chat:r!~' }))
        same(
          read.map(([k]) => k),
          entries.map(e => e.key),
          'log keys after reopen'
        )
        read.forEach(([, v], i) => {
          sameBytes(v, (entries[i] as { value: Uint8Array }).value, `log entry ${i} after reopen`)
        })
        sameBytes(await db.get('meta!x'), [7], 'meta!x after reopen')
        check((await db.get('doc!gone')) === undefined, 'a deleted key came back after reopen')
        await db.batch([put('meta!y', [8])])
        sameBytes(await db.get('meta!y'), [8], 'a write after reopen')
      } finally {
        await db.close()
      }
    }
  }
]

async function withStore(open: OpenStore, body: (db: KeyValueStore) => Promise<void>): Promise<void> {
  const db = await open()
  try {
    await body(db)
  } finally {
    await db.close()
  }
}

/** DocStore's log key: 12 hex digits. */
const logKey = (docId: string, seq: number): string => `log!${docId}!${seq.toString(16).padStart(12, '0')}`
/** The relay's log key: 14 hex digits. */
const relayLogKey = (docId: string, seq: number): string => `log!${docId}!${seq.toString(16).padStart(14, '0')}`

function put(key: string, value: number[] | Uint8Array): BatchOp {
  return { type: 'put', key, value: value instanceof Uint8Array ? value : Uint8Array.from(value) }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message)
}

function same(actual: unknown[], expected: unknown[], what: string): void {
  const at = actual.length === expected.length ? actual.findIndex((a, i) => a !== expected[i]) : Math.min(actual.length, expected.length)
  if (at >= 0) {
    throw new Error(
      `${what}: ${actual.length} items, ${expected.length} expected; first difference at ${at}: ${JSON.stringify(actual[at])} where ${JSON.stringify(expected[at])} was expected`
    )
  }
}

function sameBytes(actual: Uint8Array | undefined, expected: ArrayLike<number>, what: string): void {
  if (!(actual instanceof Uint8Array)) throw new Error(`${what}: got ${actual === undefined ? 'undefined' : typeof actual}, not a Uint8Array`)
  if (actual.byteLength !== expected.length) throw new Error(`${what}: ${actual.byteLength} bytes, ${expected.length} expected`)
  for (let i = 0; i < actual.byteLength; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: byte ${i} is ${actual[i]}, ${expected[i]} expected`)
  }
}
