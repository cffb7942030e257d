// @tandem/engine for browsers: browser-level (IndexedDB), libp2p over WebSockets and circuit
// relay, CompressionStream + a WebAssembly brotli decoder. Nothing here may reach a `node:`
// module or a Node-only package (packages/engine/test/import-graph.test.ts).
import { openEngineOnOwnStore } from '../core/open-owned.js'
import '../polyfill.js'
import { nobleAead } from '@tandem/protocol'
import { BrowserLevel } from 'browser-level'
import { Engine } from '../core/engine.js'
import type { EngineCoreOptions } from '../core/options.js'
import { InvalidArgumentError } from '../errors.js'
import type { Platform } from '../platform/platform.js'
import type { KeyValueStore } from '../store/kv.js'
import { browserCompression } from './compression.js'
import { browserLibp2p } from './network.js'
import { browserRuntime } from './runtime.js'

export * from '../api.js'
export { browserRuntime }

export interface EngineOptions extends EngineCoreOptions {
  /**
   * Which device of this browser profile this is: its IndexedDB database is
   * `tandem/<storeName>`, so several devices in one profile never share a store
   * (default `default`). Either this or `store`.
   */
  storeName?: string
  /** An injected abstract-level store (memory-level in tests). The engine opens and closes it. */
  store?: KeyValueStore
}

export const browserPlatform: Platform = {
  name: 'browser',
  runtime: browserRuntime,
  compression: browserCompression,
  aead: nobleAead, // (WebCrypto has no ChaCha20-Poly1305)
  libp2p: browserLibp2p,
  defaultDeviceName: () => browserName()
}

/** The IndexedDB database a device named `storeName` keeps its store in. */
export const databaseName = (storeName: string): string => `tandem/${storeName}`

/**
 * Opens (or creates) a device's engine in this browser profile. A store that cannot be
 * opened (IndexedDB blocked, private mode without storage, another tab's upgrade) rejects
 * with ERR_STORE_UNAVAILABLE: the engine never silently starts an empty device instead.
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('createEngine takes an options object')
  const storeName = options.storeName ?? 'default'
  if (typeof storeName !== 'string' || !/^[\w.-]{1,64}$/.test(storeName)) throw new InvalidArgumentError('storeName is 1 to 64 letters, digits, dots, dashes or underscores')
  if (options.store !== undefined) return await Engine.open(options.store, browserPlatform, options)
  const store = new BrowserLevel<string, Uint8Array>(databaseName(storeName), { prefix: '', keyEncoding: 'utf8', valueEncoding: 'view' })
  return await openEngineOnOwnStore(store, browserPlatform, options)
}

/** "Chromium on Linux", say: what a person recognises in their device list. */
function browserName(): string {
  const ua = globalThis.navigator?.userAgent ?? ''
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chromium' : /Safari\//.test(ua) ? 'Safari' : 'Browser'
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : ''
  return os === '' ? browser : `${browser} on ${os}`
}
