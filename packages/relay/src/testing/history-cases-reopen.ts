// The history contract across a restart: what was acknowledged stays, what was not leaves nothing.
import { rejectsWith, same, sameBytes } from './checks.js'
import { append, blobMaker, headOf, readBlob, readLog, served, snapshot, split, withHistory, type HistoryContractCase } from './history-driver.js'

const DOC = 'chat:contract'
const KIB = 1024
/** Small enough that a case can fill it, large enough for blobs a backend writes to disk before their commit. */
const LIMITS = { maxBlobBytes: 512 * KIB, accountQuotaBytes: 400 * KIB }

export const reopenCases: readonly HistoryContractCase[] = [
  {
    name: 'what was acknowledged is there after a restart: the logs, the snapshot, the counts, quota use and retries; numbering goes on from the head',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async session => {
        const bytes = blobMaker()
        const blobs = [bytes(100), bytes(200), bytes(300 * KIB), bytes(400)]
        for (const b of blobs) await append(session.history, DOC, b, { partSize: 64 * KIB })
        await append(session.history, 'account:acct-a', bytes(50))
        const snap = bytes(250)
        await snapshot(session.history, DOC, 2, snap)
        const state = async (): Promise<unknown> => {
          const h = session.history
          return {
            head: await headOf(h, DOC),
            log: (await readLog(h, DOC)).map(served),
            account: (await readLog(h, 'account:acct-a')).map(served),
            stats: h.stats(),
            backlogs: await Promise.all([0, 2, 3, 4].map(async since => ({ ...(await h.backlog(DOC, since)), snapshot: null })))
          }
        }
        const before = await state()

        const history = await session.reopen()
        same(await state(), before, 'the history after a restart')
        const log = await readLog(history, DOC)
        sameBytes(await readBlob(history, log[0]!.upload, log[0]!.parts), blobs[2]!, 'seq 3 after a restart')
        sameBytes(await readBlob(history, log[1]!.upload, log[1]!.parts), blobs[3]!, 'seq 4 after a restart')
        const held = (await headOf(history, DOC))!.snapshot!
        sameBytes(await readBlob(history, held.upload, held.parts), snap, 'the snapshot after a restart')

        // a retry of a blob acknowledged before the restart is still recognised
        same(await append(history, DOC, blobs[3]!), { seq: 4, duplicate: true, sinceSnapshot: 2, tailBytes: 300 * KIB + 400, snapshotBytes: 250 }, 'a retry of seq 4')
        same((await append(history, DOC, bytes(10))).seq, 5, 'the seq of the first append after a restart')
        // and the quota still counts what was stored before it
        const room = LIMITS.accountQuotaBytes - history.stats().bytesStored
        await rejectsWith(append(history, 'chat:more', bytes(room + 1), { partSize: 64 * KIB }), 'ERR_QUOTA_EXCEEDED', `${room + 1} bytes, one more than the quota has room for`)
        same((await append(history, 'chat:more', bytes(room), { partSize: 64 * KIB })).seq, 1, `${room} bytes, what the quota has room for`)
      })
  },
  {
    name: 'an upload still open at a restart leaves nothing: not in the log, not in the counts, not in the quota',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async session => {
        const bytes = blobMaker()
        const kept = bytes(1000)
        await append(session.history, DOC, kept)
        const stats = session.history.stats()
        // a large append and a large snapshot (a backend may hold their parts on disk already) and a small append
        const big = session.history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
        for (const part of split(bytes(300 * KIB), 64 * KIB)) await big.addPart(part)
        const snap = session.history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1', covers: 1 })
        for (const part of split(bytes(200 * KIB), 64 * KIB)) await snap.addPart(part)
        const small = session.history.beginUpload(DOC, { account: 'acct-a', uploader: 'peer-1' })
        await small.addPart(bytes(10))

        const history = await session.reopen()
        same(history.stats(), stats, 'stats() after a restart with three uploads open')
        same(await headOf(history, DOC), { head: 1, snapshot: null }, 'meta after a restart with three uploads open')
        const log = await readLog(history, DOC)
        same(
          log.map(e => e.seq),
          [1],
          'the log after a restart with three uploads open'
        )
        sameBytes(await readBlob(history, log[0]!.upload, log[0]!.parts), kept, 'seq 1 after the restart')
        // none of them was charged: the rest of the quota is all there
        const room = LIMITS.accountQuotaBytes - 1000
        await rejectsWith(append(history, DOC, bytes(room + 1), { partSize: 64 * KIB }), 'ERR_QUOTA_EXCEEDED', `${room + 1} bytes, one more than the quota has room for`)
        same((await append(history, DOC, bytes(room), { partSize: 64 * KIB })).seq, 2, `${room} bytes, what the quota has room for`)
      })
  }
]
