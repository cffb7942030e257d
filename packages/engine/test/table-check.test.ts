import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkTables, FOOTER, footerHandles, tableDamage } from '../src/node/table-check.js'

// LevelDB reads a table's index block without checking it (no paranoid_checks in
// classic-level): a damaged one hides whole data blocks, and the store opens without them and
// without a note. tableDamage checks the footer and the index and metaindex blocks' checksums.

let dir = ''
let tables: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-tables-'))
  const db = new ClassicLevel<string, string>(join(dir, 'db'))
  await db.open()
  for (let i = 0; i < 400; i++) await db.put(`key-${String(i).padStart(4, '0')}`, `value ${i} `.repeat(20))
  await db.close()
  // (the next open turns the write-ahead log into a table)
  await db.open()
  await db.close()
  tables = (await readdir(join(dir, 'db'))).filter(n => n.endsWith('.ldb')).map(n => join(dir, 'db', n))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A copy of `table` with bit `bit` of byte `at` flipped. */
async function flipped(table: string, at: number, bit: number): Promise<string> {
  const bytes = await readFile(table)
  bytes[at]! ^= 1 << bit
  const copy = join(dir, `flipped-${at}-${bit}.ldb`)
  const f = await open(copy, 'w')
  await f.write(bytes)
  await f.close()
  return copy
}

describe('the table check', () => {
  it('finds nothing in the tables LevelDB wrote', async () => {
    expect(tables.length).toBeGreaterThan(0)
    for (const t of tables) expect(await tableDamage(t)).toBeNull()
    expect(await checkTables(join(dir, 'db'))).toEqual([])
  })

  it('takes a table gone since the directory was listed (LevelDB compacted it away) for no damage', async () => {
    expect(await tableDamage(join(dir, 'db', '999999.ldb'))).toBeNull()
  })

  it("finds every bit flipped in a table's index block, and a damaged footer", async () => {
    const table = tables[0]!
    const bytes = await readFile(table)
    const handles = footerHandles(bytes.subarray(bytes.length - FOOTER))!
    const { offset, length } = handles.index
    expect(length).toBeGreaterThan(10)
    for (let at = offset; at < offset + length + 5; at += 7) expect(await tableDamage(await flipped(table, at, at % 8)), `byte ${at}`).toMatch(/index block is damaged|footer/)
    expect(await tableDamage(await flipped(table, bytes.length - 3, 2))).toMatch(/footer is damaged \(magic number\)/)
  })
})
