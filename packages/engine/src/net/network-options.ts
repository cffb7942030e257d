import type { PeerDiscovery, Transport } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { KeepAliveOptions } from './keep-alive.js'

/** What `network` in the engine's options takes (Libp2pNetwork's settings). */
export interface NetworkOptions {
  /** Multiaddrs to listen on (Node default: every IPv4 interface, a free TCP port; browsers listen only through relays). */
  listen?: string[]
  /** Find the account's other devices on the LAN with mDNS (Node only; default off). */
  mdns?: boolean | { intervalMs?: number; serviceTag?: string }
  /** Multiaddrs (with /p2p/<peer id>) of devices to dial and keep dialing. */
  peers?: string[]
  /** Relay nodes (multiaddrs with /p2p/<relay id>): cloud history, and a circuit to reach devices. */
  relays?: string[]
  /**
   * Dial other devices directly (default true). With false, devices are reached only
   * through a relay's circuit — for networks where direct connections are not allowed.
   */
  directDial?: boolean
  /** Reconnection backoff: first delay and cap, in ms (defaults 250 and 30,000). */
  backoff?: { initialMs?: number; maxMs?: number }
  /**
   * Browsers only: also dial plain `ws://` on the loopback interface (tests, a relay on this
   * machine). A browser otherwise dials only secure WebSockets to public addresses, as
   * libp2p's browser default does: pages refuse `ws://` to anything else.
   */
  allowLoopbackWs?: boolean
  /**
   * When a quiet connection is pinged, and how long its pong may take before it is closed as
   * dead (defaults 45 s and 15 s: keep-alive.ts says why). Tests shorten them.
   */
  keepAlive?: KeepAliveOptions
}

/** A libp2p component factory: each takes the slice of the node's internals its own type names (hence `any`). */
// biome-ignore lint/suspicious/noExplicitAny: each factory names its own slice of libp2p's internals
export type Component<T> = (components: any) => T

/**
 * What a platform adds to the libp2p node: its transports (the engine adds circuit relay),
 * where it listens by default, how it discovers devices, and which addresses it may dial.
 */
export interface Libp2pPlatform {
  transports(options: NetworkOptions): Array<Component<Transport>>
  defaultListen: string[]
  peerDiscovery(options: NetworkOptions): Array<Component<PeerDiscovery>>
  /** Refuses dials to addresses this platform cannot or must not reach. */
  denyDial?(ma: Multiaddr, options: NetworkOptions): boolean
}
