// Test support for stores, importable in Node and in a browser bundle: `@tandem/storage/testing`.
export { kvContractCases, runKvContract, KV_CASE_NOT_ALIASED, type KvContractCase, type KvContractResult, type OpenStore, type ReopenStore } from './kv-contract.js'
export { CrashableStore, CrashedError, Disk, HeldBatches, landAtOnce, type BatchLanding } from './crashable-store.js'
export { patternBytes } from './pattern.js'
