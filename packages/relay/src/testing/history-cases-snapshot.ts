// The history contract: snapshots, and the limits every backend enforces with typed errors.
import type { HistoryBackend } from '../history/backend.js'
import { check, rejectsWith, same, sameBytes } from './checks.js'
import { ACCOUNT, LIMITS, append, blobMaker, headOf, readBlob, readLog, served, snapshot, withHistory, type HistoryContractCase } from './history-driver.js'

const DOC = 'chat:contract'

/** A doc of five entries, 2,445 bytes: 100, 2000, 300, 40, 5. */
async function seed(history: HistoryBackend, bytes: (size: number) => Uint8Array): Promise<Uint8Array[]> {
  const blobs = [100, 2000, 300, 40, 5].map(bytes)
  for (const b of blobs) await append(history, DOC, b)
  return blobs
}

export const snapshotCases: readonly HistoryContractCase[] = [
  {
    name: 'a snapshot replaces the prefix it covers: a read from before it starts with the snapshot, later entries stay, and the counts hold its bytes instead',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        const blobs = await seed(history, bytes)
        const covered = (await readLog(history, DOC)).slice(0, 3)
        const snap = bytes(1500)
        same(await snapshot(history, DOC, 3, snap), { seq: 3, duplicate: false, sinceSnapshot: 2, tailBytes: 45, snapshotBytes: 1500 }, 'the snapshot commit')

        const log = await readLog(history, DOC)
        same(
          log.map(e => e.seq),
          [4, 5],
          'the log after a snapshot covering 1…3'
        )
        same(
          (await history.entriesAfter(DOC, 1, 10)).map(e => e.seq),
          [4, 5],
          'entries after seq 1, which the snapshot covers'
        )
        for (const [i, e] of log.entries()) sameBytes(await readBlob(history, e.upload, e.parts), blobs[3 + i]!, `seq ${e.seq} after the snapshot`)
        for (const e of covered) {
          for (let n = 0; n < e.parts; n++) same(await history.readPart(e.upload, n), undefined, `part ${n} of covered seq ${e.seq}`)
        }
        const head = await headOf(history, DOC)
        const held = head?.snapshot
        if (held == null) throw new Error(`meta after the snapshot: ${JSON.stringify(head)}, no snapshot`)
        same({ head: head?.head, covers: held.covers, size: held.size }, { head: 5, covers: 3, size: 1500 }, 'meta after the snapshot')
        sameBytes(await readBlob(history, held.upload, held.parts), snap, 'the snapshot read back')
        same(history.stats(), { docs: 1, bytesStored: 1545 }, 'stats() after the snapshot')

        for (const since of [0, 1, 2]) {
          const backlog = await history.backlog(DOC, since)
          same({ ...backlog, snapshot: backlog.snapshot?.upload ?? null }, { head: 5, entries: 3, bytes: 1545, snapshot: held.upload }, `backlog from ${since}`)
        }
        same(await history.backlog(DOC, 3), { head: 5, entries: 2, bytes: 45, snapshot: null }, 'backlog from 3')
        same(await history.backlog(DOC, 4), { head: 5, entries: 1, bytes: 5, snapshot: null }, 'backlog from 4')
        same(await history.backlog(DOC, 5), { head: 5, entries: 0, bytes: 0, snapshot: null }, 'backlog from 5')
        const cached = history.tailAfter(DOC, 0, 10)
        check(cached === undefined, `tailAfter(0) served ${cached?.length} entries, but a snapshot covers 1…3`)

        // the log goes on after the snapshot
        same(await append(history, DOC, bytes(7)), { seq: 6, duplicate: false, sinceSnapshot: 3, tailBytes: 52, snapshotBytes: 1500 }, 'the append after')
        same((await history.backlog(DOC, 0)).bytes, 1552, 'backlog bytes from 0 after one more append')
      })
  },
  {
    name: 'a snapshot no newer than the one held changes nothing, and a newer one replaces it and the entries it now covers',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        await seed(history, bytes)
        await snapshot(history, DOC, 3, bytes(1500))
        const held = await headOf(history, DOC)
        const log = (await readLog(history, DOC)).map(served)
        for (const covers of [3, 2, 1]) {
          same(
            await snapshot(history, DOC, covers, bytes(600)),
            { seq: covers, duplicate: true, sinceSnapshot: 2, tailBytes: 45, snapshotBytes: 1500 },
            `a snapshot covering ${covers}`
          )
        }
        same(await headOf(history, DOC), held, 'meta after three stale snapshots')
        same((await readLog(history, DOC)).map(served), log, 'the log after three stale snapshots')
        same(history.stats().bytesStored, 1545, 'bytes stored after three stale snapshots')

        const newer = bytes(900)
        same(await snapshot(history, DOC, 5, newer), { seq: 5, duplicate: false, sinceSnapshot: 0, tailBytes: 0, snapshotBytes: 900 }, 'a snapshot covering 5')
        same(await history.readPart(held!.snapshot!.upload, 0), undefined, 'the first part of the replaced snapshot')
        same(await readLog(history, DOC), [], 'the log under a snapshot covering all of it')
        const now = await headOf(history, DOC)
        same({ head: now?.head, covers: now?.snapshot?.covers, size: now?.snapshot?.size }, { head: 5, covers: 5, size: 900 }, 'meta after the newer snapshot')
        sameBytes(await readBlob(history, now!.snapshot!.upload, now!.snapshot!.parts), newer, 'the newer snapshot read back')
        same(history.stats(), { docs: 1, bytesStored: 900 }, 'stats() after the newer snapshot')
        same((await history.backlog(DOC, 4)).bytes, 900, 'backlog bytes from 4')
        same((await history.backlog(DOC, 5)).entries, 0, 'backlog entries from 5')
      })
  },
  {
    name: 'a snapshot beyond the head or covering nothing is refused with ERR_INVALID_SNAPSHOT and leaves the doc as it was',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        await seed(history, bytes)
        const stats = history.stats()
        for (const [docId, covers] of [
          [DOC, 6],
          [DOC, 0],
          ['chat:empty', 1]
        ] as const) {
          await rejectsWith(snapshot(history, docId, covers, bytes(2000)), 'ERR_INVALID_SNAPSHOT', `a snapshot of ${docId} covering ${covers}`)
        }
        same(await headOf(history, DOC), { head: 5, snapshot: null }, 'meta after refused snapshots')
        same((await readLog(history, DOC)).length, 5, 'entries after refused snapshots')
        same(await headOf(history, 'chat:empty'), null, 'a doc whose only upload was a refused snapshot')
        same(history.stats(), stats, 'stats() after refused snapshots')
        same((await snapshot(history, DOC, 5, bytes(10))).duplicate, false, 'a snapshot covering the head, after the refusals')
      })
  }
]

export const limitCases: readonly HistoryContractCase[] = [
  {
    name: 'a blob or snapshot over maxBlobBytes is refused with ERR_BLOB_TOO_LARGE at the part that crosses it, and nothing of it stays; one of exactly maxBlobBytes is stored',
    run: (open, reopen) =>
      withHistory(open, reopen, { maxBlobBytes: 4096, accountQuotaBytes: 1024 * 1024 }, async ({ history }) => {
        const bytes = blobMaker()
        const u = history.beginUpload(DOC, { account: ACCOUNT, uploader: 'peer-1' })
        await u.addPart(bytes(2048))
        await u.addPart(bytes(2048))
        await rejectsWith(u.addPart(bytes(1)), 'ERR_BLOB_TOO_LARGE', 'the part that takes a blob to 4097 bytes')
        await u.abort()
        same(history.stats(), { docs: 0, bytesStored: 0 }, 'stats() after the refused blob')
        same(await headOf(history, DOC), null, 'meta after the refused blob')
        await rejectsWith(append(history, DOC, bytes(4097), { partSize: 8192 }), 'ERR_BLOB_TOO_LARGE', 'one part of 4097 bytes')
        same((await append(history, DOC, bytes(4096))).seq, 1, 'the seq of a blob of exactly maxBlobBytes')
        await rejectsWith(snapshot(history, DOC, 1, bytes(4097)), 'ERR_BLOB_TOO_LARGE', 'a snapshot of 4097 bytes')
        same(history.stats(), { docs: 1, bytesStored: 4096 }, 'stats() at the end')
        same(await headOf(history, DOC), { head: 1, snapshot: null }, 'meta at the end')
      })
  },
  {
    name: "an upload that would take the doc's account over its quota is refused with ERR_QUOTA_EXCEEDED; the doc's first uploader's account pays, and a snapshot that frees bytes makes room",
    run: (open, reopen) =>
      withHistory(open, reopen, { maxBlobBytes: 10_000, accountQuotaBytes: 5000 }, async ({ history }) => {
        const bytes = blobMaker()
        const a = { account: 'acct-a', uploader: 'peer-a' }
        const b = { account: 'acct-b', uploader: 'peer-b' }
        await append(history, DOC, bytes(3000), a)
        // acct-b's device writes to a doc acct-a opened: acct-a pays
        await append(history, DOC, bytes(1000), b)
        await rejectsWith(append(history, DOC, bytes(1001), a), 'ERR_QUOTA_EXCEEDED', "1001 bytes more to acct-a's 4000 of 5000")
        await rejectsWith(append(history, DOC, bytes(1001), b), 'ERR_QUOTA_EXCEEDED', "1001 bytes more to acct-a's doc from acct-b's device")
        same(history.stats().bytesStored, 4000, 'bytes stored after two refusals')
        // acct-b's own doc has acct-b's quota
        same((await append(history, 'chat:b-doc', bytes(5000), b)).seq, 1, "acct-b's 5000 bytes in its own doc")
        await rejectsWith(append(history, 'chat:b-doc-2', bytes(1), b), 'ERR_QUOTA_EXCEEDED', "one byte more in acct-b's next doc")

        // a snapshot of 500 bytes in place of 4000 frees 3500 of acct-a's
        await snapshot(history, DOC, 2, bytes(500), a)
        same((await append(history, DOC, bytes(4500), b)).seq, 3, "4500 bytes to acct-a's doc, up to the quota exactly")
        await rejectsWith(append(history, DOC, bytes(1), a), 'ERR_QUOTA_EXCEEDED', 'one byte over the quota')
        same(history.stats(), { docs: 2, bytesStored: 500 + 4500 + 5000 }, 'stats() at the end')
      })
  },
  {
    name: 'an account at its quota can still compact: a snapshot is charged only what it adds beyond what it frees',
    run: (open, reopen) =>
      withHistory(open, reopen, { maxBlobBytes: 10_000, accountQuotaBytes: 5000 }, async ({ history }) => {
        const bytes = blobMaker()
        await append(history, DOC, bytes(2500))
        await append(history, DOC, bytes(2500))
        await rejectsWith(append(history, DOC, bytes(1)), 'ERR_QUOTA_EXCEEDED', 'one byte over a full quota')
        // 3000 bytes in place of 5000: accepted at a full quota
        await snapshot(history, DOC, 2, bytes(3000))
        same(history.stats().bytesStored, 3000, 'bytes stored after the snapshot')
        same((await append(history, DOC, bytes(2000))).seq, 3, 'an append up to the quota again')
        // a snapshot through seq 3 frees 3000 + 2000: 5001 bytes would leave the account one over
        await rejectsWith(snapshot(history, DOC, 3, bytes(5001)), 'ERR_QUOTA_EXCEEDED', 'a snapshot one byte larger than what it frees, at a full quota')
        await snapshot(history, DOC, 3, bytes(5000))
        same(history.stats().bytesStored, 5000, 'bytes stored after a snapshot as large as what it freed')
      })
  }
]
