// What the access records contract cannot see of the level implementation: its keys, which
// a relay's existing data dir already holds, and its sharing of the history's database.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { accountIdFromPublicKey, encodeSignedDeviceList, encodeSignedMembership, generateAccountKey, signDeviceList, signMembership } from '@tandem/protocol'
import { patternBytes } from '@tandem/storage/testing'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelAccessRecords } from '../src/access/level-access-records.js'
import { HistoryStore } from '../src/history/history-store.js'

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

const key = generateAccountKey(n => patternBytes(n, 7))
const accountId = accountIdFromPublicKey(key.publicKey)
const list = signDeviceList(key, { version: 3, devices: [{ peerId: 'peer-1', name: 'laptop', createdAt: 1 }], revoked: ['peer-0'], issuedAt: 1003 })
const membership = signMembership(key, { docId: 'chat:kept', version: 2, members: [accountId], issuedAt: 1002 })

describe('LevelAccessRecords', () => {
  it('reads the records a relay wrote before they left HistoryStore, under the same rec! keys', async () => {
    const dir = await tempDir()
    // the layout HistoryStore.putRecord wrote: rec!<kind>!<id>, the encoded signed record
    const old = diskDb(dir)
    await old.batch([
      { type: 'put', key: `rec!device-list!${accountId}`, value: encodeSignedDeviceList(list) },
      { type: 'put', key: 'rec!membership!chat:kept', value: encodeSignedMembership(membership) }
    ])
    await old.close()

    const db = diskDb(dir)
    const history = await HistoryStore.open(db, { maxBlobBytes: 1024, accountQuotaBytes: 1024 })
    const records = await LevelAccessRecords.open(db)
    expect(encodeSignedDeviceList((await records.deviceList(accountId))!)).toEqual(encodeSignedDeviceList(list))
    expect(encodeSignedMembership((await records.membership('chat:kept'))!)).toEqual(encodeSignedMembership(membership))
    // and a record it writes lands under that key too: a relay rolled back still finds it
    const next = signMembership(key, { docId: 'chat:new', version: 1, members: [accountId], issuedAt: 1001 })
    await records.putMembership(next)
    expect(new Uint8Array((await db.get('rec!membership!chat:new'))!)).toEqual(encodeSignedMembership(next))
    // the history counts no record as a doc
    expect(history.stats()).toEqual({ docs: 0, bytesStored: 0 })
    await records.close()
    await history.close()
  })

  it("shares the history's database without either touching the other's keys", async () => {
    const dir = await tempDir()
    let db = diskDb(dir)
    let history = await HistoryStore.open(db, { maxBlobBytes: 1 << 20, accountQuotaBytes: 1 << 20, bufferUploadBytes: 1024 })
    let records = await LevelAccessRecords.open(db)
    await records.putDeviceList(accountId, list)
    await records.putMembership(membership)
    // an append, a snapshot that drops it, and a large upload left open: its parts are on disk under a pending marker
    for (const docId of ['chat:kept', `account:${accountId}`]) {
      const u = history.beginUpload(docId, { account: accountId, uploader: 'peer-1' })
      await u.addPart(patternBytes(100, 1))
      await u.commit()
      const s = history.beginUpload(docId, { account: accountId, uploader: 'peer-1', covers: 1 })
      await s.addPart(patternBytes(50, 2))
      await s.commit()
    }
    const open = history.beginUpload('chat:kept', { account: accountId, uploader: 'peer-1' })
    await open.addPart(patternBytes(4096, 3))
    await records.close()
    await history.close()

    db = diskDb(dir)
    history = await HistoryStore.open(db, { maxBlobBytes: 1 << 20, accountQuotaBytes: 1 << 20 }) // drops the open upload's parts
    records = await LevelAccessRecords.open(db)
    expect(history.stats()).toEqual({ docs: 2, bytesStored: 100 })
    expect(encodeSignedDeviceList((await records.deviceList(accountId))!)).toEqual(encodeSignedDeviceList(list))
    expect(encodeSignedMembership((await records.membership('chat:kept'))!)).toEqual(encodeSignedMembership(membership))
    const recordKeys: string[] = []
    for await (const k of db.keys({ gte: 'rec!', lt: 'rec"' })) recordKeys.push(k)
    expect(recordKeys).toEqual([`rec!device-list!${accountId}`, 'rec!membership!chat:kept'])
    await records.close()
    await history.close()
  })
})
