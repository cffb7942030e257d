// Runs the KeyValueStore contract on browser-level (IndexedDB) in this page; the test reads
// `window.kvResults`. Each case gets a database of its own.
import { runKvContract } from '@tandem/storage/testing'
import { BrowserLevel } from 'browser-level'

type Db = BrowserLevel<string, Uint8Array>
const options = { prefix: '', keyEncoding: 'utf8', valueEncoding: 'view' } as const
let n = 0

const results = await runKvContract(
  async () => {
    const db: Db = new BrowserLevel(`kv-contract-${n++}`, options)
    await db.open()
    return db
  },
  // a restart: a new handle on the same IndexedDB database
  async store => {
    await store.close()
    const again: Db = new BrowserLevel((store as Db).location, options)
    await again.open()
    return again
  }
)
const w = window as unknown as { kvResults: Array<{ name: string; ok: boolean; error?: string }> }
w.kvResults = results.map(r => ({ name: r.name, ok: r.ok, error: r.ok ? undefined : String((r.error as Error)?.stack ?? r.error) }))
