import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import type { Libp2pPlatform } from '../net/libp2p-network.js'

/** Node devices: TCP (and WebSockets, to reach a relay that only exposes those) and mDNS on the LAN. */
export const nodeLibp2p: Libp2pPlatform = {
  transports: () => [tcp(), webSockets()],
  defaultListen: ['/ip4/0.0.0.0/tcp/0'],
  peerDiscovery: options => {
    const m = options.mdns
    if (m !== true && typeof m !== 'object') return []
    return [mdns({ interval: (typeof m === 'object' ? m.intervalMs : undefined) ?? 1_000, serviceTag: typeof m === 'object' ? m.serviceTag : undefined })]
  }
}
