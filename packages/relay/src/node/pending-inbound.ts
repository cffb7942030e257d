import type { MultiaddrConnection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../logger.js'

/** What {@link PendingInbound} reports to /healthz and /metrics. */
export interface PendingInboundStats {
  /** Inbound connections in the Noise/yamux handshake right now. */
  pending: number
  /** Addresses (IPv4, or IPv6 /64) holding `maxPendingConnectionsPerAddress` handshakes right now. */
  addressesAtLimit: number
  /** Inbound connections refused so far because their address already held its share. */
  refused: number
}

/** A warning about refused connections at most this often (a flood refuses thousands a second). */
const WARN_EVERY_MS = 10_000

/**
 * Inbound connections still in their handshake, counted per source address, for the
 * connection gater. libp2p bounds pending inbound connections for the whole node only
 * (`maxIncomingPendingConnections`), so before this, 1,100 TCP connections from one
 * address that sent nothing held all 1,024 places until `inboundUpgradeTimeout` (30 s) and
 * the relay accepted no new peer at all while `/healthz` said 200. Here one address (an
 * IPv4 address, an IPv6 /64: one host has a whole /64 to draw from) holds at most
 * `perAddress` of them; its next connection is refused before any handshake work.
 *
 * A connection counts from the gater's `denyInboundConnection` (libp2p has just counted it
 * as pending) until `denyInboundUpgradedConnection` (its handshake is done) or its close
 * (the handshake failed or timed out: the transport aborts it).
 */
export class PendingInbound {
  private readonly byAddress = new Map<string, number>()
  private readonly open = new Map<MultiaddrConnection, () => void>()
  private refusedTotal = 0
  private refusedSinceWarn = 0
  private lastWarn = Number.NEGATIVE_INFINITY

  constructor(
    private readonly perAddress: number,
    private readonly log: Logger
  ) {}

  /** `denyInboundConnection`: true (deny) when the connection's address already holds its share. */
  deny(maConn: MultiaddrConnection): boolean {
    const key = addressKey(maConn.remoteAddr)
    if (key === null) return false // not an IP connection: nothing to count it under
    const held = this.byAddress.get(key) ?? 0
    if (held >= this.perAddress) {
      this.refused(key)
      return true
    }
    this.byAddress.set(key, held + 1)
    let done = false
    const release = (): void => {
      if (done) return
      done = true
      this.open.delete(maConn)
      maConn.removeEventListener('close', release)
      const left = (this.byAddress.get(key) ?? 1) - 1
      if (left > 0) this.byAddress.set(key, left)
      else this.byAddress.delete(key)
    }
    this.open.set(maConn, release)
    maConn.addEventListener('close', release)
    return false
  }

  /** `denyInboundUpgradedConnection`: the handshake is done; never denies. */
  upgraded(maConn: MultiaddrConnection): boolean {
    this.open.get(maConn)?.()
    return false
  }

  stats(): PendingInboundStats {
    let addressesAtLimit = 0
    for (const n of this.byAddress.values()) if (n >= this.perAddress) addressesAtLimit++
    return { pending: this.open.size, addressesAtLimit, refused: this.refusedTotal }
  }

  private refused(key: string): void {
    this.refusedTotal++
    this.refusedSinceWarn++
    const now = Date.now()
    if (now - this.lastWarn < WARN_EVERY_MS) return
    this.log.warn({ address: key, refused: this.refusedSinceWarn, perAddress: this.perAddress }, 'inbound connections refused: their address holds its share of pending handshakes')
    this.lastWarn = now
    this.refusedSinceWarn = 0
  }
}

/**
 * The source a connection is counted under: its IPv4 address, or its IPv6 /64 prefix
 * (an IPv4-mapped IPv6 address counts as the IPv4 address); null for anything else.
 */
export function addressKey(addr: Multiaddr): string | null {
  const first = addr.getComponents()[0]
  if (first?.value === undefined) return null
  if (first.name === 'ip4') return first.value
  if (first.name !== 'ip6') return null
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(first.value)
  if (dotted !== null) return dotted[1]!
  const groups = expandIPv6(first.value)
  if (groups === null) return first.value
  // ::ffff:a.b.c.d, as multiaddr writes it (::ffff:c000:207)
  if (groups.slice(0, 5).every(g => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [Number.parseInt(groups[6]!, 16), Number.parseInt(groups[7]!, 16)]
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
  }
  return `${groups.slice(0, 4).join(':')}::/64`
}

/** "2001:db8::1" → its eight groups ("2001", "db8", "0", … "1"); null when it does not parse. */
function expandIPv6(ip: string): string[] | null {
  const [head, tail, more] = ip.split('::')
  if (more !== undefined) return null
  const part = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(':'))
  const a = part(head)
  const b = part(tail)
  const fill = tail === undefined ? 0 : 8 - a.length - b.length
  const groups = [...a, ...Array<string>(Math.max(0, fill)).fill('0'), ...b]
  if (groups.length !== 8 || groups.some(g => !/^[0-9a-f]{1,4}$/i.test(g))) return null
  return groups.map(g => g.toLowerCase().replace(/^0+(?=.)/, ''))
}
