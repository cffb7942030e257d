export { createRelay, DEFAULT_MAX_BLOB_BYTES, DEFAULT_ACCOUNT_QUOTA_BYTES, DEFAULT_MAX_DEVICES, MAX_CHAIN_DEVICES, type Relay, type RelayOptions } from './relay.js'
export {
  createRelayHost,
  resolveRelayLimits,
  DEFAULT_RELAY_LIMITS,
  type RelayHost,
  type RelayHostOptions,
  type RelayLimits,
  type RelayLibp2p,
  type RelayServices
} from './node/relay-host.js'
export { startHttpServer, type HttpServer, type HttpServerOptions, type HealthReport } from './node/http-server.js'
export { loadOrCreatePeerKey, PEER_KEY_FILE } from './node/peer-key.js'
export { RelayConfigError } from './node/errors.js'
export { RelayMetrics, type RelayMetricsOptions } from './metrics.js'
export { createLogger, type Logger, type LoggerOptions } from './logger.js'
export { HistoryStore, type HistoryOptions } from './history/history-store.js'
export type { HistoryBackend, HistoryUpload, HistoryLimits, Backlog, CommitResult, CommitListener } from './history/backend.js'
export type { DocMeta, LogEntry, SnapshotEntry } from './history/records.js'
export type { CachedEntry } from './history/tail.js'
export type { AccessRecords } from './access/access-records.js'
export { LevelAccessRecords } from './access/level-access-records.js'
export { StoreService, type StoreServiceOptions } from './store-service/store-service.js'
export { AccessControl, type ChainOffer } from './store-service/access.js'
export type { RelayTimers } from './timers.js'
