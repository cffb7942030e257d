import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import type { KeyValueStore } from '../src/index.js'
import { CrashableStore, Disk, KV_CASE_NOT_ALIASED, kvContractCases, type OpenStore, type ReopenStore } from '../src/testing/index.js'

interface Implementation {
  name: string
  open: OpenStore
  reopen: ReopenStore
  /** Cases this implementation is known to fail, and why: run as expected failures, so a fix shows. */
  deviations?: Record<string, string>
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const memory = (): MemoryLevel<string, Uint8Array> => new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })

const implementations: Implementation[] = [
  {
    name: 'memory-level',
    open: async () => {
      const db = memory()
      await db.open()
      return db
    },
    // memory-level keeps its data on the instance across close() and open(): this shows no
    // more than that, there is no disk to survive a restart of the process
    reopen: async db => {
      await db.close()
      await db.open()
      return db
    },
    deviations: {
      [KV_CASE_NOT_ALIASED]:
        "memory-level stores the caller's Uint8Array itself and hands that same memory back from get() and iterator(): " +
        'a test on memory-level sees a reused or mutated buffer where classic-level and browser-level have a copy'
    }
  },
  {
    name: 'classic-level in a fresh directory',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-kv-'))
      cleanups.push(async () => {
        await rm(dir, { recursive: true, force: true })
      })
      const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
      await db.open()
      return db
    },
    // a restart: a new handle on the same directory
    reopen: async db => {
      await db.close()
      const again = new ClassicLevel<string, Uint8Array>((db as ClassicLevel<string, Uint8Array>).location, { keyEncoding: 'utf8', valueEncoding: 'view' })
      await again.open()
      return again
    }
  },
  {
    // the simulator's store, batches landing as they are made
    name: 'CrashableStore over memory-level',
    open: async () => await crashable(new Disk(memory())),
    // a new process on the same disk
    reopen: async db => {
      await db.close()
      return await crashable(disks.get(db)!)
    }
  }
]

const disks = new WeakMap<KeyValueStore, Disk>()
async function crashable(disk: Disk): Promise<CrashableStore> {
  const db = new CrashableStore(disk)
  disks.set(db, disk)
  await db.open()
  return db
}

for (const impl of implementations) {
  describe(`KeyValueStore contract: ${impl.name}`, () => {
    for (const c of kvContractCases) {
      const why = impl.deviations?.[c.name]
      if (why === undefined)
        it(c.name, async () => {
          await c.run(impl.open, impl.reopen)
        })
      else
        it.fails(`${c.name} (known deviation: ${why})`, async () => {
          await c.run(impl.open, impl.reopen)
        })
    }
  })
}

it('every known deviation names a case of the contract', () => {
  const names = new Set(kvContractCases.map(c => c.name))
  for (const impl of implementations) for (const name of Object.keys(impl.deviations ?? {})) expect(names).toContain(name)
})
