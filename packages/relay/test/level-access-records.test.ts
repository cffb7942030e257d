// What the access records contract cannot see of the level implementation: its keys, and
// its sharing of the history's database.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeChainLink, encodeSignedMembership, headOfLinks } from '@tandem/protocol'
import type { BatchOp } from '@tandem/storage'
import { patternBytes } from '@tandem/storage/testing'
import { Level } from 'level'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LevelAccessRecords } from '../src/access/level-access-records.js'
import { HistoryStore } from '../src/history/history-store.js'
import { TestAccount } from '../src/testing/test-chain.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-access-records-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const diskDb = (dir: string): Level<string, Uint8Array> => {
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  cleanups.push(() => db.close())
  return db
}

let seed = 0
const account = (): TestAccount => new TestAccount(n => patternBytes(n, ++seed))

describe('LevelAccessRecords', () => {
  it('keeps each link under a key of its own, so an append writes only the new links', async () => {
    const db = diskDb(await tempDir())
    const history = await HistoryStore.open(db, { maxBlobBytes: 1024, accountQuotaBytes: 1024 })
    const records = await LevelAccessRecords.open(db)
    const alice = account()
    const a2 = alice.device('a2')
    alice.add(alice.first, a2)
    alice.revoke(a2, alice.first)
    const batches: BatchOp[][] = []
    const batch = db.batch.bind(db) as (ops: BatchOp[], o?: object) => Promise<void>
    vi.spyOn(db, 'batch').mockImplementation((async (ops: BatchOp[], o?: object) => {
      batches.push(ops)
      await batch(ops, o)
    }) as never)
    expect(await records.appendLinks(alice.id, alice.links.slice(0, 2), null)).toBe(true)
    expect(await records.appendLinks(alice.id, alice.links.slice(2), headOfLinks(alice.links.slice(0, 2)))).toBe(true)
    const keyOf = (v: number) => `rec!chain!${alice.id}!${String(v).padStart(10, '0')}`
    expect(batches.map(ops => ops.map(op => op.key))).toEqual([[keyOf(1), keyOf(2)], [keyOf(3)]])
    for (const [i, link] of alice.links.entries()) expect(new Uint8Array((await db.get(keyOf(i + 1)))!)).toEqual(encodeChainLink(link))
    await records.putDeviceActivity(alice.id, [{ peerId: alice.first.peerId, lastSeenAt: 7 }])
    expect(batches.at(-1)!.map(op => op.key)).toEqual([`rec!activity!${alice.id}`])
    // a chain whose stored versions have a gap reads up to it, never past it
    await db.del(keyOf(2))
    expect((await records.chain(alice.id))?.length).toBe(1)
    await records.close()
    await history.close()
  })

  it("shares the history's database without either touching the other's keys", async () => {
    const dir = await tempDir()
    const alice = account()
    const membership = alice.membership(alice.first, 'chat:kept', 2, [alice])
    let db = diskDb(dir)
    let history = await HistoryStore.open(db, { maxBlobBytes: 1 << 20, accountQuotaBytes: 1 << 20, bufferUploadBytes: 1024 })
    let records = await LevelAccessRecords.open(db)
    await records.appendLinks(alice.id, alice.links, null)
    await records.putMembership(membership)
    await records.putDeviceActivity(alice.id, [{ peerId: alice.first.peerId, lastSeenAt: 9 }])
    // an append, a snapshot that drops it, and a large upload left open: its parts are on disk under a pending marker
    for (const docId of ['chat:kept', `account:${alice.id}`]) {
      const u = history.beginUpload(docId, { account: alice.id, uploader: 'peer-1' })
      await u.addPart(patternBytes(100, 1))
      await u.commit()
      const s = history.beginUpload(docId, { account: alice.id, uploader: 'peer-1', covers: 1 })
      await s.addPart(patternBytes(50, 2))
      await s.commit()
    }
    const open = history.beginUpload('chat:kept', { account: alice.id, uploader: 'peer-1' })
    await open.addPart(patternBytes(4096, 3))
    await records.close()
    await history.close()

    db = diskDb(dir)
    history = await HistoryStore.open(db, { maxBlobBytes: 1 << 20, accountQuotaBytes: 1 << 20 }) // drops the open upload's parts
    records = await LevelAccessRecords.open(db)
    expect(history.stats()).toEqual({ docs: 2, bytesStored: 100 })
    expect((await records.chain(alice.id))?.map(encodeChainLink)).toEqual(alice.links.map(encodeChainLink))
    expect(encodeSignedMembership((await records.membership('chat:kept'))!)).toEqual(encodeSignedMembership(membership))
    expect(await records.deviceActivity(alice.id)).toEqual([{ peerId: alice.first.peerId, lastSeenAt: 9 }])
    const recordKeys: string[] = []
    for await (const k of db.keys({ gte: 'rec!', lt: 'rec"' })) recordKeys.push(k)
    expect(recordKeys).toEqual([`rec!activity!${alice.id}`, `rec!chain!${alice.id}!0000000001`, `rec!member-of!${alice.id}!chat:kept`, 'rec!membership!chat:kept'])
    await records.close()
    await history.close()
  })
})
