import { describe, expect, it } from 'vitest'
import { BUGS } from './src/bugs.js'
import { runSeed } from './src/run-seed.js'
import { BASE } from './seeds.js'

/** The simulator has teeth: each known bug, injected into the real code, fails some seed within budget. */
const BUDGET = 150

describe('the simulator catches injected bugs', () => {
  for (const bug of BUGS) {
    it(`catches: ${bug}`, async () => {
      let caught: { seed: number; violation: string } | null = null
      for (let seed = BASE; seed < BASE + BUDGET && caught === null; seed++) {
        const r = await runSeed(seed, { bugs: [bug] })
        if (!r.ok) caught = { seed, violation: r.violations[0]! }
      }
      console.log(
        caught === null
          ? `${bug}: not caught in ${BUDGET} seeds`
          : `${bug}: caught by seed ${caught.seed} (${caught.violation}); replay: npm run sim -- --seed ${caught.seed} --bug ${bug}`
      )
      expect(caught).not.toBeNull()
    }, 300_000)
  }
})
