/**
 * What the link service needs from the engine: the device's identity and account, the
 * two account steps a link makes (sign and publish the link that adds a device; become a
 * device of an account), the passphrase limiter's saved state, and the libp2p node's
 * streams. The engine implements it; the tests implement it on bare libp2p nodes and the
 * real chain functions. Nothing here knows the link protocol.
 */
import type { Connection, Stream, StreamHandlerOptions } from '@libp2p/interface'
import type { AttemptLimiterState, PassphraseVerifier } from '@tandem/protocol'
import type { Runtime } from '../runtime.js'

import type { DeviceGrant, DeviceOffer } from '../account/devices.js'

export type { DeviceGrant, DeviceOffer }

export interface LinkHost {
  /** Every clock read, timer and random byte of the service (the simulator's virtual ones in tests). */
  runtime: Runtime
  /** This device's peer id (its Ed25519 signing key). */
  peerId: string
  /** What this device lists itself as when it joins: its X25519 public key, name and platform. */
  describeSelf(): { agreementKey: Uint8Array; name: string; platform: string }
  hasAccount(): boolean
  /**
   * Existing device, once the person confirmed and the passphrase held: signs the chain link
   * that adds `offer`, has the relay accept it, and returns the account's chain up to it
   * (the key material, the chats to open first). Throws a TandemError to refuse (the device
   * limit, a fork it lost): the new device hears that error.
   */
  approveDevice(offer: DeviceOffer): Promise<Required<DeviceGrant>>
  /**
   * New device: the approval arrived and was checked (the chain verifies, its head, signed
   * by `fromPeerId`, lists this device as it described itself). Becomes a device of the account.
   */
  acceptGrant(grant: DeviceGrant, fromPeerId: string): Promise<void>
  /** The account's two-step verification, or null when it has none. */
  passphraseVerifier(): PassphraseVerifier | null
  /** The passphrase attempt limiter's state, saved across restarts so a restart forgets no failure. */
  loadLimiterState(): Promise<AttemptLimiterState | null>
  saveLimiterState(state: AttemptLimiterState): Promise<void>
  /** libp2p's `node.handle` / `node.unhandle`. */
  handle(protocol: string, handler: (stream: Stream, connection: Connection) => void, options: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string): Promise<void>
  /**
   * Opens a `protocol` stream to `peerId` at one of `addresses` (full multiaddrs ending in
   * /p2p/<peerId>; when the code listed none, the host may try its relays' circuits and
   * mDNS). Allowed over limited (relayed) connections. `remotePeerId` is the peer Noise
   * authenticated on the connection.
   */
  dial(addresses: string[], peerId: string, protocol: string, signal: AbortSignal): Promise<{ stream: Stream; remotePeerId: string }>
  /** Where other devices can reach this one (LAN listeners, relay circuits), without /p2p/<own id>: what a code lists. */
  reachableAddresses(): string[]
}
