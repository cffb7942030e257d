// Partition/merge simulation with the workload between accounts (--people: invites, groups,
// members added and removed, reads, edits, reactions, deletes) on top of the default one:
// seeds 1–20 (20261123…20261142), in tens (a ten takes 20–45 s alone, ~90 s in CI beside the
// other files: 40 seeds took the suite to 15 min). All of 20261123…20261172 passed on 2026-12-07
// (`npm run sim -- --seeds 50 --from 20261123 --people`); a failure prints its replay command.
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation with people', () => {
  for (const from of [1, 11]) seedRange(from, 10, { people: true })
})
