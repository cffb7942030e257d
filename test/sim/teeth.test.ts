import { describe, expect, it } from 'vitest'
import { BUGS, CAUGHT_BY } from './src/bugs.js'
import { runSeed } from './src/run-seed.js'
import { BASE, KNOWN_FAILURES } from './seeds.js'

/**
 * The simulator has teeth: each known bug, injected into the real code, fails some seed within
 * budget, and the invariant meant to catch it is the first to report it (with its seed and step).
 */
const BUDGET = 150

describe('the simulator catches injected bugs', () => {
  for (const bug of BUGS) {
    it(`catches: ${bug} (by ${CAUGHT_BY[bug]})`, async () => {
      let caught: { seed: number; violation: string; replay: string } | null = null
      for (let seed = BASE; seed < BASE + BUDGET && caught === null; seed++) {
        if (KNOWN_FAILURES.has(seed)) continue // fails without any bug injected
        const r = await runSeed(seed, { bugs: [bug] })
        if (!r.ok) caught = { seed, violation: r.violations[0]!, replay: r.replay }
      }
      console.log(caught === null ? `${bug}: not caught in ${BUDGET} seeds` : `${bug}: caught by seed ${caught.seed} (${caught.violation}); replay: ${caught.replay}`)
      expect(caught).not.toBeNull()
      expect(caught!.violation.startsWith(`${CAUGHT_BY[bug]} `) || caught!.violation.startsWith(`${CAUGHT_BY[bug]}:`), `${bug} was first reported as: ${caught!.violation}`).toBe(
        true
      )
    }, 300_000)
  }
})
