/**
 * The /tandem/store/1.0.0 vocabulary: the frames a device and a relay exchange, their tags
 * and bounds. store-frames.ts encodes and decodes them. Grammar and rules: PROTOCOL.md.
 */
import type { ChainHead } from './device-chain/chain-wire.js'
import type { ChainLink } from './device-chain/link.js'
import type { SignedMembership } from './membership.js'

export const STORE_PROTOCOL = '/tandem/store/1.0.0'
/** 2: the device chain replaced certificates and signed device lists (issue 13). */
export const STORE_PROTOCOL_VERSION = 2
/** Payload of one ephemeral / ephemeral-data frame (typing, presence): small, never chunked. */
export const MAX_EPHEMERAL_BYTES = 16 * 1024
/** Entries one `notices` frame may name. */
export const MAX_NOTICES = 64
/** Devices one `device-activity` frame may name (the chain lists at most 64). */
export const MAX_ACTIVITY_ENTRIES = 64

/** When the relay last served a device (ms since the epoch; 0: never). */
export interface DeviceActivity {
  peerId: string
  lastSeenAt: number
}

/**
 * An entry a subscriber gets without its bytes: its own upload (`liveId` 0), or one the
 * relay sent it live as `liveId`.
 */
export interface EntryNotice {
  seq: number
  liveId: number
}

export type StoreFrame =
  // device → relay
  /**
   * `accountId` null: a device with no account yet, here only to be reachable through the
   * relay's circuit while it is linked. `head`: the newest chain link the device holds.
   */
  | { type: 'hello'; version: number; accountId: string | null; head: ChainHead | null }
  /** Links the device holds beyond the relay's head (genesis first across runs). */
  | { type: 'offer-links'; links: ChainLink[]; last: boolean }
  | { type: 'membership'; record: SignedMembership }
  | { type: 'subscribe'; docId: string; since: number }
  | { type: 'unsubscribe'; docId: string }
  /** Subscribe from seq 0 with this device's own uploads sent as bytes, not echoes: a device repairing a damaged store. */
  | { type: 'refetch'; docId: string }
  /**
   * Subscribe whose backfill (entries up to the head) sends this device's own uploads as bytes:
   * a device that starts after a crash sends it once per doc, since its uploads do not wait
   * for its own disk and the crash may have taken writes the relay holds.
   */
  | { type: 'resume'; docId: string; since: number }
  | { type: 'append'; docId: string; uploadId: number; final: boolean; chunk: Uint8Array }
  | { type: 'snapshot'; docId: string; uploadId: number; covers: number; final: boolean; chunk: Uint8Array }
  | { type: 'ephemeral'; docId: string; payload: Uint8Array }
  // relay → device
  /** The head of the chain the relay holds for the account (null: none yet). */
  | { type: 'welcome'; head: ChainHead | null }
  /** Links of the relay's chain the device lacks, or the whole chain when the device's head is not on it. */
  | { type: 'links'; links: ChainLink[]; last: boolean }
  /** When the relay last served each device of the account. */
  | { type: 'device-activity'; devices: DeviceActivity[] }
  /**
   * A membership record that names the device's account (issue 16): each one the relay holds
   * after the device's session opens, then each new one as it is stored. How a member account's
   * devices learn of a chat another account made, with none of its devices online.
   */
  | { type: 'member-of'; record: SignedMembership }
  | { type: 'ack'; docId: string; uploadId: number; seq: number; sinceSnapshot: number; tailBytes: number; snapshotBytes: number }
  | { type: 'subscribed'; docId: string; head: number; entries: number; bytes: number }
  | { type: 'blob'; docId: string; seq: number; final: boolean; chunk: Uint8Array }
  | { type: 'notices'; docId: string; entries: EntryNotice[] }
  | { type: 'snapshot-data'; docId: string; covers: number; final: boolean; chunk: Uint8Array }
  | { type: 'caught-up'; docId: string; head: number }
  | { type: 'ephemeral-data'; docId: string; from: string; payload: Uint8Array }
  | { type: 'doc-error'; docId: string; uploadId: number; code: string; message: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'live'; docId: string; liveId: number; blob: Uint8Array }

export type StoreFrameType = StoreFrame['type']

/** Device → relay 1..10, relay → device 20..33. Tag 0 is reserved so that zero-filled garbage never parses. */
export const StoreFrameTag = {
  hello: 1,
  'offer-links': 2,
  membership: 3,
  subscribe: 4,
  unsubscribe: 5,
  append: 6,
  snapshot: 7,
  ephemeral: 8,
  refetch: 9,
  resume: 10,
  welcome: 20,
  ack: 21,
  subscribed: 22,
  blob: 23,
  notices: 24,
  'snapshot-data': 25,
  'caught-up': 26,
  'ephemeral-data': 27,
  'doc-error': 28,
  error: 29,
  live: 30,
  links: 31,
  'device-activity': 32,
  'member-of': 33
} as const satisfies Record<StoreFrameType, number>

const DEVICE_TO_RELAY: ReadonlySet<StoreFrameType> = new Set([
  'hello',
  'offer-links',
  'membership',
  'subscribe',
  'unsubscribe',
  'append',
  'snapshot',
  'ephemeral',
  'refetch',
  'resume'
])

/** True for the frames a device sends (tags 1..9), false for the relay's (20..33). */
export function isDeviceToRelayFrame(frame: StoreFrame): boolean {
  return DEVICE_TO_RELAY.has(frame.type)
}
