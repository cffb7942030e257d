// Partition/merge simulation, seeds 150–299 of the 600 that npm test runs (split for parallel workers).
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation', () => {
  seedRange(150, 150)
})
