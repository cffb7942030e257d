export type { KeyValueStore, KeyRange, BatchOp } from './kv.js'
export { WriteQueue } from './write-queue.js'
export { compactionDue, compactionOverdue, type CompactionLimits, type LogSize } from './compaction.js'
export { checkedRecord, readCheckedRecord, CHECK_BYTES } from './checked-record.js'
