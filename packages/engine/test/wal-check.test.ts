import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentlyDroppedAt } from '../src/node/wal-check.js'

// LevelDB drops the rest of its write-ahead log without a note when a record in the last
// block claims more bytes than the file holds (it takes that for a crash's torn write).
// silentlyDroppedAt tells that apart from a real torn write: valid records follow.

let dir = ''
let log = new Uint8Array(0)
const recordStarts: number[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-wal-'))
  const db = new ClassicLevel<string, string>(join(dir, 'db'))
  await db.open()
  for (let i = 0; i < 40; i++) await db.put(`key-${i}`, `value ${i} `.repeat(20), { sync: true })
  await db.close()
  const name = (await readdir(join(dir, 'db'))).find(n => n.endsWith('.log'))!
  log = new Uint8Array(await readFile(join(dir, 'db', name)))
  for (let pos = 0; pos + 7 <= log.length; pos += 7 + (log[pos + 4]! | (log[pos + 5]! << 8))) recordStarts.push(pos)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the write-ahead log check', () => {
  it('finds nothing in a whole log', () => {
    expect(log.length).toBeGreaterThan(4000)
    expect(silentlyDroppedAt(log)).toBeNull()
  })

  it('takes a log cut inside its last record for a torn write, as LevelDB does', () => {
    const last = recordStarts.at(-1)!
    expect(silentlyDroppedAt(log.subarray(0, last + 20))).toBeNull()
    expect(silentlyDroppedAt(log.subarray(0, last + 3))).toBeNull()
  })

  it('names the record whose damaged length would make LevelDB drop the valid records after it', () => {
    const victim = recordStarts[10]!
    const damaged = log.slice()
    damaged[victim + 4] = 0xff
    damaged[victim + 5] = 0xff
    expect(silentlyDroppedAt(damaged)).toBe(victim)
  })
})
