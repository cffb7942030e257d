/** An account's devices as the API shows them, and what linking hands between two devices. */
import type { ChatHint } from '@tandem/protocol'

/** A device of the account, from its device chain (and a relay's report of when it was last served). */
export interface DeviceInfo {
  peerId: string
  name: string
  /** What it runs on: 'node', 'browser', or '' when it did not say. */
  platform: string
  /** When the link that listed it was signed (ms since the epoch, the signer's clock). */
  linkedAt: number
  /** When a relay last served it (ms); now for this device; null when no relay has said. */
  lastActiveAt: number | null
  thisDevice: boolean
}

/** What a device that wants to join says about itself: public keys and a name, nothing secret. */
export interface DeviceOffer {
  peerId: string
  /** X25519 public key: what content keys will be sealed to. */
  agreementKey: Uint8Array
  name: string
  platform: string
}

/** What an existing device hands a device it listed: the account's chain (encodeChain), key material and the chats to open first. */
export interface DeviceGrant {
  accountId: string
  chain: Uint8Array
  /** Content keys sealed to the new device (end-to-end encryption); empty until then. */
  keyMaterial: Uint8Array
  /**
   * The granter's most recent chats (pinned first), each with its newest segment: the new
   * device subscribes to them and to that segment at once, beside its account doc, instead of
   * learning them from it and then from each chat's index (its first screen: bench/README.md,
   * issue 15). Hints only; absent or empty, the docs bring the same, later.
   */
  hints?: ChatHint[]
}
