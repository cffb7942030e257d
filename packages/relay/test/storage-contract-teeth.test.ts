// The storage contracts have teeth: each backend below breaks one promise, and the case
// about that promise must fail on it (while the level backends pass every case:
// history-conformance.test.ts).
import { headOfLinks, sameHead, type ChainHead, type ChainLink, type DeviceActivity, type SignedMembership } from '@tandem/protocol'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import type { AccessRecords } from '../src/access/access-records.js'
import type { HistoryBackend, HistoryLimits } from '../src/history/backend.js'
import { HistoryStore } from '../src/history/history-store.js'
import { accessRecordsContractCases, historyContractCases, type OpenHistory, type ReopenHistory } from '../src/testing/index.js'

const memoryDb = (): MemoryLevel<string, Uint8Array> => new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })

/** The one case whose name starts with `prefix`. */
function caseNamed<C extends { name: string }>(cases: readonly C[], prefix: string): C {
  const found = cases.filter(c => c.name.startsWith(prefix))
  expect(found.map(c => c.name)).toHaveLength(1)
  return found[0]!
}

interface Flaws {
  /** Members replaced. */
  change?: (h: HistoryBackend) => Partial<HistoryBackend>
  /** The limits it really enforces, given those it was asked for. */
  limits?: (l: HistoryLimits) => HistoryLimits
  /** A restart opens a new, empty store. */
  forgets?: boolean
}

/** A HistoryStore on memory-level with some flaws. */
function brokenHistory({ change = () => ({}), limits = l => l, forgets = false }: Flaws): { open: OpenHistory; reopen: ReopenHistory } {
  const dbs = new WeakMap<HistoryBackend, { db: MemoryLevel<string, Uint8Array>; limits: HistoryLimits }>()
  const open = async (l: HistoryLimits, db = memoryDb()): Promise<HistoryBackend> => {
    const h = await HistoryStore.open(db, limits(l))
    const broken: HistoryBackend = {
      beginUpload: (docId, init) => h.beginUpload(docId, init),
      meta: docId => h.meta(docId),
      backlog: (docId, since) => h.backlog(docId, since),
      entriesAfter: (docId, after, limit) => h.entriesAfter(docId, after, limit),
      tailAfter: (docId, after, limit) => h.tailAfter(docId, after, limit),
      readPart: (upload, n) => h.readPart(upload, n),
      onCommit: listener => h.onCommit(listener),
      stats: () => h.stats(),
      close: () => h.close(),
      ...change(h)
    }
    dbs.set(broken, { db, limits: l })
    return broken
  }
  const reopen = async (h: HistoryBackend): Promise<HistoryBackend> => {
    const { db, limits: l } = dbs.get(h)!
    await h.close()
    return await open(l, forgets ? memoryDb() : db)
  }
  return { open, reopen }
}

const historyMutants: Array<{ breaks: string; failsCase: string; because: RegExp; backend: { open: OpenHistory; reopen: ReopenHistory } }> = [
  {
    breaks: 'a restart starts from an empty store',
    failsCase: 'what was acknowledged is there after a restart',
    because: /the history after a restart/,
    backend: brokenHistory({ forgets: true })
  },
  {
    breaks: 'entriesAfter ignores its limit',
    failsCase: 'a read from any cursor',
    because: /entriesAfter\(0, 1\)/,
    backend: brokenHistory({ change: h => ({ entriesAfter: (docId, after) => h.entriesAfter(docId, after, Number.MAX_SAFE_INTEGER) }) })
  },
  {
    breaks: 'tailAfter serves zeros for the bytes it holds',
    failsCase: 'a read from any cursor',
    because: /the bytes tailAfter holds/,
    backend: brokenHistory({
      change: h => ({ tailAfter: (docId, after, limit) => h.tailAfter(docId, after, limit)?.map(c => ({ entry: c.entry, chunks: [new Uint8Array(c.entry.size)] })) })
    })
  },
  {
    breaks: 'an aborted upload is committed',
    failsCase: 'nothing of an upload is visible before its commit',
    because: /after both uploads were aborted/,
    backend: brokenHistory({
      change: h => ({
        beginUpload: (docId, init) => {
          const u = h.beginUpload(docId, init)
          const abort = async (): Promise<void> => {
            await u.commit().catch(() => u.abort())
          }
          return { key: u.key, buffered: u.buffered, addPart: c => u.addPart(c), commit: () => u.commit(), abort }
        }
      })
    })
  },
  {
    breaks: 'a retry is reported as new',
    failsCase: 'a retried append',
    because: /a retry of seq 1/,
    backend: brokenHistory({
      change: h => ({
        beginUpload: (docId, init) => {
          const u = h.beginUpload(docId, init)
          return { key: u.key, buffered: u.buffered, addPart: c => u.addPart(c), commit: async () => ({ ...(await u.commit()), duplicate: false }), abort: () => u.abort() }
        }
      })
    })
  },
  { breaks: 'onCommit never tells', failsCase: 'onCommit tells each new seq', because: /was not told/, backend: brokenHistory({ change: () => ({ onCommit: () => () => {} }) }) },
  {
    breaks: 'stats() never move',
    failsCase: 'appends to a doc are numbered',
    because: /stats\(\)/,
    backend: brokenHistory({ change: () => ({ stats: () => ({ docs: 0, bytesStored: 0 }) }) })
  },
  {
    breaks: 'no blob is too large',
    failsCase: 'a blob or snapshot over maxBlobBytes',
    because: /not refused with ERR_BLOB_TOO_LARGE/,
    backend: brokenHistory({ limits: l => ({ ...l, maxBlobBytes: Number.MAX_SAFE_INTEGER }) })
  },
  {
    breaks: 'no quota',
    failsCase: 'an upload that would take',
    because: /not refused with ERR_QUOTA_EXCEEDED/,
    backend: brokenHistory({ limits: l => ({ ...l, accountQuotaBytes: Number.MAX_SAFE_INTEGER }) })
  }
]

describe('the history contract fails a backend that', () => {
  for (const m of historyMutants) {
    it(`${m.breaks} (case: "${m.failsCase}…")`, async () => {
      await expect(caseNamed(historyContractCases, m.failsCase).run(m.backend.open, m.backend.reopen)).rejects.toThrow(m.because)
    })
  }
})

/**
 * Access records in Maps: `forget` drops them at a restart; `firstWins` ignores replacements;
 * `oneNamespace` keys memberships and activity by id alone; `ignoresHead` appends whatever
 * head an append expects; `closeTakesPuts` stores after close(); `stillNamed` lists a doc for
 * every account any of its records ever named.
 */
class MapRecords implements AccessRecords {
  private closed = false
  private dead = false
  constructor(
    readonly data: Map<string, unknown>,
    private readonly flaw: 'forget' | 'firstWins' | 'oneNamespace' | 'closeTakesPuts' | 'ignoresHead' | 'stillNamed'
  ) {}
  private key(kind: string, id: string): string {
    return this.flaw === 'oneNamespace' && kind !== 'chain' ? id : `${kind}!${id}`
  }
  private async put(key: string, value: unknown): Promise<void> {
    if (this.closed && this.flaw !== 'closeTakesPuts') throw new Error('closed')
    if (this.flaw === 'firstWins' && this.data.has(key)) return
    this.data.set(key, value)
  }
  async chain(accountId: string): Promise<ChainLink[] | null> {
    return (this.data.get(this.key('chain', accountId)) as ChainLink[] | undefined) ?? null
  }
  async appendLinks(accountId: string, links: readonly ChainLink[], expectedHead: ChainHead | null): Promise<boolean> {
    if (this.closed && this.flaw !== 'closeTakesPuts') throw new Error('closed')
    await new Promise(resolve => setImmediate(resolve)) // racing appends all get here before any lands
    if (this.dead) return await new Promise<boolean>(() => {}) // restarted meanwhile: lost with the process
    // from the read to the write nothing yields: the compare-and-set is atomic, unless the flaw skips the compare
    const held = (this.data.get(this.key('chain', accountId)) as ChainLink[] | undefined) ?? []
    const head = headOfLinks(held)
    if (this.flaw !== 'ignoresHead' && (head === null ? expectedHead !== null : !sameHead(head, expectedHead))) return false
    this.data.set(this.key('chain', accountId), [...held, ...links])
    return true
  }
  async membership(docId: string): Promise<SignedMembership | null> {
    return (this.data.get(this.key('membership', docId)) as SignedMembership | undefined) ?? null
  }
  putMembership(record: SignedMembership, dropped: readonly string[] = []): Promise<void> {
    for (const m of record.members) this.named.set(record.docId, (this.named.get(record.docId) ?? new Set()).add(m))
    for (const m of dropped) this.data.set(`removed!${m}!${record.docId}`, record)
    return this.put(this.key('membership', record.docId), record)
  }
  async membershipsNaming(accountId: string): Promise<string[]> {
    const out: string[] = []
    for (const [key, value] of this.data) {
      // the flaw 'stillNamed': a record that named the account once still counts after one dropped it
      const record = value as SignedMembership
      if (!key.startsWith(this.key('membership', ''))) continue
      if (this.flaw === 'stillNamed' ? this.named.get(record.docId)?.has(accountId) : record.members.includes(accountId)) out.push(record.docId)
    }
    return out
  }
  async removalsOf(accountId: string): Promise<SignedMembership[]> {
    const prefix = `removed!${accountId}!`
    return [...this.data].filter(([key]) => key.startsWith(prefix)).map(([, value]) => value as SignedMembership)
  }
  private readonly named = new Map<string, Set<string>>()
  async deviceActivity(accountId: string): Promise<DeviceActivity[]> {
    return (this.data.get(this.key('activity', accountId)) as DeviceActivity[] | undefined) ?? []
  }
  putDeviceActivity(accountId: string, devices: readonly DeviceActivity[]): Promise<void> {
    return this.put(this.key('activity', accountId), [...devices])
  }
  async close(): Promise<void> {
    this.closed = true
  }
  restarted(): MapRecords {
    this.dead = true
    return new MapRecords(this.flaw === 'forget' ? new Map() : this.data, this.flaw)
  }
}

describe('the access records contract fails a store that', () => {
  const mutants = [
    { breaks: 'lists a doc for an account a later record dropped', flaw: 'stillNamed', failsCase: 'membershipsNaming lists', because: /once a record dropped him/ },
    { breaks: 'forgets its records at a restart', flaw: 'forget', failsCase: 'what an append, a put resolved for', because: /after a restart/ },
    { breaks: 'keeps the first record put', flaw: 'firstWins', failsCase: 'puts of one record apply in the order', because: /racing puts/ },
    { breaks: 'keeps memberships and device activity under one id', flaw: 'oneNamespace', failsCase: 'memberships are per doc', because: /stored under its id/ },
    { breaks: 'takes puts after close()', flaw: 'closeTakesPuts', failsCase: 'every put and append made before close()', because: /a put after close\(\)/ },
    { breaks: 'appends on any head (no compare-and-set)', flaw: 'ignoresHead', failsCase: 'of appends racing on one head', because: /appends that landed of 5 on one head/ },
    {
      breaks: 'appends on any head (no compare-and-set), one at a time',
      flaw: 'ignoresHead',
      failsCase: 'a chain grows only on the head',
      because: /expecting the head at link 1: stored/
    }
  ] as const
  for (const m of mutants) {
    it(`${m.breaks} (case: "${m.failsCase}…")`, async () => {
      const run = caseNamed(accessRecordsContractCases, m.failsCase).run(
        async () => new MapRecords(new Map(), m.flaw),
        async records => (records as MapRecords).restarted()
      )
      await expect(run).rejects.toThrow(m.because)
    })
  }

  it('passes every case when it has no flaw but the one a case does not look at (the cases fail for their flaw only)', async () => {
    // a store whose only flaw is taking puts after close() passes every other case: the mutants above fail for what they break
    const others = accessRecordsContractCases.filter(c => !c.name.startsWith('every put and append made before close()'))
    for (const c of others)
      await c.run(
        async () => new MapRecords(new Map(), 'closeTakesPuts'),
        async records => (records as MapRecords).restarted()
      )
  })
})
