import { type ChainLink, type ChainState, listChainDevices, peerIdFromSigningKey } from '@tandem/protocol'
import { toHex as keyHex } from '../util/hex.js'

/** What a change of the chain means to this device. */
export interface ChainChange {
  state: ChainState
  /** Peer ids listed now that were not before. */
  listed: string[]
  /** Peer ids revoked now that were not before. */
  revoked: string[]
  /** Links this device signed anew on top of a fork's winner (to publish). */
  rebased: ChainLink[]
}

/** The change from one chain state to the next: devices listed and revoked since, and the links signed again. */
export function diff(before: ChainState, after: ChainState, rebased: ChainLink[]): ChainChange {
  const was = new Set(listChainDevices(before).map(d => d.peerId))
  const listed = listChainDevices(after)
    .map(d => d.peerId)
    .filter(id => !was.has(id))
  const revokedBefore = new Set(before.revoked)
  const revoked = after.head.revoked.filter(k => !revokedBefore.has(keyHex(k))).map(k => peerIdFromSigningKey(k))
  return { state: after, listed, revoked, rebased }
}
