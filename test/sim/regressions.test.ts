import { expect, it } from 'vitest'
import { runSeed } from './src/run-seed.js'

// Seeds outside the CI range that once found a bug in the engine: each runs in every `npm test`.
const REGRESSIONS: Array<[seed: number, what: string]> = [
  [40_000_644, "a damaged log record's own write, still in the outbox, is restored from there (the relay only echoes it back)"]
]

for (const [seed, what] of REGRESSIONS)
  it(`seed ${seed}: ${what}`, async () => {
    const r = await runSeed(seed)
    expect(r.ok ? [] : [...r.violations, `replay: ${r.replay}`]).toEqual([])
  }, 120_000)
