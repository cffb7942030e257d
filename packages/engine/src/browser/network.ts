import { isPrivate } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import type { Multiaddr } from '@multiformats/multiaddr'
import { WebSockets } from '@multiformats/multiaddr-matcher'
import type { Libp2pPlatform } from '../net/libp2p-network.js'

/**
 * Browser devices: WebSockets to the relay, and everything else through its circuit (a page
 * cannot listen). They dial what libp2p's browser default allows — secure WebSockets to
 * public addresses — and, with `allowLoopbackWs`, plain `ws://` on the loopback interface.
 */
export const browserLibp2p: Libp2pPlatform = {
  transports: () => [webSockets()],
  defaultListen: [],
  peerDiscovery: () => [],
  denyDial: (ma, options) => {
    if (options.allowLoopbackWs === true && isLoopback(ma)) return false
    return WebSockets.matches(ma) || isPrivate(ma)
  }
}

function isLoopback(ma: Multiaddr): boolean {
  const first = ma.getComponents()[0]
  if (first === undefined) return false
  if (first.name === 'ip4') return first.value?.startsWith('127.') === true
  if (first.name === 'ip6') return first.value === '::1'
  return (first.name === 'dns' || first.name === 'dns4' || first.name === 'dns6') && first.value === 'localhost'
}
