// A subscription's pump reading parts the store does not hold: a snapshot whose write has not
// landed yet (served from memory meanwhile), and a log naming bytes the store lost (refused for
// that doc with ERR_STORE_CORRUPT; the stream and every other subscriber go on).
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { decodeLogEntry } from '../src/history/records.js'
import { logKey, partKey } from '../src/history/keys.js'
import { append, bytesOf, newAccount, receive, sendUpload, setup } from './store-helpers.js'

type Db = MemoryLevel<string, Uint8Array>

/** Counts the store's reads and fails them past `limit`: a pump that loops on a missing part fails the test instead of spinning for ever. */
function boundReads(db: Db, limit: number): { reads: () => number } {
  let reads = 0
  const get = db.get.bind(db) as (key: string) => Promise<Uint8Array | undefined>
  ;(db as unknown as { get: (key: string) => Promise<Uint8Array | undefined> }).get = async (key: string) => {
    if (++reads > limit) throw new Error(`${reads} reads: a pump is looping`)
    return await get(key)
  }
  return { reads: () => reads }
}

async function twoDevices(db: Db, tailEntries?: number) {
  const env = await setup(tailEntries === undefined ? {} : { tailEntries }, db)
  const alice = newAccount()
  const second = alice.device('second')
  alice.add(alice.first, second)
  await env.seed(alice)
  const { device: d1 } = await env.join(alice, alice.first)
  const { device: d2 } = await env.join(alice, second)
  return { ...env, d1, d2, doc: alice.doc }
}

describe('/tandem/store: parts a pump cannot find', () => {
  it("serves a snapshot to a new subscriber while the snapshot's write is still in flight, without re-reading in a loop", async () => {
    const db: Db = new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' })
    const { d1, d2, doc } = await twoDevices(db)
    const blobs = [bytesOf(10), bytesOf(20), bytesOf(30)]
    for (const b of blobs) await append(d1, doc, b)

    // the snapshot's batch waits until the test lets it land
    const land = Promise.withResolvers<void>()
    const holding = Promise.withResolvers<void>()
    const batch = db.batch.bind(db) as (ops: unknown[], options?: unknown) => Promise<void>
    let held = 0
    ;(db as unknown as { batch: typeof batch }).batch = async (ops, options) => {
      // the snapshot's: it drops the log entries it covers
      if ((ops as Array<{ type: string; key: string }>).some(op => op.type === 'del' && op.key.startsWith('log!')) && held++ === 0) {
        holding.resolve()
        await land.promise
      }
      return await batch(ops, options)
    }
    const snap = bytesOf(2000)
    await sendUpload(d1, doc, snap, 900, 2)
    await holding.promise
    const { reads } = boundReads(db, 500)

    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d2.expectNext('subscribed', doc)).toMatchObject({ head: 3 })
    const got = await receive(d2, doc, 'snapshot-data')
    expect(got.bytes.equals(Buffer.from(snap))).toBe(true)
    expect(await receive(d2, doc, 'blob')).toMatchObject({ seq: 3, bytes: Buffer.from(blobs[2]!) })
    expect(await d2.expectNext('caught-up', doc)).toMatchObject({ head: 3 })
    expect(held).toBe(1) // the snapshot's batch was held all along
    land.resolve()
    expect(await d1.next(f => f.type === 'ack' && f.uploadId === 900)).toMatchObject({ seq: 2 })
    expect(reads()).toBeLessThan(50)
  })

  it('refuses a doc whose log names a part the store lost with ERR_STORE_CORRUPT, and the stream goes on', async () => {
    const db: Db = new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' })
    // no tail in memory: every backfill reads the disk
    const { d1, d2, doc, metrics } = await twoDevices(db, 0)
    const blobs = [bytesOf(10), bytesOf(20), bytesOf(30)]
    for (const b of blobs) await append(d1, doc, b)
    const lost = decodeLogEntry((await db.get(logKey(doc, 2)))!)
    await db.del(partKey(lost.upload, 0))
    const { reads } = boundReads(db, 500)

    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d2.expectNext('subscribed', doc)).toMatchObject({ head: 3 })
    expect(await receive(d2, doc, 'blob')).toMatchObject({ seq: 1, bytes: Buffer.from(blobs[0]!) })
    const refused = await d2.expectNext('doc-error', doc)
    expect(refused).toMatchObject({ code: 'ERR_STORE_CORRUPT' })
    expect((refused as { message: string }).message).toContain(`part 0 of upload ${lost.upload}`)
    expect(reads()).toBeLessThan(50)
    expect(await metrics.registry.getSingleMetricAsString('tandem_relay_refusals_total')).toContain('code="ERR_STORE_CORRUPT"} 1')

    // the same stream subscribes past the lost entry and is served; the other device's writes go on
    await d2.send({ type: 'subscribe', docId: doc, since: 2 })
    expect(await d2.expectNext('subscribed', doc)).toMatchObject({ head: 3 })
    expect(await receive(d2, doc, 'blob')).toMatchObject({ seq: 3 })
    expect(await d2.expectNext('caught-up', doc)).toMatchObject({ head: 3 })
    expect((await append(d1, doc, bytesOf(5))).seq).toBe(4)
    expect(await receive(d2, doc, 'blob')).toMatchObject({ seq: 4 })
  })
})
