import { defineConfig } from 'vitest/config'

const setupFiles = ['packages/transport/src/polyfill.ts']

export default defineConfig({
  test: {
    // the simulator and the process tests are CPU-bound, one per worker: use both cores
    maxWorkers: 2,
    projects: [
      // property tests are CPU-bound: on two busy cores (the simulator beside them) 5 s is too tight
      { test: { name: 'protocol', include: ['packages/protocol/test/**/*.test.ts'], setupFiles, testTimeout: 30_000 } },
      { test: { name: 'storage', include: ['packages/storage/test/**/*.test.ts'], setupFiles } },
      { test: { name: 'transport', include: ['packages/transport/test/**/*.test.ts'], setupFiles, testTimeout: 30_000, hookTimeout: 30_000 } },
      { test: { name: 'engine', include: ['packages/engine/test/**/*.test.ts'], setupFiles, testTimeout: 30_000 } },
      {
        test: {
          name: 'relay',
          include: ['packages/relay/test/**/*.test.ts', 'apps/relay/test/**/*.test.ts'],
          // the relay's own polyfill: the relay must not load @tandem/engine
          setupFiles: ['packages/relay/src/polyfill.ts'],
          testTimeout: 60_000
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          setupFiles,
          testTimeout: 180_000,
          hookTimeout: 60_000
        }
      }
    ]
  }
})
