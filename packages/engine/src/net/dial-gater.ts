import type { ConnectionGater } from '@libp2p/interface'
import { peerIdOf } from './addresses.js'
import type { Libp2pPlatform, NetworkOptions } from './libp2p-network.js'

/** The platform's dial rule, and with `directDial: false`, only relays and circuits through them. */
export function gaterFor(options: NetworkOptions, relayIds: Set<string>, platform: Libp2pPlatform): ConnectionGater | undefined {
  const direct = options.directDial !== false
  const denyDial = platform.denyDial
  if (direct && denyDial === undefined) return undefined
  return {
    denyDialMultiaddr: ma => {
      if (denyDial?.(ma, options) === true) return true
      return !direct && !ma.toString().includes('/p2p-circuit') && !relayIds.has(peerIdOf(ma))
    }
  }
}
