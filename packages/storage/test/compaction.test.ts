import { describe, expect, it } from 'vitest'
import { compactionDue, compactionOverdue, type LogSize } from '../src/index.js'

const MiB = 1024 * 1024
// the engine's defaults (DocStore): 500 entries or 4 MiB
const limits = { entries: 500, bytes: 4 * MiB }
const log = (entries: number, bytes: number, snapshotBytes: number): LogSize => ({ entries, bytes, snapshotBytes })

describe('compactionDue and compactionOverdue', () => {
  it.each([
    ['an empty log is not due', log(0, 0, 0), false, false],
    ['a log one entry short of the bound, with no snapshot, is not due', log(499, 1_000, 0), false, false],
    ['a log at the entry bound, with no snapshot, is due', log(500, 1_000, 0), true, false],
    ['a log at four times the entry bound is overdue', log(2_000, 1_000, 0), true, true],
    ['many small entries on a big snapshot wait until they are a quarter of its size', log(500, 1_999, 8_000), false, false],
    ['…and are due once they are', log(500, 2_000, 8_000), true, false],
    ['a few large entries are due at the byte bound', log(1, 4 * MiB, 0), true, false],
    ['…and overdue at four times it', log(4, 16 * MiB, 0), true, true],
    ["the byte bound grows to the snapshot's size", log(10, 5 * MiB, 8 * MiB), false, false],
    ['…and is met at it', log(10, 8 * MiB, 8 * MiB), true, false],
    ["a big doc's log is overdue at four times the snapshot's size", log(10, 32 * MiB, 8 * MiB), true, true],
    ['…and not just below it', log(10, 32 * MiB - 4, 8 * MiB), true, false]
  ])('%s', (_name, size, due, overdue) => {
    expect(compactionDue(size, limits)).toBe(due)
    expect(compactionOverdue(size, limits)).toBe(overdue)
  })

  it('an overdue log is always due (putting off never skips a compaction)', () => {
    for (let entries = 0; entries <= 4_000; entries += 250) {
      for (const bytes of [0, 1_000, MiB, 4 * MiB, 20 * MiB, 40 * MiB]) {
        for (const snapshotBytes of [0, 10_000, 8 * MiB]) {
          const size = log(entries, bytes, snapshotBytes)
          if (compactionOverdue(size, limits)) expect(compactionDue(size, limits), JSON.stringify(size)).toBe(true)
        }
      }
    }
  })
})
