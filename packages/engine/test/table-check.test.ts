import { cp, mkdtemp, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveTables } from '../src/node/leveldb-manifest.js'
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

  it('names exactly the tables LevelDB keeps, from its MANIFEST', async () => {
    const numbers = tables.map(t => Number.parseInt(t.split('/').pop()!, 10))
    expect(await liveTables(join(dir, 'db'))).toEqual(new Set(numbers))
  })

  it('checks only the tables the MANIFEST names: a half-written table a crash left mid-compaction is no damage', async () => {
    const copy = await mkdtemp(join(dir, 'crashed-'))
    await cp(join(dir, 'db'), copy, { recursive: true })
    const live = tables[0]!.split('/').pop()!
    // the output of a compaction cut short: a new number, its data half written, no footer yet
    const bytes = await readFile(join(copy, live))
    await writeFile(join(copy, '999998.ldb'), bytes.subarray(0, bytes.length >> 1))
    expect(await checkTables(copy)).toEqual([])
    // the same damage in a table the MANIFEST names is found
    await truncate(join(copy, live), bytes.length >> 1)
    expect(await checkTables(copy)).toEqual([expect.stringMatching(new RegExp(`the table ${live} is damaged`))])
  })

  it('checks every table when the MANIFEST cannot be read', async () => {
    const copy = await mkdtemp(join(dir, 'manifest-'))
    await cp(join(dir, 'db'), copy, { recursive: true })
    const manifest = (await readFile(join(copy, 'CURRENT'), 'utf8')).trim()
    const bytes = await readFile(join(copy, manifest))
    bytes[10]! ^= 0x10 // inside the first record: its checksum no longer matches
    await writeFile(join(copy, manifest), bytes)
    expect(await liveTables(copy)).toBeNull()
    await writeFile(join(copy, '999998.ldb'), new Uint8Array(20))
    expect(await checkTables(copy)).toEqual([expect.stringMatching(/the table 999998\.ldb is damaged: it is 20 bytes/)])
  })
})
