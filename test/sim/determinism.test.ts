import { expect, it } from 'vitest'
import { runSeed } from './src/run-seed.js'
import { BASE } from './seeds.js'

it('one seed replays exactly: the same trace, the same world, the same final state', async () => {
  // BASE + 155 damages stores: a torn read, and an identity (the device is set up again)
  for (const seed of [BASE + 7, BASE + 8, BASE + 155]) {
    const [first, second] = [await runSeed(seed, { trace: true }), await runSeed(seed, { trace: true })]
    expect(second.trace).toEqual(first.trace)
    expect(second.stats).toEqual(first.stats)
    // the end state itself, not only the story: the same ids, texts, statuses, Yjs clocks and relay counts
    expect(second.finalState).toEqual(first.finalState)
    expect(first.finalState).toContain('"messages":["')
    expect(first.trace.length).toBeGreaterThan(5)
  }
})
