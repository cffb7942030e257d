import { expect, it } from 'vitest'
import { runSeed } from './src/run-seed.js'
import { BASE } from './seeds.js'

it('one seed replays exactly: the same trace, the same world, the same outcome', async () => {
  for (const seed of [BASE + 7, BASE + 8]) {
    const [first, second] = [await runSeed(seed, { trace: true }), await runSeed(seed, { trace: true })]
    expect(second.trace).toEqual(first.trace)
    expect(second.stats).toEqual(first.stats)
    expect(first.trace.length).toBeGreaterThan(5)
  }
})
