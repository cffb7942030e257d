import type { Link } from '@tandem/transport'
import type { NetworkOptions } from '../net/libp2p-network.js'
import type { Runtime } from '../runtime.js'
import type { DocStoreOptions } from '../store/doc-store.js'
import type { SegmentOptions } from '../chat/segment-loader.js'

/** What every assembly's `createEngine` takes, whatever the platform. */
export interface EngineCoreOptions {
  storeOptions?: DocStoreOptions
  /** Clock, timers and randomness; defaults to the platform's. */
  runtime?: Partial<Runtime>
  /** Name this device shows in the device list (default: the platform's, e.g. the host name). */
  deviceName?: string
  /** libp2p networking; `false` runs without it (links can still be added with `addLink`). */
  network?: NetworkOptions | false
  /**
   * Relays reached over another transport (`addRelayLink`), by id — the simulator's network.
   * With libp2p, relays come from `network.relays`.
   */
  relayIds?: string[]
  /**
   * Without libp2p: opens one more stream to a relay of `relayIds` (null when it cannot be
   * reached now), for the short sessions outside the account's own (reading another account's
   * chain for an invite or a group, recovery). The simulator's network gives it.
   */
  openRelayStream?: (relayId: string) => Promise<Link | null>
  /** Most devices the account may list (default 10); a relay enforces its own. */
  maxDevices?: number
  /** Another device not seen for this long (ms; default 30 days) is revoked by this one; null never. */
  revokeInactiveAfterMs?: number | null
  /**
   * Long chats as segments: `history: 'recent'` fetches only the newest two segments by
   * itself (a metered network), older ones as `loadMessages` asks; `segmentMessages` and
   * `unload` are for tests and the simulator.
   */
  segments?: SegmentOptions
}
