import { expect, it } from 'vitest'
import { runSeed } from './src/run-seed.js'

/** CI runs a fixed range (deterministic); TANDEM_SIM_BASE explores elsewhere. */
export const BASE = Number(process.env.TANDEM_SIM_BASE ?? 20_261_122)
const CHUNK = 50

/**
 * Seeds of the CI range that fail from a known engine bug, each with the violation it must
 * report: they run like every other seed and must fail exactly so, until the bug is fixed
 * (then this test fails too, and the seed leaves this list).
 *
 * After storage damage, a device does not get back its own writes that only its outbox still
 * held: the damaged doc's repair (a refetch from the relay) ends before the outbox's uploads
 * reach the relay; the relay then sends the device only echoes of them (its own uploads), its
 * peers get them from the relay and do not forward them (the device has a relay session), and
 * nothing asks again. The device stays without them (Yjs holds what follows as pending structs),
 * while the account's other devices show them.
 */
export const KNOWN_FAILURES: ReadonlyMap<number, RegExp> = new Map(
  process.env.TANDEM_SIM_BASE === undefined
    ? [
        [20_261_290, /^liveness: not converged .*: a1d1 differs from a1d0$/],
        [20_261_546, /^liveness: not converged .*: a0d2 differs from a0d0$/],
        [20_261_943, /^liveness: not converged .*: a1d1 differs from a1d0$/]
      ]
    : []
)

/** Registers `count` seeds starting at BASE + offset, in chunks, each failure with its replay command. */
export function seedRange(offset: number, count: number): void {
  for (let start = offset; start < offset + count; start += CHUNK) {
    it(`seeds ${BASE + start}…${BASE + start + CHUNK - 1}`, async () => {
      const failures: string[] = []
      for (let seed = BASE + start; seed < BASE + start + CHUNK; seed++) {
        const r = await runSeed(seed)
        const known = KNOWN_FAILURES.get(seed)
        if (known === undefined) {
          if (!r.ok) failures.push(`seed ${seed}: ${r.violations.join('; ')}\n  replay: ${r.replay}`)
        } else if (r.ok || !known.test(r.violations[0]!)) {
          failures.push(
            `seed ${seed} is listed as failing from a known engine bug (seeds.ts), with a violation matching ${known}, but it ${r.ok ? 'passed: the bug is fixed, take it off the list' : `failed otherwise: ${r.violations.join('; ')}`}\n  replay: ${r.replay}`
          )
        }
      }
      expect(failures).toEqual([])
    }, 300_000)
  }
}
