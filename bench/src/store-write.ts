import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEngine } from '@tandem/engine'
import { Level } from 'level'
import { medianOf } from './stats.js'
import { messageText } from './text.js'

export interface StoreWriteResult {
  sequentialFsyncPerSec: number
  concurrentFsyncPerSec: number
  concurrentNoFsyncPerSec: number
  levelAwaitedPutsPerSec: number
}

/** The level-only baseline's value (the engine runs write the workload's texts, `messageText`). */
const text = 'x'.repeat(100)

async function withEngine(sync: boolean, fn: (send: () => Promise<unknown>) => Promise<number>): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-'))
  const engine = await createEngine({ dataDir: dir, network: false, storeOptions: { sync } })
  try {
    await engine.createAccount({ name: 'bench' })
    const chat = await engine.createChat({ title: 'bench' })
    let i = 0
    return await fn(() => engine.sendMessage(chat.chatId, messageText(2, i++)))
  } finally {
    await engine.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

async function rate(n: number, concurrency: number, send: () => Promise<unknown>): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await send()
    })
  )
  return n / ((performance.now() - t0) / 1000)
}

/** Messages per second that the engine reports as stored (sendMessage resolved), on disk. */
export async function benchStoreWrite(full: boolean): Promise<StoreWriteResult> {
  const runs = full ? 5 : 3
  const n = full ? 20_000 : 5_000
  const sequentialFsyncPerSec = await medianOf(runs, () => withEngine(true, send => rate(full ? 2_000 : 500, 1, send)))
  const concurrentFsyncPerSec = await medianOf(runs, () => withEngine(true, send => rate(n, 256, send)))
  const concurrentNoFsyncPerSec = await medianOf(runs, () => withEngine(false, send => rate(n, 256, send)))
  const levelAwaitedPutsPerSec = await medianOf(runs, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-level-'))
    const db = new Level<string, string>(dir)
    await db.open()
    const t0 = performance.now()
    for (let i = 0; i < 10_000; i++) await db.put(`k${i}`, text)
    const r = 10_000 / ((performance.now() - t0) / 1000)
    await db.close()
    await rm(dir, { recursive: true, force: true })
    return r
  })
  return { sequentialFsyncPerSec, concurrentFsyncPerSec, concurrentNoFsyncPerSec, levelAwaitedPutsPerSec }
}
