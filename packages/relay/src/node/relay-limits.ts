// The relay's bounds on libp2p and circuit relay v2, their defaults and their checks.
import { RelayConfigError } from './errors.js'

const KiB = 1024
const MiB = 1024 * KiB
const minute = 60_000
const hour = 60 * minute
/** @libp2p/tcp closes a socket idle this long (its SOCKET_TIMEOUT). */
const TCP_SOCKET_TIMEOUT_MS = 2 * minute

/**
 * Every bound the relay puts on libp2p and circuit relay v2. The library
 * defaults are written for a volunteer relay on the public DHT and break a
 * relay that an app's devices depend on (DESIGN.md §1); each value here is
 * chosen for Tandem. See the table in packages/relay/README.md.
 *
 * | field                          | library option                                   | library default | Tandem  |
 * | ------------------------------ | ------------------------------------------------ | --------------- | ------- |
 * | maxConnections                 | connectionManager.maxConnections                 | 300             | 4,096   |
 * | maxIncomingPendingConnections  | connectionManager.maxIncomingPendingConnections  | 10              | 1,024   |
 * | maxPendingConnectionsPerAddress| (Tandem: connection gater, per IPv4 / IPv6 /64)  | unbounded       | 64      |
 * | inboundConnectionThreshold     | connectionManager.inboundConnectionThreshold     | 5 /s per host   | 8,192   |
 * | inboundUpgradeTimeoutMs        | connectionManager.inboundUpgradeTimeout          | 10 s            | 15 s    |
 * | tcpBacklog                     | tcp({ backlog })                                 | 511 (Node)      | 1,024   |
 * | connectionPingIntervalMs       | (Tandem: yamux ping when quiet; monitor off)     | every 10 s      | 90 s    |
 * | connectionPingTimeoutMs        | (Tandem: the pong's deadline)                    | adaptive        | 15 s    |
 * | maxReservations                | circuitRelayServer reservations.maxReservations  | 15              | 4,096   |
 * | reservationHelloWaitMs         | (Tandem: connection gater, served devices only)  | anyone, at once | 3 s     |
 * | maxLinkingSessions             | (Tandem: store sessions without an account)      | —               | 64      |
 * | linkingSessionMs               | (Tandem: such a session's lifetime)              | —               | 10 min  |
 * | reservationTtlMs               | reservations.reservationTtl                      | 2 h             | 1 h     |
 * | relayedDataLimitBytes          | reservations.defaultDataLimit (both directions)  | 128 KiB         | 512 MiB |
 * | relayedDurationLimitMs         | reservations.defaultDurationLimit                | 2 min           | 4 h     |
 * | maxCircuits                    | (Tandem: connection gater, whole relay)          | unbounded       | 8,192   |
 * | maxCircuitsPerDestination      | circuitRelayServer maxOutboundStopStreams        | 300 per conn    | 256     |
 * | maxCircuitsPerSource           | circuitRelayServer maxInboundHopStreams          | 32 per conn     | 64      |
 * | hopTimeoutMs                   | circuitRelayServer hopTimeout                    | 30 s            | 30 s    |
 *
 * Browser devices (DESIGN.md §1) reach the relay over WebSockets only, hold a
 * reservation each, and reach every other device through a circuit; the
 * values above are sized for that. A reservation lasts exactly as long as its
 * holder stays connected and keeps refreshing it (reservations.ts).
 */
export interface RelayLimits {
  /**
   * Open libp2p connections before the connection manager prunes. One per
   * online device (a device keeps one connection to the relay; circuits ride
   * on it), so this is "devices online at once". Each costs a socket (the
   * process needs a file-descriptor limit above it) and yamux/Noise state.
   */
  maxConnections: number
  /**
   * Inbound connections still in the Noise/yamux upgrade at once; more are
   * dropped at accept. 10 refuses a reconnect storm (relay restart, network
   * change) where every device dials at once; 1,024 admits 1,000 devices in
   * one burst while still bounding handshake CPU.
   */
  maxIncomingPendingConnections: number
  /**
   * Inbound connections still in their handshake from one address (an IPv4 address, an
   * IPv6 /64) at once; more from it are refused before any handshake work. Without it one
   * host held every pending place: 1,100 TCP connections from one address that sent
   * nothing kept the relay from accepting any new peer for 29.4 s (until the 30 s upgrade
   * timeout) while /healthz said 200. At 64, it takes 16 addresses to fill
   * maxIncomingPendingConnections. Devices behind one NAT, and every browser device behind
   * the TLS proxy, share an address: a burst from there beyond 64 at once is refused in
   * part and those devices retry (their backoff starts at 250 ms); the relay's CPU bounds
   * such a burst anyway (8.0 ms of relay CPU per inbound connection, Noise + yamux +
   * identify, measured over 300 connections on a 2-core machine).
   */
  maxPendingConnectionsPerAddress: number
  /**
   * Inbound connections per second from one IP address. Devices behind one
   * NAT (an office, a carrier-grade NAT) and every bench client on 127.0.0.1
   * share an address; 5/s refuses them. Behind the TLS proxy that browsers
   * need (README "Browser devices"), every browser device arrives from the
   * proxy's address, so one host is all of them: 8,192/s lets all 4,096
   * devices connect (and reconnect once) within a second. Handshake CPU stays
   * bounded by maxIncomingPendingConnections.
   */
  inboundConnectionThreshold: number
  /**
   * A new inbound connection must finish Noise + yamux within this, or it is closed: a
   * connection that sends nothing holds its pending place this long. A burst of handshakes
   * queues on the CPU: maxIncomingPendingConnections of them take ~8 s of relay CPU (8.0 ms
   * each, see maxPendingConnectionsPerAddress), so 15 s leaves the last of a full burst
   * room, where 30 s let idle connections hold their places twice as long.
   */
  inboundUpgradeTimeoutMs: number
  /** TCP accept queue length (the kernel caps it at net.core.somaxconn). */
  tcpBacklog: number
  /**
   * The relay pings a connection that has sent it nothing for this long (one yamux ping,
   * 30 B each way) and drops it when the pong does not come within connectionPingTimeoutMs
   * (phones that vanished without closing): a dead device is dropped within 105 s. A device
   * pings its own relay connection after 45 s of quiet (the engine's net/keep-alive.ts), so
   * the relay never pings a live one: an idle device costs 80 B a minute, where libp2p's
   * connection monitor (a ping stream to every connection every 30 s, ~330–530 B each) and
   * yamux's keep-alive from both ends cost 4.9 KB a minute (issue 15). Twice the device's
   * 45 s (one lost ping is not a dead device); under @libp2p/tcp's 2-minute socket inactivity
   * timeout, which would otherwise close a quiet connection first.
   */
  connectionPingIntervalMs: number
  /** A keep-alive ping's pong must come within this, or the connection is closed as dead (a mobile round trip under load stays well inside it). */
  connectionPingTimeoutMs: number
  /**
   * Circuit relay v2 reservations held at once: one per device behind NAT
   * (and every browser device) that wants to be reachable through the relay.
   * 15 leaves every device after the 15th unreachable. A reservation is
   * dropped when its holder's last connection closes, so this never needs
   * to exceed maxConnections.
   */
  maxReservations: number
  /**
   * Reservations go only to devices the relay serves: a peer with a /tandem/store session
   * past its hello, listed (and not revoked) in its account's device list. Before, any
   * peer id got one for an hour, so throw-away identities could take every slot. A device
   * asks for its reservation as soon as identify has run, beside its hello on
   * /tandem/store, so a request from a peer not served yet waits this long for its hello
   * to be accepted before it is refused; a refused request takes no slot. libp2p's client
   * gives up on a reservation after 5 s (DEFAULT_RESERVATION_COMPLETION_TIMEOUT).
   */
  reservationHelloWaitMs: number
  /**
   * /tandem/store sessions of devices with no account yet (a hello without one), open at
   * once: a device being linked shows a link code naming the relay's circuit, so it must be
   * reachable there before it is listed, and such a session earns a reservation. Anyone can
   * open one, so they get a small share of maxReservations: at 64 (1.6 % of 4,096) peers that
   * are no device of any account can hold at most 64 reservation slots at any time, and the
   * devices the relay serves keep the rest. Linking is a rare act of a person (a few a day per
   * account), so 64 at once is far above real demand; one more gets ERR_LINK_RATE_LIMITED and
   * retries. When such a session ends and nothing else serves its peer, its reservation is
   * dropped, so closing and reopening sessions does not pile up slots.
   */
  maxLinkingSessions: number
  /**
   * A linking session is closed this long after its hello. A link code lives 5 minutes by
   * default (DEFAULT_LINK_CODE_TTL_MS); 10 minutes covers a whole code and the time to finish
   * linking (the passphrase's Argon2id, signing the link) and then bounds how long a peer
   * that never gets linked keeps its place and its reservation. A device still showing a
   * code says hello again.
   */
  linkingSessionMs: number
  /**
   * How long a reservation lasts without a refresh. Clients refresh 5 minutes
   * before expiry, so a live device keeps its slot forever (reservations.ts
   * keeps the library from expiring it early); a device whose connection
   * closes loses its slot at once, so this only bounds a connected client
   * that stopped refreshing.
   */
  reservationTtlMs: number
  /**
   * Bytes one relayed connection may carry, both directions counted together
   * (the library shares one budget and resets the circuit when it runs out,
   * which the peers see as a stream reset, not a clean error). Pairing,
   * catch-up between two devices and attachments must fit: 512 MiB.
   */
  relayedDataLimitBytes: number
  /**
   * How long one relayed connection may stay open. Sent on the wire as a
   * uint32 (this library uses ms), so at most 2^32 - 1.
   */
  relayedDurationLimitMs: number
  /**
   * Relayed connections open through this relay at once (the library has no
   * global bound). Every path between a browser device and another device is
   * a circuit: an account of k devices that all need the relay has k(k-1)/2
   * of them, and two devices that dial each other at once open two. 8,192 is
   * two per device at maxConnections; an idle circuit cost the relay about
   * 65-110 KiB RSS (measured over 200 and 400 circuits, against ~130 KiB per
   * connection with a reservation), so at most ~0.9 GiB.
   */
  maxCircuits: number
  /** Relayed connections open at once to one destination device (STOP streams on its connection). */
  maxCircuitsPerDestination: number
  /** Relayed connections one device may have open at once through the relay (HOP streams on its connection). */
  maxCircuitsPerSource: number
  /** A HOP request (reserve / connect) must complete within this. */
  hopTimeoutMs: number
}

export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxConnections: 4_096,
  maxIncomingPendingConnections: 1_024,
  maxPendingConnectionsPerAddress: 64,
  inboundConnectionThreshold: 8_192,
  inboundUpgradeTimeoutMs: 15_000,
  tcpBacklog: 1_024,
  connectionPingIntervalMs: 90_000,
  connectionPingTimeoutMs: 15_000,
  maxReservations: 4_096,
  reservationHelloWaitMs: 3_000,
  maxLinkingSessions: 64,
  linkingSessionMs: 10 * minute,
  reservationTtlMs: 1 * hour,
  relayedDataLimitBytes: 512 * MiB,
  relayedDurationLimitMs: 4 * hour,
  maxCircuits: 8_192,
  maxCircuitsPerDestination: 256,
  maxCircuitsPerSource: 64,
  hopTimeoutMs: 30_000
})

/** Fills in defaults and checks every bound; throws RelayConfigError. */
export function resolveRelayLimits(limits: Partial<RelayLimits> = {}): Readonly<RelayLimits> {
  const out: RelayLimits = { ...DEFAULT_RELAY_LIMITS }
  for (const [key, value] of Object.entries(limits) as Array<[keyof RelayLimits, number | undefined]>) {
    if (value === undefined) continue
    if (!(key in DEFAULT_RELAY_LIMITS)) throw new RelayConfigError(`unknown relay limit ${String(key)}`)
    if (!Number.isSafeInteger(value) || value < 1) throw new RelayConfigError(`relay limit ${key} must be a positive integer, got ${String(value)}`)
    out[key] = value
  }
  if (out.relayedDurationLimitMs > 0xffff_ffff) {
    throw new RelayConfigError(`relay limit relayedDurationLimitMs must fit a uint32 (≤ ${0xffff_ffff} ms), got ${out.relayedDurationLimitMs}`)
  }
  if (out.connectionPingIntervalMs >= TCP_SOCKET_TIMEOUT_MS) {
    throw new RelayConfigError(`relay limit connectionPingIntervalMs must be under ${TCP_SOCKET_TIMEOUT_MS} ms (the TCP inactivity timeout), got ${out.connectionPingIntervalMs}`)
  }
  return Object.freeze(out)
}
