import { checkedRecord } from '@tandem/storage'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { createEngine } from '../src/node/index.js'
import { DocStore } from '../src/store/doc-store.js'
import { FORMAT } from '../src/store/store-keys.js'

// What the device store's own check finds (store-check.ts, DocStore reads), record by record.
// Every case writes a well-formed store through DocStore, damages it underneath, and opens it again.

type Db = MemoryLevel<string, Uint8Array>
const newDb = async (): Promise<Db> => {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  return db
}
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b)
/** A loaded doc as plain arrays (memory-level hands back Buffers). */
const plain = (d: { snapshot: Uint8Array | null; updates: Uint8Array[] }) => ({ snapshot: d.snapshot && [...d.snapshot], updates: d.updates.map(u => [...u]) })
const logKeys = async (db: Db): Promise<string[]> => {
  const out: string[] = []
  for await (const k of db.keys({ gt: 'log!', lt: 'log~' })) out.push(k)
  return out
}
const DOC = 'chat:d'

/** A store holding DOC with a snapshot and log entries 1..3, plus one metadata record. */
async function written(db: Db): Promise<void> {
  const store = await DocStore.open(db, { compactEntries: 2 })
  await store.loadDoc(DOC)
  await store.append(DOC, bytes(1), () => bytes(1))
  await store.append(DOC, bytes(2), () => bytes(9, 9)) // folds: snapshot [9, 9], log empty
  await store.append(DOC, bytes(3), () => bytes(0))
  await store.putMeta('relay/r/doc/chat:d', bytes(7))
  await store.flush()
}

async function flip(db: Db, key: string): Promise<void> {
  const v = (await db.get(key))!.slice()
  v[v.length - 1]! ^= 1
  await db.put(key, v)
}

describe('the device store check', () => {
  it('a store that verifies opens with no damage and reads back what was written', async () => {
    const db = await newDb()
    await written(db)
    const store = await DocStore.open(db)
    expect(plain(await store.loadDoc(DOC))).toEqual({ snapshot: [9, 9], updates: [[3]] })
    expect([...(await store.getMeta('relay/r/doc/chat:d'))!]).toEqual([7])
    expect(store.damage.records).toEqual([])
  })

  it('a flipped bit in a log entry is noted with its key and the entry is neither returned nor kept', async () => {
    const db = await newDb()
    await written(db)
    const [key] = await logKeys(db)
    await flip(db, key!)
    const store = await DocStore.open(db)
    expect(plain(await store.loadDoc(DOC))).toEqual({ snapshot: [9, 9], updates: [] })
    expect(store.damage.records).toEqual([{ docId: DOC, key, problem: expect.stringMatching(/checksum/) }])
    expect(await db.get(key!)).toBeUndefined()
  })

  it('a damaged snapshot is noted and not returned; the log after it still is', async () => {
    const db = await newDb()
    await written(db)
    await flip(db, `snap!${DOC}`)
    const store = await DocStore.open(db)
    expect(plain(await store.loadDoc(DOC))).toEqual({ snapshot: null, updates: [[3]] })
    expect(store.damage.records.map(r => r.key)).toEqual([`snap!${DOC}`])
  })

  it('a value moved under another key does not verify there', async () => {
    const db = await newDb()
    await written(db)
    await db.put(`snap!${DOC}`, (await db.get('meta!relay/r/doc/chat:d'))!)
    const store = await DocStore.open(db)
    expect((await store.loadDoc(DOC)).snapshot).toBeNull()
    expect(store.damage.records.map(r => r.key)).toEqual([`snap!${DOC}`])
  })

  it('a log entry missing between two others is noted as missing', async () => {
    const db = await newDb()
    const store = await DocStore.open(db)
    await store.loadDoc(DOC)
    for (const u of [1, 2, 3]) await store.append(DOC, bytes(u), () => bytes())
    const keys = await logKeys(db)
    await db.del(keys[1]!)
    const again = await DocStore.open(db)
    expect(plain(await again.loadDoc(DOC)).updates).toEqual([[1], [3]])
    expect(again.damage.records).toEqual([{ docId: DOC, key: keys[1], problem: 'log entries 1…1 are missing' }])
  })

  it('a garbled key is noted and removed; a doc whose marker was lost is listed again; a marker alone is removed', async () => {
    const db = await newDb()
    await written(db)
    await db.put('log!chat:d!00000000000z', checkedRecord('log!chat:d!00000000000z', bytes(1)))
    await db.put('\u0001garbage', bytes(1, 2, 3))
    await db.del(`doc!${DOC}`)
    await db.put('doc!chat:phantom', checkedRecord('doc!chat:phantom', bytes()))
    const store = await DocStore.open(db)
    expect(store.damage.records.map(r => [r.docId, r.key])).toEqual([
      [null, '\u0001garbage'],
      [DOC, 'log!chat:d!00000000000z'],
      [DOC, `doc!${DOC}`],
      ['chat:phantom', 'doc!chat:phantom']
    ])
    expect(await store.listDocs()).toEqual([DOC])
    expect(await db.get('\u0001garbage')).toBeUndefined()
  })

  it('damaged metadata is noted at open and removed, except the keys the device cannot rebuild', async () => {
    const db = await newDb()
    await written(db)
    await db.put('meta!peer-key', checkedRecord('meta!peer-key', bytes(1, 2)))
    await flip(db, 'meta!relay/r/doc/chat:d')
    await flip(db, 'meta!peer-key')
    const store = await DocStore.open(db)
    expect(store.damage.records.map(r => r.key)).toEqual(['meta!peer-key', 'meta!relay/r/doc/chat:d'])
    expect(await store.getMeta('relay/r/doc/chat:d')).toBeUndefined()
    await expect(store.getMeta('peer-key')).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' })
  })

  it('a store from before checksums (format 1) is converted in place and reads back the same', async () => {
    const db = await newDb()
    await db.batch([
      { type: 'put', key: `doc!${DOC}`, value: bytes() },
      { type: 'put', key: `snap!${DOC}`, value: bytes(9, 9) },
      { type: 'put', key: `log!${DOC}!000000000004`, value: bytes(3) },
      { type: 'put', key: 'meta!x', value: bytes(7) }
    ])
    const store = await DocStore.open(db)
    expect(store.damage.records).toEqual([])
    expect(plain(await store.loadDoc(DOC))).toEqual({ snapshot: [9, 9], updates: [[3]] })
    expect([...(await store.getMeta('x'))!]).toEqual([7])
    const again = await DocStore.open(db)
    expect(plain(await again.loadDoc(DOC))).toEqual({ snapshot: [9, 9], updates: [[3]] })
    expect(again.damage.records).toEqual([])
  })

  it('a store whose format record was lost is not converted a second time', async () => {
    const db = await newDb()
    await written(db)
    await db.del('format')
    const store = await DocStore.open(db)
    expect(store.damage.records.map(r => r.problem)).toEqual(['the format record is missing'])
    expect(plain(await store.loadDoc(DOC))).toEqual({ snapshot: [9, 9], updates: [[3]] })
  })

  it('a store of a format this version cannot read is refused, untouched', async () => {
    const db = await newDb()
    await written(db)
    await db.put('format', checkedRecord('format', new TextEncoder().encode('tandem-device-store/3')))
    await expect(DocStore.open(db)).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', message: expect.stringContaining(FORMAT) })
  })
})

describe('a device whose identity is damaged', () => {
  const device = async (db: Db) => {
    const engine = await createEngine({ store: db, network: false, deviceName: 'd' })
    await engine.createAccount({ name: 'Ann', recovery: false })
    await engine.createChat({ title: 't' })
    await engine.stop()
  }

  it('does not start, and never becomes a new device: a damaged or missing key, account or chain is ERR_STORE_CORRUPT', async () => {
    for (const damage of [
      (db: Db) => flip(db, 'meta!peer-key'),
      (db: Db) => db.del('meta!peer-key'),
      (db: Db) => flip(db, 'meta!agreement-key'),
      (db: Db) => db.del('meta!agreement-key'),
      (db: Db) => flip(db, 'meta!account'),
      (db: Db) => flip(db, 'meta!chain'),
      (db: Db) => db.del('meta!chain'),
      (db: Db) =>
        db.batch([
          { type: 'del', key: 'meta!account' },
          { type: 'del', key: 'meta!chain' }
        ])
    ]) {
      const db = await newDb()
      await device(db)
      await db.open()
      await damage(db)
      await db.close()
      await expect(createEngine({ store: db, network: false })).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' })
      expect(db.status).toBe('closed') // released, so another attempt (or a repair) can open it
    }
  })
})
