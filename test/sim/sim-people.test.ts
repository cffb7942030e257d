// Partition/merge simulation with the workload between accounts (--people: invites, groups,
// members added and removed, reads, edits, reactions, deletes) on top of the default one:
// seeds 1–40 (20261123…20261162), in tens (a ten takes 20–45 s here). All of 20261123…20261172
// passed on 2026-12-07; a failure prints its replay command.
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation with people', () => {
  for (const from of [1, 11, 21, 31]) seedRange(from, 10, { people: true })
})
