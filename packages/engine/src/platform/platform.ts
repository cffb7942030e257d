import type { AeadBackend } from '@tandem/protocol'
import type { Libp2pPlatform } from '../net/libp2p-network.js'
import type { Runtime } from '../runtime.js'
import type { Compression } from './compression.js'

/**
 * Everything the engine's core needs from the platform it runs on. The core imports no
 * `node:` module and no Node-only package; an assembly (`src/node`, `src/browser`) builds
 * one of these and the device's key-value store, and hands both to the core.
 * (packages/engine/test/import-graph.test.ts holds the core and the browser assembly to that.)
 */
export interface Platform {
  /** What the device list says this device runs on: 'node', 'browser'. */
  readonly name: string
  /** Clock, timers, randomness and the end-of-burst hook. */
  readonly runtime: Runtime
  /** How blobs for relays are compressed and inflated. */
  readonly compression: Compression
  /** XChaCha20-Poly1305 for sealed blobs (every backend gives the same bytes); noble's when absent. */
  readonly aead?: AeadBackend
  /** libp2p transports, discovery and dial rules. */
  readonly libp2p: Libp2pPlatform
  /** The name this device shows in the device list when the app gives none. */
  defaultDeviceName(): string
}
