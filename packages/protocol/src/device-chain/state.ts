/**
 * What a verified chain says now: the head link and lookups over it. A ChainState is only
 * ever made by rules.ts from links it has checked, so holding one means "this is a valid
 * chain of this account up to this head".
 */
import { type ChainDevice, type ChainLink, keyHex } from './link.js'
import { peerIdFromSigningKey, signingKeyFromPeerId } from './keys.js'

export interface ChainState {
  readonly accountId: string
  readonly head: ChainLink
  readonly headHash: Uint8Array
  readonly version: number
  /** The recovery key that may sign the next link. */
  readonly recoveryKey: Uint8Array
  /** Current devices by hex signing key. */
  readonly devices: ReadonlyMap<string, ChainDevice>
  /** Revoked signing keys, hex. */
  readonly revoked: ReadonlySet<string>
}

/** A listed device with the peer id its signing key names. */
export interface ListedDevice extends ChainDevice {
  peerId: string
}

/** Lookups for a link whose checks have passed (rules.ts only). */
export function stateOf(accountId: string, head: ChainLink, headHash: Uint8Array): ChainState {
  return {
    accountId,
    head,
    headHash,
    version: head.version,
    recoveryKey: head.recoveryKey,
    devices: new Map(head.devices.map(d => [keyHex(d.signingKey), d])),
    revoked: new Set(head.revoked.map(keyHex))
  }
}

/**
 * 'listed' (may connect and sign the next link), 'revoked' (for good), or 'unlisted' (never
 * listed, or not a peer id of an Ed25519 key) — what the relay asks of a Noise peer id.
 */
export function chainDeviceStatus(state: ChainState, peerId: string): 'listed' | 'revoked' | 'unlisted' {
  const key = signingKeyFromPeerId(peerId)
  return key === null ? 'unlisted' : chainKeyStatus(state, key)
}

/**
 * chainDeviceStatus by the device's signing key: a hex lookup, where the peer id costs a
 * base58 decode (a device checking who wrote each blob of a 50-member group spent 15% of its
 * time there, 2026-12-07).
 */
export function chainKeyStatus(state: ChainState, signingKey: Uint8Array): 'listed' | 'revoked' | 'unlisted' {
  const hex = keyHex(signingKey)
  if (state.revoked.has(hex)) return 'revoked'
  return state.devices.has(hex) ? 'listed' : 'unlisted'
}

/** The current devices with their peer ids, in the link's order (by signing key). */
export function listChainDevices(state: ChainState): ListedDevice[] {
  return state.head.devices.map(d => ({ ...d, peerId: peerIdFromSigningKey(d.signingKey) }))
}

/** The peer ids revoked in the chain. */
export function revokedPeerIds(state: ChainState): string[] {
  return state.head.revoked.map(peerIdFromSigningKey)
}
