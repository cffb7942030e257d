// Partition/merge simulation, seeds 0–149 of the 600 that npm test runs (split for parallel workers).
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation', () => {
  seedRange(0, 150)
})
