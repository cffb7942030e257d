import './polyfill.js'
import { join } from 'node:path'
import { DEFAULT_MAX_DEVICES, MAX_CHAIN_DEVICES, STORE_PROTOCOL, type ChainPolicy } from '@tandem/protocol'
import type { KeyValueStore } from '@tandem/storage'
import { StreamLink } from '@tandem/transport'
import { Level } from 'level'
import { LevelAccessRecords } from './access/level-access-records.js'
import { HistoryStore } from './history/history-store.js'
import { trackListenAddrs } from './listen-addrs.js'
import { createLogger, type Logger } from './logger.js'
import { RelayMetrics } from './metrics.js'
import { RelayConfigError } from './node/errors.js'
import { createRelayHost, type RelayLimits } from './node/relay-host.js'
import { StoreService } from './store-service/store-service.js'
import { systemTimers } from './timers.js'

/** The chain policy for `maxDevices`, or RelayConfigError for a limit the chain cannot hold. */
function checkedPolicy(policy: ChainPolicy): ChainPolicy {
  if (!Number.isInteger(policy.maxDevices) || policy.maxDevices < 1 || policy.maxDevices > MAX_CHAIN_DEVICES) {
    throw new RelayConfigError(`maxDevices must be an integer from 1 to ${MAX_CHAIN_DEVICES}, got ${String(policy.maxDevices)}`)
  }
  return policy
}

export { DEFAULT_MAX_DEVICES, MAX_CHAIN_DEVICES }

/** Largest blob (or snapshot) a device may store: a doc of ~300,000 chat messages. */
export const DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024
/** Bytes an account may keep on the relay (its share of chat docs included). */
export const DEFAULT_ACCOUNT_QUOTA_BYTES = 1024 * 1024 * 1024

export interface RelayOptions {
  dataDir: string
  listen: string[]
  announce?: string[]
  limits?: Partial<RelayLimits>
  maxBlobBytes?: number
  accountQuotaBytes?: number
  /** fsync every commit batch (default true): an ack means the blob survives power loss. */
  sync?: boolean
  /** An injected level store for the history and the access records (memory-level in tests); default level under dataDir. */
  store?: KeyValueStore
  logger?: Logger
  metrics?: RelayMetrics
  /** Most devices an account may list (the policy for links the relay appends; default DEFAULT_MAX_DEVICES). */
  maxDevices?: number
  /** The clock of what the relay records (when it last served each device); default Date.now. Tests move it. */
  now?: () => number
}

export interface Relay {
  readonly peerId: string
  /** What the relay tells peers to dial: the `announce` addresses when given, else where it listens. */
  multiaddrs(): string[]
  /** Where it listens (bound ports, each address of a wildcard host), whatever it announces. */
  listenAddrs(): string[]
  readonly metrics: RelayMetrics
  health(): { ok: boolean; [k: string]: unknown }
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * A Tandem relay: a libp2p host (circuit relay v2 for devices behind NAT) and
 * the blind history store served over /tandem/store. It moves opaque blobs only.
 */
export async function createRelay(options: RelayOptions): Promise<Relay> {
  // a bad limit is refused before anything listens
  const policy = checkedPolicy({ maxDevices: options.maxDevices ?? DEFAULT_MAX_DEVICES })
  const logger = options.logger ?? createLogger()
  const metrics = options.metrics ?? new RelayMetrics()
  // reservations go to the devices the store service serves (it exists once the stores are open)
  let whenServed: StoreService['whenServed'] | undefined
  const host = await createRelayHost({
    dataDir: options.dataDir,
    listen: options.listen,
    ...(options.announce !== undefined ? { announce: options.announce } : {}),
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
    logger,
    isServedDevice: (peer, { signal }) => whenServed?.(peer.toString(), signal) ?? false
  })
  metrics.trackConnections(host.libp2p)
  const listenAddrs = trackListenAddrs(host.libp2p, host.peerId)
  metrics.trackAdmission(() => host.admission())
  const db = options.store ?? new Level<string, Uint8Array>(join(options.dataDir, 'history'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, {
    maxBlobBytes: options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES,
    accountQuotaBytes: options.accountQuotaBytes ?? DEFAULT_ACCOUNT_QUOTA_BYTES,
    sync: options.sync ?? true
  })
  // device chains, memberships and device activity: in the history's database, under keys of their own
  const records = await LevelAccessRecords.open(db, { sync: options.sync ?? true })
  const service = new StoreService(history, records, metrics, logger, systemTimers, {
    policy,
    now: options.now,
    maxLinkingSessions: host.limits.maxLinkingSessions,
    linkingSessionMs: host.limits.linkingSessionMs,
    // a device no longer being linked (and not served) gives its circuit slot back
    linkingEnded: peer => host.dropReservation(peer)
  })
  whenServed = (peer, signal) => service.whenServed(peer, signal)
  let running = false
  return {
    peerId: host.peerId,
    multiaddrs: () => host.multiaddrs(),
    listenAddrs,
    metrics,
    health: () => {
      // a relay that refuses every new peer (pending handshakes or connections full) is not healthy
      const admission = host.admission()
      return {
        ok: running && host.libp2p.status === 'started' && admission.accepting,
        peerId: host.peerId,
        connections: host.libp2p.getConnections().length,
        sessions: service.sessionCount,
        ...admission,
        ...history.stats()
      }
    },
    start: async () => {
      await host.libp2p.handle(
        STORE_PROTOCOL,
        (stream, connection) => {
          service.addLink(new StreamLink(stream, connection.remotePeer.toString(), 'inbound'))
        },
        { maxInboundStreams: 4 }
      )
      await host.start()
      running = true
    },
    stop: async () => {
      running = false
      await service.stop()
      await host.stop()
      await records.close() // before the history closes the database they share
      await history.close()
    }
  }
}
