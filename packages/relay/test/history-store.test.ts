import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { BlobTooLargeError, QuotaExceededError, TandemError } from '@tandem/protocol'
import type { BatchOp, KeyValueStore } from '@tandem/storage'
import { LevelAccessRecords } from '../src/access/level-access-records.js'
import { HistoryStore, type HistoryOptions } from '../src/history/history-store.js'
import { createLogger } from '../src/logger.js'
import { RelayMetrics } from '../src/metrics.js'
import { StoreService } from '../src/store-service/store-service.js'
import { logKey } from '../src/history/keys.js'
import type { LogEntry } from '../src/history/records.js'

const DOC = 'chat:history-test'
const OPTIONS: HistoryOptions = { maxBlobBytes: 64 * 1024, accountQuotaBytes: 1024 * 1024, sync: false }

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})

const memDb = (): MemoryLevel<string, Uint8Array> => new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })

async function openMemory(options: Partial<HistoryOptions> = {}): Promise<{ db: MemoryLevel<string, Uint8Array>; history: HistoryStore }> {
  const db = memDb()
  const history = await HistoryStore.open(db, { ...OPTIONS, ...options })
  cleanups.push(() => history.close())
  return { db, history }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-history-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const diskDb = (dir: string): Level<string, Uint8Array> => new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })

/** Distinct bytes of a given size (a counter in the first bytes, so equal sizes still differ). */
let counter = 0
function blob(size: number): Uint8Array {
  const b = new Uint8Array(randomBytes(size))
  const n = ++counter
  for (let i = 0; i < Math.min(4, size); i++) b[i] = (n >> (8 * i)) & 0xff
  return b
}

/** Splits bytes into parts of at most `partSize`. */
function split(bytes: Uint8Array, partSize: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < bytes.byteLength; i += partSize) out.push(bytes.subarray(i, i + partSize))
  return out
}

async function append(history: HistoryStore, docId: string, bytes: Uint8Array, o: { account?: string; uploader?: string; partSize?: number } = {}) {
  const upload = history.beginUpload(docId, { account: o.account ?? 'acct-a', uploader: o.uploader ?? 'peer-1' })
  try {
    for (const part of split(bytes, o.partSize ?? 1024)) await upload.addPart(part)
  } catch (err) {
    await upload.abort() // as the store session does with a refused upload
    throw err
  }
  return await upload.commit()
}

async function snapshot(history: HistoryStore, docId: string, covers: number, bytes: Uint8Array, account = 'acct-a') {
  const upload = history.beginUpload(docId, { account, uploader: 'peer-1', covers })
  for (const part of split(bytes, 1024)) await upload.addPart(part)
  return await upload.commit()
}

/** The whole blob of a log entry, read back part by part. */
async function readBlob(history: HistoryStore, upload: string, parts: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = []
  for (let n = 0; n < parts; n++) {
    const chunk = await history.readPart(upload, n)
    if (chunk === undefined) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

async function keys(db: KeyValueStore, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const k of db.keys({ gte: prefix, lt: `${prefix}\uffff` })) out.push(k)
  return out
}

describe('HistoryStore on memory-level', () => {
  it('numbers committed blobs 1, 2, 3 in order and reads them back byte-identical', async () => {
    const { history } = await openMemory()
    const blobs = [blob(10), blob(3000), blob(1)]
    const results = []
    for (const b of blobs) results.push(await append(history, DOC, b))
    expect(results.map(r => r.seq)).toEqual([1, 2, 3])
    expect(results.map(r => r.duplicate)).toEqual([false, false, false])
    expect(results.map(r => r.sinceSnapshot)).toEqual([1, 2, 3])

    const entries = await history.entriesAfter(DOC, 0, 100)
    expect(entries.map(e => e.seq)).toEqual([1, 2, 3])
    expect(entries.map(e => e.size)).toEqual([10, 3000, 1])
    expect(entries.map(e => e.parts)).toEqual([1, 3, 1])
    expect(entries.map(e => e.cum)).toEqual([10, 3010, 3011])
    for (const [i, e] of entries.entries()) expect(await readBlob(history, e.upload, e.parts)).toEqual(Buffer.from(blobs[i]!))

    expect((await history.entriesAfter(DOC, 1, 1)).map(e => e.seq)).toEqual([2])
    expect(await history.entriesAfter(DOC, 3, 10)).toEqual([])
    expect(await history.meta(DOC)).toMatchObject({ head: 3, cum: 3011, stored: 3011, entries: 3, account: 'acct-a', snapshot: null })
    expect(history.stats()).toEqual({ docs: 1, bytesStored: 3011 })
    expect(await history.usage('acct-a')).toBe(3011)
    expect(await history.backlog(DOC, 0)).toEqual({ head: 3, entries: 3, bytes: 3011, snapshot: null })
    expect(await history.backlog(DOC, 1)).toEqual({ head: 3, entries: 2, bytes: 3001, snapshot: null })
    expect(await history.backlog(DOC, 3)).toEqual({ head: 3, entries: 0, bytes: 0, snapshot: null })
    expect(await history.backlog('chat:unknown', 0)).toEqual({ head: 0, entries: 0, bytes: 0, snapshot: null })
  })

  it('stores a retried blob once: same seq, no new bytes, no parts or pending marker left', async () => {
    const { db, history } = await openMemory()
    const b = blob(2500)
    const first = await append(history, DOC, b)
    await append(history, DOC, blob(5))
    const before = { stats: history.stats(), parts: await keys(db, 'part!'), usage: await history.usage('acct-a') }
    // the retry may even cut the bytes into parts differently
    const retry = await append(history, DOC, b, { partSize: 700 })
    expect(retry).toMatchObject({ seq: first.seq, duplicate: true })
    expect(history.stats()).toEqual(before.stats)
    expect(await history.usage('acct-a')).toBe(before.usage)
    expect(await keys(db, 'part!')).toEqual(before.parts)
    expect(await keys(db, 'pending!')).toEqual([])
    expect((await history.meta(DOC))!.head).toBe(2)
    // the same bytes in another doc are another blob
    expect(await append(history, 'chat:other', b)).toMatchObject({ seq: 1, duplicate: false })
  })

  it('stores concurrent retries of the same bytes once, and numbers other concurrent blobs after it', async () => {
    const { db, history } = await openMemory()
    const b = blob(4000)
    const other = blob(100)
    const results = await Promise.all([
      append(history, DOC, b),
      append(history, DOC, b, { partSize: 333 }),
      append(history, DOC, other),
      append(history, DOC, b, { partSize: 4000 })
    ])
    const seqOfB = results[0]!.seq
    expect(results[1]!.seq).toBe(seqOfB)
    expect(results[3]!.seq).toBe(seqOfB)
    expect([results[0], results[1], results[3]].filter(r => !r!.duplicate)).toHaveLength(1)
    expect(results[2]!.seq).not.toBe(seqOfB)
    expect(new Set(results.map(r => r.seq))).toEqual(new Set([1, 2]))
    expect(history.stats()).toEqual({ docs: 1, bytesStored: 4100 })
    expect(await history.usage('acct-a')).toBe(4100)
    const entries = await history.entriesAfter(DOC, 0, 10)
    expect(entries.map(e => e.size).sort((x, y) => x - y)).toEqual([100, 4000])
    // only the parts of the two stored blobs remain (whichever cut of b won)
    expect(await keys(db, 'part!')).toHaveLength(entries[0]!.parts + entries[1]!.parts)
    expect(await keys(db, 'pending!')).toEqual([])
  })

  it('refuses a blob over maxBlobBytes with BlobTooLargeError and stores nothing of it', async () => {
    const { db, history } = await openMemory({ maxBlobBytes: 2048 })
    const upload = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    await upload.addPart(blob(1024))
    await upload.addPart(blob(1024))
    await expect(upload.addPart(blob(1))).rejects.toBeInstanceOf(BlobTooLargeError)
    await expect(upload.addPart(blob(1))).rejects.toMatchObject({ code: 'ERR_BLOB_TOO_LARGE' })
    await upload.abort()
    expect(history.stats()).toEqual({ docs: 0, bytesStored: 0 })
    expect(await history.meta(DOC)).toBeNull()
    expect(await keys(db, 'part!')).toEqual([])
    expect(await keys(db, 'pending!')).toEqual([])
    // a single part over the bound is refused before anything is written
    const big = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    await expect(big.addPart(blob(2049))).rejects.toBeInstanceOf(BlobTooLargeError)
    expect(await keys(db, 'part!')).toEqual([])
    // exactly at the bound is fine
    expect(await append(history, DOC, blob(2048))).toMatchObject({ seq: 1 })
  })

  it("refuses an upload that would put the account over its quota, charging the doc's account", async () => {
    const { db, history } = await openMemory({ accountQuotaBytes: 5000, maxBlobBytes: 10_000 })
    await append(history, DOC, blob(3000), { account: 'acct-a' })
    await expect(append(history, DOC, blob(2001), { account: 'acct-a' })).rejects.toBeInstanceOf(QuotaExceededError)
    // the doc is charged to its first uploader's account, whoever uploads next
    await expect(append(history, DOC, blob(2001), { account: 'acct-b', uploader: 'peer-b' })).rejects.toMatchObject({ code: 'ERR_QUOTA_EXCEEDED' })
    expect(await history.usage('acct-b')).toBe(0)
    expect(history.stats()).toEqual({ docs: 1, bytesStored: 3000 })
    // up to the quota exactly is accepted; another account's own doc has its own quota
    expect(await append(history, DOC, blob(2000), { account: 'acct-b', uploader: 'peer-b' })).toMatchObject({ seq: 2 })
    expect(await history.usage('acct-a')).toBe(5000)
    expect(await append(history, 'chat:b-doc', blob(4000), { account: 'acct-b' })).toMatchObject({ seq: 1 })
    expect(await history.usage('acct-b')).toBe(4000)
    expect(history.stats().bytesStored).toBe(9000)
    // refused uploads left nothing behind once aborted
    expect(await keys(db, 'pending!')).toEqual([])
    expect(await keys(db, 'part!')).toHaveLength(3 + 2 + 4)
  })

  describe('snapshots', () => {
    async function seeded() {
      const env = await openMemory()
      const sizes = [100, 2000, 300, 40, 5]
      const blobs = sizes.map(blob)
      for (const b of blobs) await append(env.history, DOC, b)
      const entries = await env.history.entriesAfter(DOC, 0, 10)
      return { ...env, blobs, entries }
    }

    it('drops the entries a snapshot covers, and backlog counts snapshot + tail', async () => {
      const { db, history, blobs, entries } = await seeded()
      const snap = blob(1500)
      const result = await snapshot(history, DOC, 3, snap)
      expect(result).toEqual({ seq: 3, duplicate: false, sinceSnapshot: 2, tailBytes: 45, snapshotBytes: 1500 })

      expect((await history.entriesAfter(DOC, 0, 10)).map(e => e.seq)).toEqual([4, 5])
      for (const e of entries.slice(0, 3)) {
        expect(await history.readPart(e.upload, 0)).toBeUndefined()
        expect(await history.entry(DOC, e.seq)).toBeUndefined()
      }
      for (const [i, e] of entries.slice(3).entries()) expect(await readBlob(history, e.upload, e.parts)).toEqual(Buffer.from(blobs[3 + i]!))

      const meta = (await history.meta(DOC))!
      expect(meta).toMatchObject({ head: 5, cum: 2445, stored: 1545, entries: 2 })
      expect(meta.snapshot).toMatchObject({ covers: 3, size: 1500, parts: 2, cumAtCovers: 2400 })
      expect(await readBlob(history, meta.snapshot!.upload, meta.snapshot!.parts)).toEqual(Buffer.from(snap))
      expect(history.stats()).toEqual({ docs: 1, bytesStored: 1545 })
      expect(await history.usage('acct-a')).toBe(1545)

      // since < covers: the snapshot, then the tail
      for (const since of [0, 1, 2]) {
        expect(await history.backlog(DOC, since)).toEqual({ head: 5, entries: 3, bytes: 1500 + 40 + 5, snapshot: meta.snapshot })
      }
      // since ≥ covers: only the tail
      expect(await history.backlog(DOC, 3)).toEqual({ head: 5, entries: 2, bytes: 45, snapshot: null })
      expect(await history.backlog(DOC, 4)).toEqual({ head: 5, entries: 1, bytes: 5, snapshot: null })
      expect(await history.backlog(DOC, 5)).toEqual({ head: 5, entries: 0, bytes: 0, snapshot: null })

      // the log goes on after the snapshot
      expect(await append(history, DOC, blob(7))).toEqual({ seq: 6, duplicate: false, sinceSnapshot: 3, tailBytes: 52, snapshotBytes: 1500 })
      expect(await history.backlog(DOC, 0)).toMatchObject({ entries: 4, bytes: 1500 + 40 + 5 + 7 })
      expect(await keys(db, 'pending!')).toEqual([])
    })

    it('the bytes-stored gauge a scrape reads is what the store holds, after a snapshot replaced the log too', async () => {
      const { db, history } = await seeded()
      const records = await LevelAccessRecords.open(db, { sync: false })
      const metrics = new RelayMetrics({ processMetrics: false })
      const service = new StoreService(history, records, metrics, createLogger({ level: 'silent' }))
      cleanups.push(async () => {
        service.stop()
        await records.close()
      })
      const scraped = async (): Promise<number> => (await metrics.registry.getSingleMetric('tandem_relay_bytes_stored')!.get()).values[0]!.value
      expect(await scraped()).toBe(2445)
      await snapshot(history, DOC, 5, blob(900))
      expect(history.stats().bytesStored).toBe(900)
      expect(await scraped()).toBe(900)
    })

    it('ignores a stale snapshot and replaces an older one with a newer one', async () => {
      const { db, history } = await seeded()
      await snapshot(history, DOC, 3, blob(1500))
      const held = (await history.meta(DOC))!.snapshot
      const partsBefore = await keys(db, 'part!')
      for (const covers of [3, 2, 1]) {
        expect(await snapshot(history, DOC, covers, blob(600))).toMatchObject({ seq: covers, duplicate: true })
      }
      expect((await history.meta(DOC))!.snapshot).toEqual(held)
      expect(await keys(db, 'part!')).toEqual(partsBefore)
      expect(await keys(db, 'pending!')).toEqual([])
      expect(history.stats().bytesStored).toBe(1545)

      // a newer snapshot drops the old snapshot and the entries it now covers
      expect(await snapshot(history, DOC, 5, blob(900))).toEqual({ seq: 5, duplicate: false, sinceSnapshot: 0, tailBytes: 0, snapshotBytes: 900 })
      expect(await history.readPart(held!.upload, 0)).toBeUndefined()
      expect(await history.entriesAfter(DOC, 0, 10)).toEqual([])
      expect(await history.meta(DOC)).toMatchObject({ head: 5, stored: 900, entries: 0, snapshot: { covers: 5, size: 900, cumAtCovers: 2445 } })
      expect(history.stats().bytesStored).toBe(900)
      expect(await history.usage('acct-a')).toBe(900)
      expect(await keys(db, 'part!')).toHaveLength(1)
      expect(await history.backlog(DOC, 4)).toMatchObject({ entries: 1, bytes: 900 })
      expect(await history.backlog(DOC, 5)).toMatchObject({ entries: 0, bytes: 0 })
    })

    it('refuses a snapshot beyond the head with ERR_INVALID_SNAPSHOT and keeps none of its parts', async () => {
      const { db, history } = await seeded()
      for (const [docId, covers] of [
        [DOC, 6],
        [DOC, 0],
        ['chat:empty', 1]
      ] as const) {
        const err = await snapshot(history, docId, covers, blob(2000)).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(TandemError)
        expect(err).toMatchObject({ code: 'ERR_INVALID_SNAPSHOT' })
      }
      expect(await history.meta(DOC)).toMatchObject({ head: 5, snapshot: null, entries: 5 })
      expect(history.stats()).toEqual({ docs: 1, bytesStored: 2445 })
      // a refused snapshot's parts are not left behind, unaccounted, until the next restart
      expect(await keys(db, 'pending!')).toEqual([])
      expect(await keys(db, 'part!')).toHaveLength(1 + 2 + 1 + 1 + 1)
    })

    it('covers an append whose commit is not yet on disk consistently', async () => {
      // a store whose batches take a few turns of the event loop, like a disk does
      const db = memDb()
      const slow: KeyValueStore = {
        open: () => db.open(),
        close: () => db.close(),
        get: k => db.get(k),
        keys: r => db.keys(r),
        iterator: r => db.iterator(r),
        batch: async ops => {
          for (let i = 0; i < 3; i++) await new Promise<void>(resolve => setImmediate(resolve))
          await db.batch(ops) // memory-level has no fsync to ask for
        }
      }
      const history = await HistoryStore.open(slow, OPTIONS)
      cleanups.push(() => history.close())
      await append(history, DOC, blob(10))
      const snap = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1', covers: 2 })
      await snap.addPart(blob(50))
      const tail = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
      await tail.addPart(blob(20))
      // seq 2 is allocated (head = 2) before its batch reaches the store; the snapshot commits right behind it
      const [appended, snapped] = await Promise.all([tail.commit(), snap.commit()])
      expect(appended.seq).toBe(2)
      expect(snapped).toMatchObject({ seq: 2, duplicate: false, sinceSnapshot: 0 })
      expect(await history.entriesAfter(DOC, 0, 10)).toEqual([])
      expect(await history.meta(DOC)).toMatchObject({ head: 2, stored: 50, entries: 0, snapshot: { covers: 2, cumAtCovers: 30 } })
      expect(history.stats().bytesStored).toBe(50)
      expect(await keys(db, 'part!')).toHaveLength(1)
      expect(await history.backlog(DOC, 0)).toMatchObject({ entries: 1, bytes: 50 })
    })
  })

  it("keeps each doc's log to itself even when one doc id extends another", async () => {
    const { history } = await openMemory()
    const victim = 'chat:x'
    // a doc id that makes its log keys sort inside chat:x's key range
    const squatter = `chat:x!${'0'.repeat(13)}1`
    await append(history, victim, blob(10))
    await append(history, squatter, blob(20))
    await append(history, squatter, blob(30))
    await append(history, victim, blob(40))
    await append(history, victim, blob(50))
    expect((await history.entriesAfter(victim, 0, 10)).map(e => e.size)).toEqual([10, 40, 50])
    expect((await history.entriesAfter(victim, 1, 10)).map(e => e.size)).toEqual([40, 50])
    expect((await history.entriesAfter(squatter, 0, 10)).map(e => e.size)).toEqual([20, 30])
    // a snapshot of one doc drops nothing of the other
    await snapshot(history, victim, 2, blob(5))
    expect((await history.entriesAfter(squatter, 0, 10)).map(e => e.size)).toEqual([20, 30])
    expect((await history.entriesAfter(victim, 0, 10)).map(e => e.size)).toEqual([50])
    expect(await history.meta(victim)).toMatchObject({ stored: 55, entries: 1, snapshot: { cumAtCovers: 50 } })
    expect(history.stats().bytesStored).toBe(55 + 50)
  })

  it('calls onCommit after the commit batch is durable, in seq order, and not for duplicates', async () => {
    const inner = memDb()
    const durable = new Set<string>()
    const syncs: boolean[] = []
    const tracking: KeyValueStore = {
      open: () => inner.open(),
      close: () => inner.close(),
      get: k => inner.get(k),
      keys: r => inner.keys(r),
      iterator: r => inner.iterator(r),
      batch: async (ops: BatchOp[], o?: { sync?: boolean }) => {
        await inner.batch(ops)
        if (ops.some(op => op.key.startsWith('log!'))) syncs.push(o?.sync === true)
        for (const op of ops) if (op.type === 'put') durable.add(op.key)
      }
    }
    const history = await HistoryStore.open(tracking, { maxBlobBytes: 64 * 1024, accountQuotaBytes: 1 << 20 }) // sync defaults on
    cleanups.push(() => history.close())
    const seen: Array<{ docId: string; seq: number; durable: boolean }> = []
    const off = history.onCommit((docId, seq) => {
      seen.push({ docId, seq, durable: durable.has(logKey(docId, seq)) })
    })
    const b = blob(300)
    await Promise.all([append(history, DOC, b), append(history, DOC, blob(10)), append(history, DOC, blob(20))])
    await append(history, DOC, b)
    expect(seen).toEqual([1, 2, 3].map(seq => ({ docId: DOC, seq, durable: true })))
    expect(syncs.every(s => s)).toBe(true)
    off()
    await append(history, DOC, blob(1))
    expect(seen).toHaveLength(3)
  })
})

describe('HistoryStore on level (disk)', () => {
  it('keeps head, meta, snapshot, quota usage and dedupe across a reopen', async () => {
    const dir = await tempDir()
    let history = await HistoryStore.open(diskDb(dir), OPTIONS)
    const blobs = [blob(100), blob(200), blob(300), blob(400)]
    for (const b of blobs) await append(history, DOC, b)
    await append(history, 'account:acct-a', blob(50))
    await snapshot(history, DOC, 2, blob(250))
    const meta = await history.meta(DOC)
    const stats = history.stats()
    await history.close()

    history = await HistoryStore.open(diskDb(dir), OPTIONS)
    cleanups.push(() => history.close())
    expect(await history.meta(DOC)).toEqual(meta)
    expect(history.stats()).toEqual(stats)
    expect(stats).toEqual({ docs: 2, bytesStored: 250 + 300 + 400 + 50 })
    expect(await history.usage('acct-a')).toBe(stats.bytesStored)
    expect(await history.backlog(DOC, 0)).toEqual({ head: 4, entries: 3, bytes: 950, snapshot: meta!.snapshot })
    // a retry of a blob committed before the restart is still recognised
    expect(await append(history, DOC, blobs[3]!)).toMatchObject({ seq: 4, duplicate: true })
    expect(history.stats()).toEqual(stats)
    // and the log goes on where it was
    expect(await append(history, DOC, blob(1))).toMatchObject({ seq: 5, duplicate: false, sinceSnapshot: 3 })
    const tail: LogEntry[] = await history.entriesAfter(DOC, 2, 10)
    expect(tail.map(e => e.seq)).toEqual([3, 4, 5])
    expect(await readBlob(history, tail[0]!.upload, tail[0]!.parts)).toEqual(Buffer.from(blobs[2]!))
  })

  it('drops the parts of uploads a crash left uncommitted when it opens', async () => {
    const dir = await tempDir()
    // uploads over 2 KiB stream their parts to disk; smaller ones stay in memory until their commit
    const options = { ...OPTIONS, bufferUploadBytes: 2048 }
    let history = await HistoryStore.open(diskDb(dir), options)
    const kept = blob(1500)
    await append(history, DOC, kept)
    // parts written, never committed nor aborted: what a crash mid-upload leaves
    const orphan = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    for (const part of split(blob(3000), 1024)) await orphan.addPart(part)
    const orphanSnap = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1', covers: 1 })
    for (const part of split(blob(2500), 1024)) await orphanSnap.addPart(part)
    // a small upload's parts never reached the disk: a crash loses nothing to clean up
    const small = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    await small.addPart(blob(10))
    const stats = history.stats()
    await history.close()

    const raw = diskDb(dir)
    await raw.open()
    expect(await keys(raw, 'pending!')).toHaveLength(2)
    expect(await keys(raw, 'part!')).toHaveLength(2 + 3 + 3)
    await raw.close()

    history = await HistoryStore.open(diskDb(dir), options)
    expect(history.stats()).toEqual(stats)
    await history.close()

    const after = diskDb(dir)
    await after.open()
    cleanups.push(() => after.close())
    expect(await keys(after, 'pending!')).toEqual([])
    expect(await keys(after, 'part!')).toHaveLength(2)
    history = await HistoryStore.open(after, OPTIONS)
    const [entry] = await history.entriesAfter(DOC, 0, 10)
    expect(await readBlob(history, entry!.upload, entry!.parts)).toEqual(Buffer.from(kept))
    expect(await append(history, DOC, blob(5))).toMatchObject({ seq: 2 })
  })
})

describe('HistoryStore: small uploads in memory, the cached tail', () => {
  /** A memory-level store that records every batch it is given. */
  async function counting(options: Partial<HistoryOptions> = {}) {
    const db = memDb()
    const batches: Array<{ keys: string[]; sync: boolean }> = []
    const store: KeyValueStore = {
      open: () => db.open(),
      close: () => db.close(),
      get: k => db.get(k),
      keys: r => db.keys(r),
      iterator: r => db.iterator(r),
      batch: async (ops: BatchOp[], o?: { sync?: boolean }) => {
        batches.push({ keys: ops.map(op => op.key), sync: o?.sync === true })
        await db.batch(ops)
      }
    }
    const history = await HistoryStore.open(store, { ...OPTIONS, sync: true, ...options })
    cleanups.push(() => history.close())
    return { db, history, batches }
  }

  const kinds = (b: { keys: string[] }): string[] => [...new Set(b.keys.map(k => k.slice(0, k.indexOf('!'))))].sort()

  it('writes a single-part upload in one synced batch with its log entry, and nothing before the commit', async () => {
    const { db, history, batches } = await counting()
    const b = blob(1000)
    const upload = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    await upload.addPart(b)
    expect(batches).toEqual([])
    expect(await keys(db, 'part!')).toEqual([])
    expect(history.memoryUse().uploadBytes).toBe(1000)

    expect(await upload.commit()).toMatchObject({ seq: 1, duplicate: false })
    expect(batches).toHaveLength(1)
    expect(batches[0]!.sync).toBe(true)
    expect(kinds(batches[0]!)).toEqual(['acct', 'doc', 'hash', 'log', 'part'])
    expect(await keys(db, 'pending!')).toEqual([])
    expect(history.memoryUse().uploadBytes).toBe(0)
    const [entry] = await history.entriesAfter(DOC, 0, 10)
    expect(await readBlob(history, entry!.upload, entry!.parts)).toEqual(Buffer.from(b))

    // a retry's buffered parts are simply dropped: no batch at all
    expect(await append(history, DOC, b)).toMatchObject({ seq: 1, duplicate: true })
    expect(batches).toHaveLength(1)
    expect(history.memoryUse().uploadBytes).toBe(0)
    // so is an aborted one's
    const aborted = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    await aborted.addPart(blob(500))
    await aborted.abort()
    expect(batches).toHaveLength(1)
    expect(history.memoryUse().uploadBytes).toBe(0)
    // a buffered snapshot goes in its commit batch as well
    expect(await snapshot(history, DOC, 1, blob(700))).toMatchObject({ seq: 1, duplicate: false })
    expect(batches).toHaveLength(2)
    expect(kinds(batches[1]!)).toEqual(['acct', 'doc', 'hash', 'log', 'part'])
    const meta = (await history.meta(DOC))!
    expect(await readBlob(history, meta.snapshot!.upload, meta.snapshot!.parts)).toHaveLength(700)
    expect(await keys(db, 'part!')).toEqual([`part!${meta.snapshot!.upload}!00000000`])
    expect(history.memoryUse().uploadBytes).toBe(0)
  })

  it('streams an upload past the buffer bound to disk under a pending marker, and still commits or drops it whole', async () => {
    const { db, history, batches } = await counting({ bufferUploadBytes: 2048 })
    const b = blob(5000)
    const parts = split(b, 1024)
    const upload = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    await upload.addPart(parts[0]!)
    await upload.addPart(parts[1]!)
    expect(await keys(db, 'part!')).toEqual([])
    // the third part crosses the bound: the buffered two go to disk with it
    await upload.addPart(parts[2]!)
    expect(await keys(db, 'part!')).toHaveLength(3)
    expect(await keys(db, 'pending!')).toEqual([`pending!${upload.key}`])
    expect(history.memoryUse().uploadBytes).toBe(0)
    for (const p of parts.slice(3)) await upload.addPart(p)
    expect(batches.map(x => x.sync)).toEqual([false, false, false])
    expect(await upload.commit()).toMatchObject({ seq: 1 })
    expect(batches.at(-1)!.sync).toBe(true)
    expect(await keys(db, 'pending!')).toEqual([])
    const [entry] = await history.entriesAfter(DOC, 0, 10)
    expect(entry).toMatchObject({ parts: 5, size: 5000 })
    expect(await readBlob(history, entry!.upload, entry!.parts)).toEqual(Buffer.from(b))

    // an aborted streamed upload leaves no parts behind
    const dropped = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    for (const p of split(blob(3000), 1024)) await dropped.addPart(p)
    expect(await keys(db, 'part!')).toHaveLength(5 + 3)
    await dropped.abort()
    expect(await keys(db, 'part!')).toHaveLength(5)
    expect(await keys(db, 'pending!')).toEqual([])
    // and one aborted while its part is being checked stores nothing afterwards
    const racing = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    const adding = racing.addPart(blob(3000))
    await racing.abort()
    await expect(adding).rejects.toThrow('closed')
    expect(await keys(db, 'part!')).toHaveLength(5)
    expect(history.memoryUse().uploadBytes).toBe(0)
  })

  it('streams to disk once the relay-wide buffer budget is used up, and buffers again when it frees', async () => {
    const { db, history } = await counting({ bufferUploadBytes: 2048, bufferBytes: 3000 })
    const a = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
    await a.addPart(blob(2000))
    const b = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-2' })
    const bBytes = blob(1500)
    await b.addPart(bBytes)
    // b would put the buffers over 3000 bytes: it went to disk
    expect(history.memoryUse().uploadBytes).toBe(2000)
    expect(await keys(db, 'pending!')).toEqual([`pending!${b.key}`])
    expect(await keys(db, 'part!')).toHaveLength(1)
    // a part that does not fit sends the whole upload to disk, the buffered part with it
    const c = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-3' })
    await c.addPart(blob(600))
    expect(history.memoryUse().uploadBytes).toBe(2600)
    await c.addPart(blob(600))
    expect(history.memoryUse().uploadBytes).toBe(2000)
    expect(await keys(db, 'part!')).toHaveLength(3)

    expect((await a.commit()).seq).toBe(1)
    expect(history.memoryUse().uploadBytes).toBe(0)
    const d = history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-4' })
    await d.addPart(blob(1500))
    expect(history.memoryUse().uploadBytes).toBe(1500)
    expect(await keys(db, 'part!')).toHaveLength(1 + 1 + 2)

    expect((await b.commit()).seq).toBe(2)
    expect((await c.commit()).seq).toBe(3)
    expect((await d.commit()).seq).toBe(4)
    expect(history.memoryUse().uploadBytes).toBe(0)
    expect(await keys(db, 'pending!')).toEqual([])
    const entries = await history.entriesAfter(DOC, 0, 10)
    expect(entries.map(e => e.size)).toEqual([2000, 1500, 1200, 1500])
    expect(await readBlob(history, entries[1]!.upload, entries[1]!.parts)).toEqual(Buffer.from(bBytes))
  })

  it('keeps the newest committed entries of each doc with their bytes, within its bounds', async () => {
    const { history } = await openMemory({ tailEntries: 3, tailBytes: 2500, bufferUploadBytes: 2048 })
    const blobs = [blob(100), blob(200), blob(300), blob(400), blob(500)]
    for (const b of blobs) await append(history, DOC, b)
    expect(history.tailAfter('chat:unknown', 0, 10)).toBeUndefined()
    const cached = history.tailAfter(DOC, 2, 10)!
    expect(cached.map(c => c.entry)).toEqual(await history.entriesAfter(DOC, 2, 10))
    expect(cached.map(c => Buffer.concat(c.chunks))).toEqual(blobs.slice(2).map(b => Buffer.from(b)))
    expect(history.tailAfter(DOC, 3, 1)!.map(c => c.entry.seq)).toEqual([4])
    expect(history.tailAfter(DOC, 5, 10)).toEqual([])
    // seq 2 was evicted (3 entries per doc): from 1 on the caller must read the disk
    expect(history.tailAfter(DOC, 1, 10)).toBeUndefined()
    expect(history.memoryUse()).toMatchObject({ tailEntries: 3, tailBytes: 1200 })

    // the byte budget is relay-wide and evicts the oldest entries first, whatever their doc
    await append(history, 'chat:other', blob(1500))
    expect(history.memoryUse()).toMatchObject({ tailEntries: 3, tailBytes: 2400 })
    expect(history.tailAfter(DOC, 2, 10)).toBeUndefined()
    expect(history.tailAfter(DOC, 3, 10)!.map(c => c.entry.seq)).toEqual([4, 5])
    expect(history.tailAfter('chat:other', 0, 10)!.map(c => c.entry.seq)).toEqual([1])

    // a blob that went to disk is not cached: it breaks the run until it is behind the cursor
    await append(history, DOC, blob(3000))
    expect(history.tailAfter(DOC, 5, 10)).toBeUndefined()
    expect(history.tailAfter(DOC, 6, 10)).toEqual([])
    await append(history, DOC, blob(10))
    expect(history.tailAfter(DOC, 6, 10)!.map(c => c.entry.seq)).toEqual([7])

    // a snapshot drops the entries it covers from memory as from disk
    await snapshot(history, DOC, 7, blob(20))
    expect(history.tailAfter(DOC, 6, 10)).toBeUndefined()
    expect(history.tailAfter(DOC, 7, 10)).toEqual([])
    expect(history.memoryUse()).toMatchObject({ tailEntries: 1, tailBytes: 1500 })
  })

  it('starts with no cached tail after a reopen: subscribers read the disk', async () => {
    const dir = await tempDir()
    let history = await HistoryStore.open(diskDb(dir), OPTIONS)
    await append(history, DOC, blob(10))
    expect(history.tailAfter(DOC, 0, 10)).toHaveLength(1)
    await history.close()
    history = await HistoryStore.open(diskDb(dir), OPTIONS)
    cleanups.push(() => history.close())
    expect(history.tailAfter(DOC, 0, 10)).toBeUndefined()
    expect(history.tailAfter(DOC, 1, 10)).toBeUndefined()
    await append(history, DOC, blob(20))
    expect(history.tailAfter(DOC, 0, 10)).toBeUndefined()
    expect(history.tailAfter(DOC, 1, 10)!.map(c => c.entry.seq)).toEqual([2])
  })
})
