import { expect, it } from 'vitest'
import { runSeed, type SeedOptions } from './src/run-seed.js'

/** CI runs a fixed range (deterministic); TANDEM_SIM_BASE explores elsewhere. */
export const BASE = Number(process.env.TANDEM_SIM_BASE ?? 20_261_122)
const CHUNK = 50

/** Registers `count` seeds starting at BASE + offset, in chunks, each failure with its replay command. */
export function seedRange(offset: number, count: number, options: Pick<SeedOptions, 'people'> = {}): void {
  for (let start = offset; start < offset + count; start += CHUNK) {
    it(`seeds ${BASE + start}…${BASE + start + Math.min(CHUNK, offset + count - start) - 1}${options.people === true ? ' with the people workload' : ''}`, async () => {
      const failures: string[] = []
      for (let seed = BASE + start; seed < BASE + Math.min(start + CHUNK, offset + count); seed++) {
        const r = await runSeed(seed, options)
        if (!r.ok) failures.push(`seed ${seed}: ${r.violations.join('; ')}\n  replay: ${r.replay}`)
      }
      expect(failures).toEqual([])
    }, 300_000)
  }
}
