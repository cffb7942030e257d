import fc from 'fast-check'
import { it } from 'vitest'
import { decodeAccountCredentials, CREDENTIALS_PREFIX } from '../../src/index.js'
for (const [n, arb] of [['string', fc.string()], ['binary', fc.string({ unit: 'binary' }).map((s) => CREDENTIALS_PREFIX + s)], ['match', fc.stringMatching(/^tandem-account:[a-z2-7]{0,80}$/)]] as const) {
  it(n, () => {
  let t = performance.now(); const xs = fc.sample(arb as fc.Arbitrary<string>, 1000); const gen = performance.now() - t
  t = performance.now(); for (const x of xs) { try { decodeAccountCredentials(x) } catch {} }
  process.stderr.write(`RES ${n} ${gen.toFixed(0)} ${(performance.now() - t).toFixed(0)}\n`)
  })
}
