// Partition/merge simulation, seeds 300–449 of the 600 that npm test runs (split for parallel workers).
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation', () => {
  seedRange(300, 150)
})
