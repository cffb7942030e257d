// Partition/merge simulation, seeds 250–499 of the 1,000 that npm test runs (split for parallel workers).
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation', () => {
  seedRange(250, 250)
})
