import type { Libp2p, Listener } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Where the node's transports listen: bound ports, and a wildcard host as each of the
 * machine's addresses, each ending in /p2p/<peer id>. libp2p's getMultiaddrs() gives the
 * `announce` addresses instead whenever there are any, which hid from an operator where the
 * relay really listens (a /ws port behind a TLS proxy, say). Call before the node starts:
 * listeners report as they come up, in no fixed order, so the addresses come sorted by
 * transport (TCP before WebSockets, IPv4 before IPv6), then by address.
 */
export function trackListenAddrs(libp2p: Libp2p, peerId: string): () => string[] {
  const listeners = new Set<Listener>()
  libp2p.addEventListener('transport:listening', event => {
    listeners.add(event.detail)
  })
  libp2p.addEventListener('transport:close', event => {
    listeners.delete(event.detail)
  })
  return () => {
    const addrs = [...listeners].flatMap(l => l.getAddrs()).map(a => ({ transport: transportOf(a), addr: withPeerId(a.toString(), peerId) }))
    addrs.sort((x, y) => compare(x.transport, y.transport) || compare(x.addr, y.addr))
    return [...new Set(addrs.map(a => a.addr))]
  }
}

const transportOf = (a: Multiaddr): string =>
  a
    .getComponents()
    .map(c => c.name)
    .join('/')
const withPeerId = (a: string, peerId: string): string => (a.includes(`/p2p/${peerId}`) ? a : `${a}/p2p/${peerId}`)
const compare = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0)
