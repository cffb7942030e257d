import { BaseSequencer, type TestSpecification } from 'vitest/node'
import { defineConfig } from 'vitest/config'

/**
 * One module graph per worker, not one per file: importing libp2p, yjs
 * and the packages again for every file took 152 s of CI's 1,845 s of test time (2026-12-07).
 * Measured one project at a time: engine 33.7 → 17.0 s, protocol 26.3 → 12.5 s, relay 22.6 →
 * 16.8 s. Tests therefore leave no global behind (vi.unstubAllGlobals in afterEach).
 */
const shared = { setupFiles: ['packages/transport/src/polyfill.ts'], isolate: false }

/**
 * Longest first, so that the two workers end together (on a clean clone vitest knows no
 * durations and runs files in glob order): the simulator's files (~1 seed a second, 90–150 s a
 * file), then the other files under test/ (real processes and networks), then the packages' own.
 * Within a tier vitest's order stands (known durations, longest first, once it has run here).
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const tier = (f: TestSpecification): number => (/[/\\]test[/\\]sim[/\\]/.test(f.moduleId) ? 0 : f.project.name === 'integration' ? 1 : 2)
    return (await super.sort(files)).sort((a, b) => tier(a) - tier(b))
  }
}

export default defineConfig({
  test: {
    // the simulator and the process tests are CPU-bound, one per worker: use both cores
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    projects: [
      // property tests are CPU-bound: on two busy cores (the simulator beside them) 5 s is too tight
      { test: { name: 'protocol', include: ['packages/protocol/test/**/*.test.ts'], ...shared, testTimeout: 30_000 } },
      { test: { name: 'storage', include: ['packages/storage/test/**/*.test.ts'], ...shared } },
      { test: { name: 'transport', include: ['packages/transport/test/**/*.test.ts'], ...shared, testTimeout: 30_000, hookTimeout: 30_000 } },
      { test: { name: 'engine', include: ['packages/engine/test/**/*.test.ts'], ...shared, testTimeout: 30_000 } },
      {
        test: {
          name: 'relay',
          include: ['packages/relay/test/**/*.test.ts', 'apps/relay/test/**/*.test.ts'],
          // the relay's own polyfill: the relay must not load @tandem/engine
          ...shared,
          setupFiles: ['packages/relay/src/polyfill.ts'],
          testTimeout: 60_000
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // one module graph per worker here too (import 120.8 → ~27 s of CI's test time). The two files that failed
          // once each when first run warm were real bugs, both fixed (ARCHITECTURE.md): concurrent-epochs (a blob
          // dropped under a key about to be replaced) and relay-crash (a segment the index named nowhere for a while)
          ...shared,
          testTimeout: 180_000,
          hookTimeout: 60_000
        }
      }
    ]
  }
})
