import type { Libp2p } from '@libp2p/interface'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { Admission } from './node/relay-host.js'

export interface RelayMetricsOptions {
  /** Also collect prom-client's default process metrics (CPU, memory, event loop, GC; default true). */
  processMetrics?: boolean
}

/**
 * The relay's Prometheus metrics, in a registry of their own (so several
 * relays in one process, as in tests, do not collide). Scraped at GET /metrics.
 */
export class RelayMetrics {
  readonly registry: Registry
  /** libp2p connections open right now (direct ones; relayed circuits ride on them). */
  readonly connections: Gauge
  /** Circuit relay v2 reservations held right now (computed at scrape time). */
  readonly reservations: Gauge
  /** Docs the history store knows. */
  readonly docs: Gauge
  /** Blobs appended (Prometheus: rate(tandem_relay_appends_total[1m]) is appends/s). */
  readonly appends: Counter
  /** Bytes of blobs held by the history store. */
  readonly bytesStored: Gauge
  /** Bytes sent to subscribers catching up (snapshot + log replay). */
  readonly backfillBytes: Counter
  readonly liveBytes: Counter
  /** Typed refusals sent, by error code. */
  readonly refusals: Counter<'code'>
  /** /tandem/store sessions open right now. */
  readonly sessions: Gauge
  /** Inbound connections in their handshake right now (computed at scrape time). */
  readonly pendingConnections: Gauge
  /** 1 while the relay can take a new peer, 0 while it refuses every one (computed at scrape time). */
  readonly accepting: Gauge
  /** Refused before any work: `pending_per_address` connections, `reservation_not_served` circuit reservations. */
  readonly admissionRefusals: Counter<'reason'>

  private readonly tracked = new WeakSet<Libp2p>()
  private reservationCount: (() => number) | null = null
  private historyStats: (() => { docs: number; bytesStored: number }) | null = null
  private admission: (() => Admission) | null = null

  constructor(options: RelayMetricsOptions = {}) {
    const registry = new Registry()
    this.registry = registry
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry })
    const registers = [registry]
    this.connections = new Gauge({ name: 'tandem_relay_connections', help: 'libp2p connections open', registers })
    /** A gauge read at scrape time, from what `read` returns then (nothing yet: the gauge keeps its value). */
    const readAtScrape = (name: string, help: string, read: () => number | undefined): Gauge =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const n = read()
          if (n !== undefined) this.set(n)
        }
      })
    this.reservations = readAtScrape('tandem_relay_reservations', 'circuit relay v2 reservations held', () => this.reservationCount?.())
    // read from the store at scrape time: a gauge set on appends missed what a snapshot dropped
    this.docs = readAtScrape('tandem_relay_docs', 'docs in the history store', () => this.historyStats?.().docs)
    this.appends = new Counter({ name: 'tandem_relay_appends_total', help: 'blobs appended to doc logs', registers })
    this.bytesStored = readAtScrape('tandem_relay_bytes_stored', 'bytes of blobs held by the history store', () => this.historyStats?.().bytesStored)
    this.backfillBytes = new Counter({ name: 'tandem_relay_backfill_bytes_total', help: 'bytes sent to subscribers catching up', registers })
    this.liveBytes = new Counter({ name: 'tandem_relay_live_bytes_total', help: 'bytes of appends sent to subscribers before they were durable (live)', registers })
    this.refusals = new Counter({ name: 'tandem_relay_refusals_total', help: 'typed refusals sent, by code', labelNames: ['code'], registers })
    this.sessions = new Gauge({ name: 'tandem_relay_store_sessions', help: '/tandem/store sessions open', registers })
    this.pendingConnections = readAtScrape('tandem_relay_pending_connections', 'inbound connections in their handshake', () => this.admission?.().pendingConnections)
    this.accepting = readAtScrape('tandem_relay_accepting', '1 while the relay can take a new peer, 0 while it refuses every one', () => {
      const a = this.admission?.()
      return a === undefined ? undefined : a.accepting ? 1 : 0
    })
    // the relay host counts; the counter catches up at each scrape
    const counted = { pending_per_address: 0, reservation_not_served: 0 }
    const admission = (): (() => Admission) | null => this.admission
    this.admissionRefusals = new Counter({
      name: 'tandem_relay_admission_refusals_total',
      help: 'inbound connections and circuit reservations refused before any work, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        const a = admission()?.()
        if (a === undefined) return
        for (const [reason, now] of [
          ['pending_per_address', a.refusedPendingPerAddress],
          ['reservation_not_served', a.refusedReservations]
        ] as const) {
          if (now > counted[reason]) this.inc({ reason }, now - counted[reason])
          counted[reason] = now
        }
      }
    })
  }

  /** `pending_connections`, `accepting` and `admission_refusals_total` read the relay host's admission at every scrape. */
  trackAdmission(read: () => Admission): void {
    this.admission = read
  }

  /** `docs` and `bytes_stored` are the history store's own counts, read at every scrape. */
  trackHistory(stats: () => { docs: number; bytesStored: number }): void {
    this.historyStats = stats
  }

  /**
   * Keeps `connections` equal to the node's open connections (connection:open /
   * connection:close), and `reservations` to the circuit relay server's
   * reservation count when the node has a `relay` service. Call once per node,
   * before or after start.
   */
  trackConnections(libp2p: Libp2p): void {
    if (this.tracked.has(libp2p)) return
    this.tracked.add(libp2p)
    // recount rather than inc/dec: a close without a matching open (or the
    // reverse) can never make the gauge drift
    const recount = (): void => {
      this.connections.set(libp2p.getConnections().length)
    }
    libp2p.addEventListener('connection:open', recount)
    libp2p.addEventListener('connection:close', recount)
    libp2p.addEventListener('stop', () => {
      this.connections.set(0)
    })
    recount()
    const relay = (libp2p.services as Record<string, unknown>).relay as { reservations?: { size: number } } | undefined
    const reservations = relay?.reservations
    if (reservations !== undefined) {
      this.reservationCount = () => (libp2p.status === 'started' ? reservations.size : 0)
    }
  }
}
