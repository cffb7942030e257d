// The relay's storage contracts (src/testing) run against the level implementations: on
// disk (level, which is classic-level on Node), in memory (memory-level), and on a store
// whose every restart is a crash (CrashableStore: nothing flushed or closed first).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KeyValueStore } from '@tandem/storage'
import { CrashableStore, Disk } from '@tandem/storage/testing'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, it } from 'vitest'
import type { AccessRecords } from '../src/access/access-records.js'
import { LevelAccessRecords } from '../src/access/level-access-records.js'
import type { HistoryBackend, HistoryLimits } from '../src/history/backend.js'
import { HistoryStore } from '../src/history/history-store.js'
import { accessRecordsContractCases, historyContractCases } from '../src/testing/index.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Where a store's data lives, so a restart can open it again. */
interface Medium {
  name: string
  /** A new, empty store. */
  create(): Promise<KeyValueStore>
  /** The same data after a restart: `previous` is closed first, or crashed when `crash` is set. */
  again(previous: KeyValueStore): Promise<KeyValueStore>
  /** A restart kills the process: nothing is closed or flushed first. */
  crash?: boolean
}

const memoryDb = (): MemoryLevel<string, Uint8Array> => new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
const diskDb = (dir: string): Level<string, Uint8Array> => new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
const disks = new WeakMap<KeyValueStore, Disk>()

const media: Medium[] = [
  {
    name: 'level on disk (classic-level, fsynced)',
    create: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-history-contract-'))
      cleanups.push(() => rm(dir, { recursive: true, force: true }))
      return diskDb(dir)
    },
    again: async previous => diskDb((previous as Level<string, Uint8Array>).location)
  },
  {
    // memory-level keeps its data on the instance across close() and open(): a restart of
    // the store, not of the process
    name: 'memory-level',
    create: async () => memoryDb(),
    again: async previous => previous
  },
  {
    name: 'memory-level behind a CrashableStore, every restart a crash',
    create: async () => {
      const disk = new Disk(memoryDb())
      const store = new CrashableStore(disk)
      disks.set(store, disk)
      return store
    },
    again: async previous => {
      ;(previous as CrashableStore).crash()
      const disk = disks.get(previous)!
      const store = new CrashableStore(disk)
      disks.set(store, disk)
      return store
    },
    crash: true
  }
]

/** Every store a case opened, closed at the end whatever the case did (a closed level store closes again as a no-op). */
function closeAtEnd(db: KeyValueStore): void {
  cleanups.push(() => db.close())
}

for (const medium of media) {
  describe(`HistoryBackend contract: HistoryStore on ${medium.name}`, () => {
    const dbs = new WeakMap<HistoryBackend, { db: KeyValueStore; limits: HistoryLimits }>()
    const open = async (limits: HistoryLimits, db: KeyValueStore): Promise<HistoryBackend> => {
      closeAtEnd(db)
      const history = await HistoryStore.open(db, limits) // sync on (the default): an ack waits for fsync
      dbs.set(history, { db, limits })
      return history
    }
    const reopen = async (history: HistoryBackend): Promise<HistoryBackend> => {
      const { db, limits } = dbs.get(history)!
      if (medium.crash !== true) await history.close()
      return await open(limits, await medium.again(db))
    }
    for (const c of historyContractCases) {
      it(c.name, async () => {
        await c.run(async limits => open(limits, await medium.create()), reopen)
      })
    }
  })

  describe(`AccessRecords contract: LevelAccessRecords beside a HistoryStore on ${medium.name}`, () => {
    // as the relay runs them: the records in the history's database, opened after it
    const histories = new WeakMap<AccessRecords, { db: KeyValueStore; history: HistoryStore }>()
    const open = async (db: KeyValueStore): Promise<AccessRecords> => {
      closeAtEnd(db)
      const history = await HistoryStore.open(db, { maxBlobBytes: 1024, accountQuotaBytes: 1024 })
      const records = await LevelAccessRecords.open(db)
      histories.set(records, { db, history })
      return records
    }
    const reopen = async (records: AccessRecords): Promise<AccessRecords> => {
      const { db, history } = histories.get(records)!
      if (medium.crash !== true) {
        await records.close()
        await history.close()
      }
      return await open(await medium.again(db))
    }
    for (const c of accessRecordsContractCases) {
      it(c.name, async () => {
        await c.run(async () => open(await medium.create()), reopen)
      })
    }
  })
}
