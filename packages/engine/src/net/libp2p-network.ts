import '../polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { STORE_PROTOCOL, SYNC_PROTOCOL, type TandemError } from '@tandem/protocol'
import { createLibp2p } from 'libp2p'
import { LinkUnreachableError, WrongRelayError } from '../errors.js'
import type { Runtime, TimerHandle } from '../runtime.js'
import { StreamLink, withJoinedWrites, yamuxHalfWindow, type Link } from '@tandem/transport'
import { keptAlive } from './keep-alive.js'
import type { Libp2pPlatform, NetworkOptions } from './network-options.js'
import { type LinkStreams, linkStreams } from './link-streams.js'
import { circuitRelayOf, listenError, otherPeerAnswered, peerAddress, peerIdOf } from './addresses.js'
import { MAX_JITTER, redialDelay, urgentMaxMs } from './redial.js'
import { gaterFor } from './dial-gater.js'

export type { Component, Libp2pPlatform, NetworkOptions } from './network-options.js'

/** Called for each new /tandem/store stream to a relay. */
export type RelayLinkHandler = (relayId: string, link: Link) => void

interface KnownPeer {
  addrs: Multiaddr[]
  attempt: number
  timer: TimerHandle | null
  dialing: boolean
  /** When the pending redial fires (runtime clock), while one is scheduled. */
  dueAt?: number
  /** When the relay's connection was lost, until it is back. */
  lostAt?: number | null
  stream?: Stream | null
  /** A relay added for a shared chat (addRelay), not one of the account's own: its circuit is not how the account's devices reach each other. */
  chatOnly?: boolean
}

/**
 * The libp2p side of the engine: the platform's transports + circuit relay + Noise + yamux, the
 * /tandem/sync handler, and a dialer that keeps every known device connected
 * with exponential backoff (jittered from the injected randomness).
 */
export class Libp2pNetwork {
  private readonly known = new Map<string, KnownPeer>()
  private readonly relays = new Map<string, KnownPeer>()
  private stopped = false
  /**
   * Whether to reach the relays: set by {@link connectRelays} once the device has an account.
   * A relay reserves circuit slots only for devices it serves (a hello it accepted on
   * /tandem/store), and libp2p asks for the reservation once per connection, right after
   * identify: a device that connected before it had an account to say hello with was
   * refused and stayed unreachable through the relay until it reconnected.
   */
  private relaysWanted = false
  onRelayLink: RelayLinkHandler = () => {}
  /** Whether this device has work waiting for a relay (uploads): then it is redialed at least every second (see redial.ts). */
  relayUrgent: (relayId: string) => boolean = () => false
  /** Something went wrong that the network survives (it retries), and that a person should hear of. */
  onError: (error: TandemError) => void = () => {}

  private constructor(
    private readonly node: Libp2p,
    private readonly options: NetworkOptions,
    private readonly runtime: Runtime,
    private readonly onLink: (link: Link) => void,
    private readonly isConnected: (peerId: string) => boolean,
    /** Every relay's peer id, the gater's too (a chat's relay is added to it when the chat names it). */
    private readonly relayIdSet: Set<string>
  ) {}

  static async create(
    privateKey: PrivateKey,
    options: NetworkOptions,
    runtime: Runtime,
    onLink: (link: Link) => void,
    isConnected: (peerId: string) => boolean,
    platform: Libp2pPlatform
  ): Promise<Libp2pNetwork> {
    const relays = (options.relays ?? []).map(a => peerAddress(a, 'relay'))
    for (const p of options.peers ?? []) peerAddress(p, 'peer')
    const relayIds = new Set(relays.map(peerIdOf))
    const node = await createLibp2p({
      start: false,
      privateKey,
      // '/p2p-circuit' makes a reservation on a relay we are connected to (found through
      // identify), so other devices can reach us through it. Unlike '<relay>/p2p-circuit' it
      // neither fails start() while the relay is down nor gives up when the relay restarts.
      addresses: { listen: [...(options.listen ?? platform.defaultListen), ...(relays.length > 0 ? ['/p2p-circuit'] : [])] },
      transports: [...platform.transports(options), circuitRelayTransport()],
      connectionGater: gaterFor(options, relayIds, platform),
      connectionEncrypters: [withJoinedWrites(noise())],
      // yamux's own keep-alive (a ping every 30 s from each side, answered or not) and libp2p's
      // connection monitor (a ping stream every 10 s, ~530 B) give way to one yamux ping on a
      // connection quiet for 45 s, which closes it when unanswered (keep-alive.ts)
      streamMuxers: [keptAlive(yamuxHalfWindow({ enableKeepAlive: false }), runtime, options.keepAlive)],
      connectionMonitor: { enabled: false },
      peerDiscovery: platform.peerDiscovery(options),
      services: { identify: identify() }
    })
    const net = new Libp2pNetwork(node, options, runtime, onLink, isConnected, relayIds)
    for (const ma of relays) net.relays.set(peerIdOf(ma), { addrs: [ma], attempt: 0, timer: null, dialing: false })
    // discovery can fire during start(): listen first
    node.addEventListener('peer:discovery', evt => {
      const id = evt.detail.id.toString()
      // libp2p reports every peer new to its peer store as discovered, the relay too once
      // identify has run on its connection: it is no device (it answers no /tandem/sync), and
      // dialing it as one cost ~330 B every half minute for ever
      if (net.relays.has(id)) return
      net.remember(
        id,
        evt.detail.multiaddrs.map(a => a.encapsulate(`/p2p/${id}`))
      )
    })
    return net
  }

  get peerId(): PeerId {
    return this.node.peerId
  }

  /** Serving and dialing /tandem/link on this node. */
  linkStreams(): LinkStreams {
    return linkStreams(this.node, () => this.homeRelays().map(([, r]) => r.addrs[0]!), this.runtime)
  }

  /**
   * A /tandem/store stream to each relay beside the account's own, for a device that has no
   * account yet: to be linked (a hello with no account gets it a circuit slot) or to recover
   * (the account's chain, read before this device is one of its devices). Not redialed:
   * both last seconds to minutes, and the account's own streams replace them.
   */
  async openRelayStreams(): Promise<Array<{ relayId: string; link: Link }>> {
    const opened = await Promise.all(
      this.homeRelays().map(async ([relayId, r]) => {
        try {
          const stream = await this.node.dialProtocol(r.addrs, STORE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
          return { relayId, link: new StreamLink(stream, relayId, 'outbound') as Link }
        } catch (err) {
          this.onError(new LinkUnreachableError(`relay ${relayId} could not be reached to be linked through it: ${(err as Error).message}`, { cause: err }))
          return null
        }
      })
    )
    return opened.filter(o => o !== null)
  }

  multiaddrs(): string[] {
    return this.node.getMultiaddrs().map(a => a.toString())
  }

  async start(): Promise<void> {
    await this.node.handle(
      SYNC_PROTOCOL,
      (stream, connection) => {
        this.onLink(new StreamLink(stream, connection.remotePeer.toString(), 'inbound', circuitRelayOf(connection.remoteAddr)))
      },
      { runOnLimitedConnection: true }
    )
    try {
      await this.node.start()
    } catch (err) {
      throw listenError(err)
    }
    for (const addr of this.options.peers ?? []) this.addPeer(addr)
    if (this.relaysWanted) this.connectRelays()
  }

  /** The relay accepted this device (welcome): reset its backoff. A refused device keeps backing off. */
  relayFound(relayId: string): void {
    const r = this.relays.get(relayId)
    if (r !== undefined) r.attempt = 0
  }

  /** The relays this device was configured with (not the ones added for shared chats). */
  private homeRelays(): Array<[string, KnownPeer]> {
    return [...this.relays].filter(([, r]) => r.chatOnly !== true)
  }

  /** Relay peer ids: the configured ones, then those added since (chats' relays). */
  relayIds(): string[] {
    return [...this.relays.keys()]
  }

  /**
   * Reaches one more relay from now on (a shared chat lives there): dialed and redialed like
   * the configured ones. Returns its peer id; ERR_INVALID_ARGUMENT for an address without one.
   */
  addRelay(address: string): string {
    const ma = peerAddress(address, 'relay')
    const id = peerIdOf(ma)
    if (!this.relays.has(id)) {
      this.relays.set(id, { addrs: [ma], attempt: 0, timer: null, dialing: false, chatOnly: true })
      this.relayIdSet.add(id)
      this.forget(id) // (it may have been remembered as a device before it was known as a relay)
    }
    if (this.relaysWanted && this.node.status === 'started') void this.connectRelay(id)
    return id
  }

  /** A /tandem/store stream to the relay at `address` outside the account's sessions (another account's chain is read on it); not redialed. */
  async openRelayStream(address: string): Promise<Link> {
    const ma = peerAddress(address, 'relay')
    try {
      const stream = await this.node.dialProtocol(ma, STORE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      return new StreamLink(stream, peerIdOf(ma), 'outbound')
    } catch (err) {
      throw new LinkUnreachableError(`relay ${address} could not be reached: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Opens a /tandem/store stream to every relay that has none, now or once started (the device has an account). */
  connectRelays(): void {
    this.relaysWanted = true
    if (this.node.status !== 'started') return // start() dials them
    for (const id of this.relays.keys()) void this.connectRelay(id)
  }

  /**
   * This device has work for the relay now (it wrote while the relay was away): a redial the
   * backoff put off for longer than an urgent one's comes sooner. (After a long time offline
   * the backoff reaches 30 s, and a message written when the network came back waited for it.)
   */
  relayWanted(relayId: string): void {
    const r = this.relays.get(relayId)
    if (r === undefined || r.timer === null || r.dueAt === undefined) return
    if (r.dueAt - this.runtime.now() <= urgentMaxMs(this.sinceLost(r)) * MAX_JITTER) return
    this.runtime.clearTimeout(r.timer)
    r.timer = null
    this.schedule(r, () => this.connectRelay(relayId), true)
  }

  /** Reaches a device through every relay's circuit (its peer id comes from the device list). */
  addPeerViaRelays(peerId: string): void {
    if (peerId === this.node.peerId.toString()) return
    for (const [, relay] of this.homeRelays()) this.remember(peerId, [relay.addrs[0]!.encapsulate(`/p2p-circuit/p2p/${peerId}`)])
  }

  private async connectRelay(relayId: string): Promise<void> {
    const r = this.relays.get(relayId)
    if (r === undefined || r.dialing || this.stopped || (r.stream != null && r.stream.status === 'open')) return
    if (r.timer !== null) {
      this.runtime.clearTimeout(r.timer)
      r.timer = null
    }
    r.dialing = true
    try {
      const stream = await this.node.dialProtocol(r.addrs, STORE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      if (this.stopped) {
        stream.abort(new Error('network stopped'))
        return
      }
      r.stream = stream
      r.lostAt = null
      stream.addEventListener('close', () => {
        if (r.stream !== stream) return // superseded: the live stream's own close redials
        r.stream = null
        r.lostAt = this.runtime.now()
        this.schedule(r, () => this.connectRelay(relayId), this.relayUrgent(relayId))
      })
      this.onRelayLink(relayId, new StreamLink(stream, relayId, 'outbound'))
    } catch (err) {
      // another peer answered at the relay's address: say so (a silent retry hid a wrong address)
      const answered = otherPeerAnswered(err)
      if (answered !== null) {
        this.onError(new WrongRelayError(`the relay at ${r.addrs[0]!.toString()} answered as ${answered}: is its address (its /p2p/ id) current?`, { cause: err }))
      }
      this.schedule(r, () => this.connectRelay(relayId), this.relayUrgent(relayId))
    } finally {
      r.dialing = false
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const p of [...this.known.values(), ...this.relays.values()]) if (p.timer !== null) this.runtime.clearTimeout(p.timer)
    await this.node.stop()
  }

  /** Dials a device now and keeps it connected from then on. */
  addPeer(address: string): void {
    const ma = peerAddress(address, 'peer')
    this.remember(peerIdOf(ma), [ma])
  }

  /** A session with this peer ended: try again after a backoff. */
  peerLost(peerId: string): void {
    const p = this.known.get(peerId)
    if (p !== undefined) this.schedule(p, () => this.connect(peerId))
  }

  /** A session with this peer opened: reset its backoff. */
  peerFound(peerId: string): void {
    const p = this.known.get(peerId)
    if (p !== undefined) p.attempt = 0
  }

  /** Stops redialing a peer that was refused (bad certificate, other account). */
  forget(peerId: string): void {
    const p = this.known.get(peerId)
    if (p?.timer != null) this.runtime.clearTimeout(p.timer)
    this.known.delete(peerId)
  }

  /** Retries every known peer now (an account was just created or joined). */
  redialAll(): void {
    for (const id of this.known.keys()) void this.connect(id)
  }

  private remember(peerId: string, addrs: Multiaddr[]): void {
    if (peerId === this.node.peerId.toString() || this.relays.has(peerId)) return
    const p = this.known.get(peerId)
    if (p === undefined) {
      this.known.set(peerId, { addrs, attempt: 0, timer: null, dialing: false })
    } else {
      const seen = new Set(p.addrs.map(a => a.toString()))
      for (const a of addrs) if (!seen.has(a.toString())) p.addrs.push(a)
    }
    void this.connect(peerId)
  }

  private async connect(peerId: string): Promise<void> {
    const p = this.known.get(peerId)
    if (p === undefined || p.dialing || this.stopped || this.isConnected(peerId)) return
    if (p.timer !== null) {
      this.runtime.clearTimeout(p.timer)
      p.timer = null
    }
    p.dialing = true
    try {
      const connection = await this.node.dial(p.addrs, { signal: AbortSignal.timeout(10_000) })
      const stream = await connection.newStream(SYNC_PROTOCOL, { signal: AbortSignal.timeout(10_000), runOnLimitedConnection: true })
      if (this.stopped) {
        stream.abort(new Error('network stopped'))
        return
      }
      this.onLink(new StreamLink(stream, peerId, 'outbound', circuitRelayOf(connection.remoteAddr)))
    } catch {
      this.schedule(p, () => this.connect(peerId))
    } finally {
      p.dialing = false
    }
  }

  private schedule(p: KnownPeer, retry: () => Promise<void>, urgent = false): void {
    if (this.stopped || p.timer !== null) return
    const delay = redialDelay({ attempt: p.attempt, urgent, sinceLostMs: this.sinceLost(p), randomByte: this.runtime.randomBytes(1)[0]! }, this.options.backoff)
    p.attempt++
    p.dueAt = this.runtime.now() + delay
    p.timer = this.runtime.setTimeout(() => {
      p.timer = null
      void retry()
    }, delay)
  }

  private sinceLost(p: KnownPeer): number | null {
    return p.lostAt == null ? null : this.runtime.now() - p.lostAt
  }
}
