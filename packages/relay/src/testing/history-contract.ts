// The HistoryBackend contract as cases any runner can call (vitest here; a backend in
// another package with its own). No test framework in here: a case throws an Error saying
// what differed. The level HistoryStore passes them on disk (classic-level), in memory
// (memory-level) and on a store that crashes at each restart (packages/relay/test/
// history-conformance.test.ts); the next backend is judged by the same cases.
import { runCases, type ContractResult } from './checks.js'
import { logCases } from './history-cases-log.js'
import { reopenCases } from './history-cases-reopen.js'
import { limitCases, snapshotCases } from './history-cases-snapshot.js'
import type { HistoryContractCase, OpenHistory, ReopenHistory } from './history-driver.js'

export type { HistoryContractCase, OpenHistory, ReopenHistory } from './history-driver.js'

export const historyContractCases: readonly HistoryContractCase[] = [...logCases, ...snapshotCases, ...limitCases, ...reopenCases]

/** Runs every case in turn; never throws: each result says whether its case passed. */
export function runHistoryContract(open: OpenHistory, reopen: ReopenHistory): Promise<ContractResult[]> {
  return runCases(historyContractCases, open, reopen)
}
