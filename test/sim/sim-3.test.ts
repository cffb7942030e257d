// Partition/merge simulation, seeds 450–599 of the 600 that npm test runs (split for parallel workers).
import { describe } from 'vitest'
import { seedRange } from './seeds.js'

describe('simulation', () => {
  seedRange(450, 150)
})
