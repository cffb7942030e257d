import '../polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { circuitRelayServer, RELAY_V2_STOP_CODEC, type CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { describeListenFailure, withJoinedWrites, yamuxHalfWindow } from '@tandem/transport'
import type { Logger } from '../logger.js'
import { RelayConfigError } from './errors.js'
import { keptAlive } from './keep-alive.js'
import { loadOrCreatePeerKey } from './peer-key.js'
import { PendingInbound } from './pending-inbound.js'
import { type RelayLimits, resolveRelayLimits } from './relay-limits.js'
import { keepReservations } from './reservations.js'

export { DEFAULT_RELAY_LIMITS, resolveRelayLimits, type RelayLimits } from './relay-limits.js'

export interface RelayHostOptions {
  /** Directory for the relay's key (`peer-key`); created if missing. */
  dataDir: string
  /** Multiaddrs to listen on: TCP (`/ip4/0.0.0.0/tcp/4001`) and WebSockets (`/ip4/0.0.0.0/tcp/4002/ws`). */
  listen: string[]
  /** Public addresses to advertise instead of the listen addresses (behind NAT / a load balancer). */
  announce?: string[]
  limits?: Partial<RelayLimits>
  logger: Logger
  /**
   * Whether `peer` may hold a circuit reservation: a device the relay serves (the store
   * service knows: createRelay wires it). It may wait for a hello in flight, and must
   * resolve false once `signal` aborts (after limits.reservationHelloWaitMs).
   */
  isServedDevice: (peer: PeerId, options: { signal: AbortSignal }) => boolean | Promise<boolean>
}

/** Whether the relay can take a new peer now, and what fills up first (for /healthz and /metrics). */
export interface Admission {
  /** False when every new inbound connection is refused right now. */
  accepting: boolean
  /** Why not, when not: `pending-handshakes-full` (maxIncomingPendingConnections) or `connections-full` (maxConnections). */
  reason?: 'pending-handshakes-full' | 'connections-full'
  /** Inbound connections in their handshake. */
  pendingConnections: number
  /** Addresses holding maxPendingConnectionsPerAddress handshakes (their next connection is refused). */
  addressesAtPendingLimit: number
  /** Inbound connections refused so far because their address held its share. */
  refusedPendingPerAddress: number
  /** Reservation requests refused so far: not from a device the relay serves. */
  refusedReservations: number
}

export interface RelayServices {
  identify: Identify
  ping: Ping
  relay: CircuitRelayService
  [key: string]: unknown
}

export type RelayLibp2p = Libp2p<RelayServices>

export interface RelayHost {
  readonly libp2p: RelayLibp2p
  readonly peerId: string
  readonly limits: Readonly<RelayLimits>
  /** Addresses peers can dial, each ending in /p2p/<peer id>. */
  multiaddrs(): string[]
  admission(): Admission
  /** Frees `peerId`'s reservation now (it is no longer a device the relay serves); false if it held none. */
  dropReservation(peerId: string): boolean
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * The relay's libp2p node: TCP + WebSockets, Noise, yamux (quiet connections pinged), identify, ping and
 * a circuit relay v2 server with the limits above. Its key lives in
 * `<dataDir>/peer-key`, so its peer id and addresses survive restarts.
 * Register protocol handlers on `libp2p` before `start()`.
 */
export async function createRelayHost(options: RelayHostOptions): Promise<RelayHost> {
  const limits = resolveRelayLimits(options.limits)
  for (const a of [...options.listen, ...(options.announce ?? [])]) {
    try {
      multiaddr(a)
    } catch (err) {
      throw new RelayConfigError(`invalid multiaddr ${a}`, { cause: err })
    }
  }
  if (options.listen.length === 0) throw new RelayConfigError('the relay needs at least one listen address')
  const log = options.logger
  const { privateKey, created } = await loadOrCreatePeerKey(options.dataDir)

  const pending = new PendingInbound(limits.maxPendingConnectionsPerAddress, log)
  /** Peers whose reservation request waits for their hello: one each (a device asks one at a time). */
  const waitingForHello = new Set<string>()
  let refusedReservations = 0
  const servedDevice = async (peer: PeerId): Promise<boolean> => {
    const id = peer.toString()
    if (waitingForHello.has(id)) return false
    waitingForHello.add(id)
    try {
      return await options.isServedDevice(peer, { signal: AbortSignal.timeout(limits.reservationHelloWaitMs) })
    } catch (err) {
      log.warn({ err, peer: id }, 'could not tell whether a peer is a served device; reservation refused')
      return false
    } finally {
      waitingForHello.delete(id)
    }
  }

  // the gater is built before the node; it reads the node once it exists
  let node: RelayLibp2p | undefined
  const openCircuits = (): number => {
    let n = 0
    for (const c of node?.getConnections() ?? []) {
      for (const s of c.streams) if (s.protocol === RELAY_V2_STOP_CODEC) n++
    }
    return n
  }

  node = await createLibp2p<RelayServices>({
    start: false,
    privateKey,
    nodeInfo: { name: 'tandem-relay' },
    addresses: {
      listen: options.listen,
      ...(options.announce !== undefined && options.announce.length > 0 ? { announce: options.announce } : {})
    },
    transports: [tcp({ backlog: limits.tcpBacklog }), webSockets()],
    connectionEncrypters: [withJoinedWrites(noise())],
    // a quiet connection gets one yamux ping, and is closed when unanswered (keep-alive.ts);
    // yamux's own keep-alive (every 30 s, never closing anything) and libp2p's connection
    // monitor (a ping stream every interval) are off
    streamMuxers: [
      keptAlive(yamuxHalfWindow({ enableKeepAlive: false }), {
        quietMs: limits.connectionPingIntervalMs,
        timeoutMs: limits.connectionPingTimeoutMs,
        onDead: err => {
          log.warn({ reason: err.message }, 'closed a silent connection: no pong to its keep-alive ping')
        }
      })
    ],
    connectionManager: {
      maxConnections: limits.maxConnections,
      maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
      inboundConnectionThreshold: limits.inboundConnectionThreshold,
      inboundUpgradeTimeout: limits.inboundUpgradeTimeoutMs
    },
    connectionMonitor: { enabled: false },
    connectionGater: {
      // the library bounds pending inbound connections for the whole node only; this bounds them per address
      denyInboundConnection: maConn => pending.deny(maConn),
      denyInboundUpgradedConnection: (_peer, maConn) => pending.upgraded(maConn),
      // checked before the library takes a slot: a refused request takes none
      denyInboundRelayReservation: async peer => {
        const asked = Date.now()
        const served = await servedDevice(peer)
        if (served) {
          log.debug({ peer: peer.toString(), waitedMs: Date.now() - asked }, 'reservation admitted: a device this relay serves')
          return false
        }
        refusedReservations++
        log.debug({ peer: peer.toString(), waitedMs: Date.now() - asked }, 'reservation refused: not a device this relay serves')
        return true
      },
      // the library bounds circuits per connection only; this bounds the whole relay
      denyOutboundRelayedConnection: () => {
        const open = openCircuits()
        if (open < limits.maxCircuits) return false
        log.warn({ open, max: limits.maxCircuits }, 'relayed connection refused: maxCircuits reached')
        return true
      }
    },
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        hopTimeout: limits.hopTimeoutMs,
        maxInboundHopStreams: limits.maxCircuitsPerSource,
        maxOutboundStopStreams: limits.maxCircuitsPerDestination,
        reservations: {
          maxReservations: limits.maxReservations,
          reservationTtl: limits.reservationTtlMs,
          applyDefaultLimit: true,
          defaultDataLimit: BigInt(limits.relayedDataLimitBytes),
          defaultDurationLimit: limits.relayedDurationLimitMs
        }
      })
    }
  })
  const libp2p = node
  const peerId = libp2p.peerId.toString()
  const reservations = keepReservations(libp2p.services.relay, limits.reservationTtlMs)
  // circuits reach only a connected device, and it reserves again when it reconnects
  libp2p.addEventListener('peer:disconnect', evt => {
    if (reservations.drop(evt.detail)) log.debug({ peer: evt.detail.toString() }, 'reservation dropped: its holder disconnected')
  })
  if (created) log.info({ peerId, dataDir: options.dataDir }, 'created a new relay key')

  const multiaddrs = (): string[] =>
    libp2p.getMultiaddrs().map(a => {
      const s = a.toString()
      return s.includes(`/p2p/${peerId}`) ? s : `${s}/p2p/${peerId}`
    })

  return {
    libp2p,
    peerId,
    limits,
    multiaddrs,
    dropReservation(id) {
      let peer: PeerId
      try {
        peer = peerIdFromString(id)
      } catch {
        return false
      }
      const dropped = reservations.drop(peer)
      if (dropped) log.debug({ peer: id }, 'reservation dropped: its holder is no longer served')
      return dropped
    },
    admission() {
      const { pending: pendingConnections, addressesAtLimit, refused } = pending.stats()
      const reason =
        pendingConnections >= limits.maxIncomingPendingConnections
          ? 'pending-handshakes-full'
          : libp2p.getConnections().length >= limits.maxConnections
            ? 'connections-full'
            : undefined
      return {
        accepting: reason === undefined,
        ...(reason !== undefined ? { reason } : {}),
        pendingConnections,
        addressesAtPendingLimit: addressesAtLimit,
        refusedPendingPerAddress: refused,
        refusedReservations
      }
    },
    async start() {
      try {
        await libp2p.start()
      } catch (err) {
        throw new RelayConfigError(describeListenFailure(err), { cause: err })
      }
      log.info({ peerId, multiaddrs: multiaddrs(), limits }, 'relay host started')
    },
    async stop() {
      await libp2p.stop()
      reservations.stop()
      log.info({ peerId }, 'relay host stopped')
    }
  }
}
