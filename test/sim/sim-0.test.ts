// Partition/merge simulation, seeds 0–249 of the 1,000 that npm test runs (split for parallel workers).
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation', () => {
  seedRange(0, 250)
})
