// Test support for relay storage backends: `@tandem/relay/testing`. A new backend passes
// these cases before the relay may run on it.
export { historyContractCases, runHistoryContract, type HistoryContractCase, type OpenHistory, type ReopenHistory } from './history-contract.js'
export {
  accessRecordsContractCases,
  runAccessRecordsContract,
  type AccessRecordsContractCase,
  type OpenAccessRecords,
  type ReopenAccessRecords
} from './access-records-contract.js'
export type { ContractResult } from './checks.js'
export { TestAccount, TestDevice, type TestBytes } from './test-chain.js'
