import type { Libp2p } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { LinkHost } from '../linking/link-host.js'
import type { Runtime } from '../runtime.js'

/** The part of the link service's host that is the libp2p node: serving and dialing /tandem/link, and where this device is reachable. */
export type LinkStreams = Pick<LinkHost, 'handle' | 'unhandle' | 'dial' | 'reachableAddresses'> & {
  /** Resolves once the node has a relay circuit address (a reservation), or after `timeoutMs` (false). */
  waitForCircuit(timeoutMs: number): Promise<boolean>
}

/**
 * Linking over the engine's libp2p node. Dials run on limited (relayed) connections: a new
 * device behind NAT is reached through a relay's circuit. A code without addresses is
 * tried through every relay's circuit.
 */
export function linkStreams(node: Libp2p, relayAddrs: () => Multiaddr[], runtime: Runtime): LinkStreams {
  const self = node.peerId.toString()
  const circuits = (): string[] =>
    node
      .getMultiaddrs()
      .filter(a => a.toString().includes('/p2p-circuit'))
      .map(a => a.toString())
  return {
    handle: (protocol, handler, options) => node.handle(protocol, handler, options),
    unhandle: protocol => node.unhandle(protocol),
    async dial(addresses, peerId, protocol, signal) {
      const addrs = addresses.length > 0 ? addresses.map(a => multiaddr(a)) : relayAddrs().map(r => r.encapsulate(`/p2p-circuit/p2p/${peerId}`))
      const connection = await node.dial(addrs, { signal })
      const stream = await connection.newStream(protocol, { signal, runOnLimitedConnection: true })
      return { stream, remotePeerId: connection.remotePeer.toString() }
    },
    reachableAddresses: () =>
      node.getMultiaddrs().map(a => {
        const text = a.toString()
        const own = `/p2p/${self}`
        return text.endsWith(own) ? text.slice(0, -own.length) : text
      }),
    waitForCircuit(timeoutMs) {
      if (circuits().length > 0 || relayAddrs().length === 0) return Promise.resolve(circuits().length > 0)
      return new Promise(resolve => {
        const done = (found: boolean): void => {
          node.removeEventListener('self:peer:update', check)
          runtime.clearTimeout(timer)
          resolve(found)
        }
        const check = (): void => {
          if (circuits().length > 0) done(true)
        }
        const timer = runtime.setTimeout(() => {
          done(false)
        }, timeoutMs)
        node.addEventListener('self:peer:update', check)
      })
    }
  }
}
