export type { KeyValueStore, KeyRange, BatchOp } from './kv.js'
export { WriteQueue } from './write-queue.js'
