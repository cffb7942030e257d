import { checkedRecord, readCheckedRecord } from '@tandem/storage'
import { StoreUnavailableError } from '../errors.js'
import type { BatchOp, KeyValueStore } from './kv.js'
import type { StoreDamage } from './store-damage.js'
import { docKey, FORMAT, FORMAT_KEY, parseKey, REPAIR_MARK, DOC_ID } from './store-keys.js'

/** Metadata a device cannot rebuild: damaged, it stays where it is and opening fails (identity-store.ts). */
const IRREPLACEABLE = new Set(['meta!peer-key', 'meta!agreement-key', 'meta!account', 'meta!chain'])

/**
 * The check a device store gets when it opens: its format (a store from before checksums
 * is converted in one atomic batch), then every key once — a key this layout never writes
 * (a garbled one), a doc's records without its marker, a marker without records — and
 * every metadata value (the relay cursors and outbox: a garbled one must not vanish
 * unnoticed). Logs and snapshots are verified as docs are read (DocStore.loadDoc).
 * Whatever is found is noted in `damage` and, when it is garbage, deleted.
 */
export async function checkStore(db: KeyValueStore, damage: StoreDamage): Promise<{ fresh: boolean }> {
  // what the store's own recovery lost names no doc: every doc is fetched whole again
  for (const note of db.recoveryNotes?.() ?? []) damage.note({ docId: null, key: '', problem: note })
  const stored = await db.get(FORMAT_KEY)
  if (stored === undefined) {
    const fresh = await upgrade(db, damage)
    if (fresh) return { fresh }
  } else {
    const format = readCheckedRecord(FORMAT_KEY, stored)
    if (format === null) {
      damage.note({ docId: null, key: FORMAT_KEY, problem: 'checksum mismatch: the format record is damaged' })
      await db.batch([formatRecord()])
    } else if (new TextDecoder().decode(format) !== FORMAT) {
      throw new StoreUnavailableError(
        `the device store has format ${JSON.stringify(new TextDecoder().decode(format))}, which this version of Tandem cannot read (it reads ${FORMAT})`
      )
    }
  }
  await scanKeys(db, damage)
  return { fresh: false }
}

/** A store without a format record: empty (a new device), from before checksums, or one whose format record was lost. */
async function upgrade(db: KeyValueStore, damage: StoreDamage): Promise<boolean> {
  const records: Array<[string, Uint8Array]> = []
  let checked = 0
  for await (const [key, value] of db.iterator({})) {
    records.push([key, value])
    if (readCheckedRecord(key, value) !== null) checked++
  }
  if (records.length === 0) {
    await db.batch([formatRecord()], { sync: true })
    return true
  }
  if (checked > 0) {
    // records that verify cannot be format 1 (one in 2^32 might, not a whole store): the format record itself was lost
    damage.note({ docId: null, key: FORMAT_KEY, problem: 'the format record is missing' })
    await db.batch([formatRecord()], { sync: true })
    return false
  }
  // format 1: the same layout without checksums, converted at once (a crash leaves format 1 whole)
  const ops: BatchOp[] = records.map(([key, value]) => ({ type: 'put', key, value: checkedRecord(key, value) }))
  ops.push(formatRecord())
  await db.batch(ops, { sync: true })
  return false
}

async function scanKeys(db: KeyValueStore, damage: StoreDamage): Promise<void> {
  const ops: BatchOp[] = []
  const marked = new Set<string>()
  const withRecords = new Set<string>()
  for await (const key of db.keys({})) {
    const k = parseKey(key)
    if (k.kind === 'doc') marked.add(k.docId)
    else if (k.kind === 'meta' && k.name.startsWith(REPAIR_MARK))
      withRecords.add(k.name.slice(REPAIR_MARK.length)) // emptied by damage, awaiting repair
    else if (k.kind === 'snap' || k.kind === 'log') withRecords.add(k.docId)
    else if (k.kind === 'stray') {
      damage.note({ docId: k.docId, key, problem: 'a record under a key this store never writes (a garbled key)' })
      ops.push({ type: 'del', key })
    }
  }
  for (const docId of withRecords) {
    if (marked.has(docId) || !DOC_ID.test(docId)) continue
    damage.note({ docId, key: docKey(docId), problem: 'the doc marker is missing' })
    ops.push({ type: 'put', key: docKey(docId), value: checkedRecord(docKey(docId), new Uint8Array(0)) })
  }
  for (const docId of marked) {
    if (withRecords.has(docId)) continue
    // appends write the marker with the doc's first record: a marker alone is a garbled doc id, or a doc whose every record is lost
    damage.note({ docId, key: docKey(docId), problem: 'the doc has a marker but no records' })
    ops.push({ type: 'del', key: docKey(docId) })
  }
  for await (const [key, value] of db.iterator({ gt: 'meta!', lt: 'meta"' })) {
    if (readCheckedRecord(key, value) !== null) continue
    damage.note({ docId: null, key, problem: 'checksum mismatch: the record is damaged' })
    if (!IRREPLACEABLE.has(key)) ops.push({ type: 'del', key })
  }
  if (ops.length > 0) await db.batch(ops, { sync: true })
}

function formatRecord(): BatchOp {
  return { type: 'put', key: FORMAT_KEY, value: checkedRecord(FORMAT_KEY, new TextEncoder().encode(FORMAT)) }
}
