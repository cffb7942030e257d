// The history contract: the log itself — numbering, reads from a cursor, uploads, dedupe,
// concurrency, commit notices.
import type { LogEntry } from '../history/records.js'
import { check, rejects, same, sameBytes } from './checks.js'
import {
  ACCOUNT,
  LIMITS,
  append,
  blobMaker,
  headOf,
  join,
  readBlob,
  readLog,
  served,
  snapshot,
  split,
  withHistory,
  type HistoryContractCase,
  type HistorySession
} from './history-driver.js'

const DOC = 'chat:contract'
const KIB = 1024
const sum = (ns: readonly number[]): number => ns.reduce((a, b) => a + b, 0)
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)

/** What a subscriber sees of a doc: its log, head, backlog and the counts; none of it may move while nothing commits. */
async function observe({ history }: HistorySession, docId: string): Promise<unknown> {
  return { log: (await readLog(history, docId)).map(served), head: await headOf(history, docId), backlog: await history.backlog(docId, 0), stats: history.stats() }
}

export const logCases: readonly HistoryContractCase[] = [
  {
    name: 'appends to a doc are numbered 1, 2, 3… and read back byte-identical, whatever their size and number of parts',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        // an empty blob (one empty part), one byte, a few parts, and more than a backend may keep in memory
        const blobs = [new Uint8Array(0), bytes(1), bytes(3000), bytes(300 * KIB)]
        const partSizes = [KIB, KIB, KIB, 64 * KIB]
        const uploaders = ['peer-1', 'peer-2', 'peer-1', 'peer-2']
        const keys: string[] = []
        const results = []
        for (const [i, blob] of blobs.entries()) {
          const u = history.beginUpload(DOC, { account: ACCOUNT, uploader: uploaders[i]! })
          keys.push(u.key)
          for (const part of split(blob, partSizes[i]!)) await u.addPart(part)
          results.push(await u.commit())
        }
        const sizes = blobs.map(b => b.byteLength)
        same(
          results,
          sizes.map((_, i) => ({ seq: i + 1, duplicate: false, sinceSnapshot: i + 1, tailBytes: sum(sizes.slice(0, i + 1)), snapshotBytes: 0 })),
          'the commit results'
        )
        check(new Set(keys).size === keys.length, `upload keys repeat: ${keys.join(', ')}`)
        const log = await readLog(history, DOC)
        same(
          log.map(served),
          blobs.map((b, i) => ({ seq: i + 1, upload: keys[i], parts: split(b, partSizes[i]!).length, size: b.byteLength, uploader: uploaders[i] })),
          'the log entries (an entry names the upload that stored it and the device that sent it)'
        )
        for (const [i, e] of log.entries()) sameBytes(await readBlob(history, e.upload, e.parts), blobs[i]!, `blob ${e.seq} read back`)
        same(await headOf(history, DOC), { head: 4, snapshot: null }, 'the doc after four appends')
        same(history.stats(), { docs: 1, bytesStored: sum(sizes) }, 'stats()')
      })
  },
  {
    name: 'nothing of an upload is visible before its commit, and an aborted one leaves nothing, not even a part it was adding',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async session => {
        const { history } = session
        const bytes = blobMaker()
        await append(history, DOC, bytes(100))
        const before = await observe(session, DOC)
        const u = history.beginUpload(DOC, { account: ACCOUNT, uploader: 'peer-1' })
        const added: Uint8Array[] = []
        for (const part of split(bytes(300 * KIB), 64 * KIB)) {
          await u.addPart(part)
          added.push(part)
          if (u.buffered !== null) sameBytes(join(u.buffered), join(added), `the parts an upload holds in memory after ${added.length}`)
          same(await observe(session, DOC), before, `the doc with ${added.length} parts of an append uploaded`)
        }
        const snap = history.beginUpload(DOC, { account: ACCOUNT, uploader: 'peer-1', covers: 1 })
        await snap.addPart(bytes(50))
        same(await observe(session, DOC), before, 'the doc with a snapshot uploaded')
        await u.abort()
        await snap.abort()
        same(await observe(session, DOC), before, 'the doc after both uploads were aborted')

        const racing = history.beginUpload('chat:never', { account: ACCOUNT, uploader: 'peer-1' })
        const adding = racing.addPart(bytes(2000))
        await racing.abort()
        await adding.catch(() => {}) // taken or refused: either way nothing of it may stay
        await rejects(racing.addPart(bytes(10)), 'a part added to an aborted upload')
        same(await headOf(history, 'chat:never'), null, 'a doc whose only upload was aborted')
        same(history.stats(), (before as { stats: unknown }).stats, 'stats() after the aborted uploads')
        same((await append(history, DOC, bytes(10))).seq, 2, 'the seq of the next append')
      })
  },
  {
    name: 'a read from any cursor gives exactly what follows it, at most `limit` at a time; what memory serves is what is stored',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        const sizes = [10, 2000, 30, 400, 5, 60_000, 7]
        const blobs = sizes.map(bytes)
        for (const b of blobs) await append(history, DOC, b)
        const log = await readLog(history, DOC)
        const head = sizes.length
        for (let after = 0; after <= head + 2; after++) {
          for (const limit of [1, 3, 64]) {
            const want = range(after + 1, Math.min(head, after + limit))
            same(
              (await history.entriesAfter(DOC, after, limit)).map(e => e.seq),
              want,
              `entriesAfter(${after}, ${limit})`
            )
            const cached = history.tailAfter(DOC, after, limit)
            if (cached === undefined) continue // memory does not hold them all: the caller reads the store
            same(
              cached.map(c => served(c.entry)),
              log.filter(e => want.includes(e.seq)).map(served),
              `tailAfter(${after}, ${limit})`
            )
            for (const c of cached) sameBytes(join(c.chunks), blobs[c.entry.seq - 1]!, `the bytes tailAfter holds for seq ${c.entry.seq}`)
          }
          same(await history.backlog(DOC, after), { head, entries: Math.max(0, head - after), bytes: sum(sizes.slice(after)), snapshot: null }, `backlog from ${after}`)
        }
        for (const e of log) same(await history.readPart(e.upload, e.parts), undefined, `part ${e.parts} of seq ${e.seq}, one past its last`)
        same(await history.readPart('no-such-upload', 0), undefined, 'a part of an upload never made')

        // an unknown doc is empty, not an error
        same(await history.entriesAfter('chat:unknown', 0, 10), [], 'entriesAfter of an unknown doc')
        same(await history.backlog('chat:unknown', 0), { head: 0, entries: 0, bytes: 0, snapshot: null }, 'backlog of an unknown doc')
        same(await headOf(history, 'chat:unknown'), null, 'meta of an unknown doc')
        check((history.tailAfter('chat:unknown', 0, 10)?.length ?? 0) === 0, 'tailAfter of an unknown doc held entries')

        // a long log read page by page, as a subscriber's pump does (64 a step)
        const paged = 'chat:paged'
        await Promise.all(range(1, 150).map(() => append(history, paged, bytes(16))))
        const seen: number[] = []
        for (let page = await history.entriesAfter(paged, 0, 64); page.length > 0; page = await history.entriesAfter(paged, seen.at(-1)!, 64)) {
          check(page.length <= 64, `a page of ${page.length} entries, limit 64`)
          seen.push(...page.map(e => e.seq))
        }
        same(seen, range(1, 150), 'the seqs read page by page')
      })
  },
  {
    name: "each doc's log holds only its own entries, even when one doc id extends another",
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        // ids whose keys a prefix-ordered store sorts inside chat:x's range ('!' is a common separator)
        const ids = ['chat:x', `chat:x!${'0'.repeat(13)}1`, 'chat:x!', 'chat:x:y', 'chat:xy']
        const sizes = new Map(ids.map(id => [id, [] as number[]]))
        for (let round = 0; round < 3; round++) {
          for (const [i, id] of ids.entries()) {
            const size = 10 * (i + 1) + round
            await append(history, id, bytes(size))
            sizes.get(id)!.push(size)
          }
        }
        const logs = async (): Promise<unknown> => Promise.all(ids.map(async id => (await readLog(history, id)).map(e => [e.seq, e.size])))
        same(
          await logs(),
          ids.map(id => sizes.get(id)!.map((size, i) => [i + 1, size])),
          'the logs of the five docs'
        )
        // a snapshot of one doc drops nothing of the others
        await append(history, 'chat:x', bytes(1))
        const { snapshotBytes } = await snapshot(history, 'chat:x', 3, bytes(5))
        same(snapshotBytes, 5, 'the snapshot of chat:x')
        same(
          (await readLog(history, 'chat:x')).map(e => e.seq),
          [4],
          'chat:x after its snapshot'
        )
        same(
          await logs(),
          ids.map(id => (id === 'chat:x' ? [[4, 1]] : sizes.get(id)!.map((size, i) => [i + 1, size]))),
          'the logs after a snapshot of chat:x'
        )
        same(history.stats().docs, ids.length, 'docs in stats()')
      })
  },
  {
    name: "concurrent appends to different docs each get the doc's next seq, and racing commits to one doc get distinct consecutive seqs",
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        const docs = range(0, 7).map(i => `chat:c${i}`)
        const blobs = docs.map(() => range(0, 5).map(j => bytes(100 + 37 * j)))
        await Promise.all(
          docs.map(async (docId, i) => {
            for (const b of blobs[i]!) await append(history, docId, b)
          })
        )
        for (const [i, docId] of docs.entries()) {
          const log = await readLog(history, docId)
          same(
            log.map(e => e.seq),
            range(1, 6),
            `the seqs of ${docId}`
          )
          for (const [j, e] of log.entries()) sameBytes(await readBlob(history, e.upload, e.parts), blobs[i]![j]!, `${docId} seq ${e.seq}`)
        }

        // ten uploads to one doc whose commits are all called at once
        const uploads = await Promise.all(
          range(0, 9).map(async k => {
            const blob = bytes(200 + k)
            const u = history.beginUpload('chat:race', { account: ACCOUNT, uploader: `peer-${k}` })
            for (const part of split(blob, 64)) await u.addPart(part)
            return { u, blob }
          })
        )
        const results = await Promise.all(uploads.map(({ u }) => u.commit()))
        same(
          results.map(r => r.seq).sort((a, b) => a - b),
          range(1, 10),
          'the seqs of ten racing commits'
        )
        const log = await readLog(history, 'chat:race')
        for (const [k, { u, blob }] of uploads.entries()) {
          const entry = log.find(e => e.seq === results[k]!.seq)
          if (entry?.upload !== u.key) throw new Error(`seq ${results[k]!.seq} names upload ${entry?.upload}, not ${u.key} whose commit returned it`)
          sameBytes(await readBlob(history, entry.upload, entry.parts), blob, `the blob at seq ${entry.seq}`)
        }
        same(history.stats().docs, docs.length + 1, 'docs in stats()')
      })
  },
  {
    name: 'a retried append (the same bytes, cut into parts any way) gets the earlier seq and stores nothing more, also when the retries race',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async session => {
        const { history } = session
        const bytes = blobMaker()
        const b = bytes(2500)
        const first = await append(history, DOC, b)
        await append(history, DOC, bytes(5))
        const before = await observe(session, DOC)
        same(await append(history, DOC, b, { partSize: 700 }), { seq: first.seq, duplicate: true, sinceSnapshot: 2, tailBytes: 2505, snapshotBytes: 0 }, 'a retry of seq 1')
        same(await observe(session, DOC), before, 'the doc after the retry')

        const c = bytes(4000)
        const other = bytes(100)
        const results = await Promise.all([
          append(history, DOC, c),
          append(history, DOC, c, { partSize: 333 }),
          append(history, DOC, other),
          append(history, DOC, c, { partSize: 4000 })
        ])
        const ofC = [results[0]!, results[1]!, results[3]!]
        same(
          ofC.map(r => r.seq),
          ofC.map(() => ofC[0]!.seq),
          'the seqs of three racing copies of one blob'
        )
        same(ofC.filter(r => !r.duplicate).length, 1, 'copies stored of three racing copies')
        same([ofC[0]!.seq, results[2]!.seq].sort(), [3, 4], 'the seqs of the racing blob and the other one')
        same(history.stats().bytesStored, 2505 + 4100, 'bytes stored')
        same((await readLog(history, DOC)).length, 4, 'entries in the log')
        // the same bytes in another doc are another blob
        same(await append(history, 'chat:other', b), { seq: 1, duplicate: false, sinceSnapshot: 1, tailBytes: 2500, snapshotBytes: 0 }, 'the same bytes in another doc')
      })
  },
  {
    name: 'onCommit tells each new seq once, in order per doc, readable and before its commit resolves; never a retry or a snapshot, nothing after unsubscribing',
    run: (open, reopen) =>
      withHistory(open, reopen, LIMITS, async ({ history }) => {
        const bytes = blobMaker()
        const told: Array<[string, number]> = []
        const reads: Array<Promise<LogEntry[]>> = []
        const off = history.onCommit((docId, seq) => {
          told.push([docId, seq])
          reads.push(history.entriesAfter(docId, seq - 1, 1)) // started at once: the entry must already be readable
        })
        let alsoTold = 0
        const offOther = history.onCommit(() => {
          alsoTold++
        })
        const x = bytes(10)
        await Promise.all([append(history, 'chat:a', x), append(history, 'chat:a', bytes(20)), append(history, 'chat:b', bytes(30)), append(history, 'chat:a', bytes(40))])
        const last = await append(history, 'chat:a', bytes(50))
        check(
          told.some(([d, s]) => d === 'chat:a' && s === last.seq),
          `seq ${last.seq} was not told by the time its commit resolved`
        )
        same(
          told.filter(([d]) => d === 'chat:a').map(([, s]) => s),
          [1, 2, 3, 4],
          'the seqs of chat:a told, in order'
        )
        same(
          told.filter(([d]) => d === 'chat:b').map(([, s]) => s),
          [1],
          'the seqs of chat:b told'
        )
        const read = await Promise.all(reads)
        for (const [i, [docId, seq]] of told.entries()) same(read[i]![0]?.seq, seq, `the entry read when ${docId} seq ${seq} was told`)

        await append(history, 'chat:a', x) // a retry
        await snapshot(history, 'chat:a', 2, bytes(60))
        same(told.length, 5, 'notices after a retry and a snapshot')
        off()
        await append(history, 'chat:a', bytes(70))
        same(told.length, 5, 'notices after unsubscribing')
        same(alsoTold, 6, 'notices to the listener still subscribed')
        offOther()
      })
  }
]
