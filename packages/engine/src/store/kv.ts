export type { KeyValueStore, KeyRange, BatchOp } from '@tandem/storage'
