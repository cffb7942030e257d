// @tandem/engine for Node: classic-level on disk, libp2p over TCP/WebSockets with mDNS, zlib brotli.
import { openEngineOnOwnStore } from '../core/open-owned.js'
import './polyfill.js'
import { mkdir } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { Engine } from '../core/engine.js'
import type { EngineCoreOptions } from '../core/options.js'
import { InvalidArgumentError } from '../errors.js'
import type { Platform } from '../platform/platform.js'
import type { KeyValueStore } from '../store/kv.js'
import { nodeAead } from './aead.js'
import { nodeCompression } from './compression.js'
import { NodeLevelStore } from './level-store.js'
import { nodeLibp2p } from './network.js'
import { systemRuntime } from './runtime.js'
import { nodeSignatureBackend, nodeSignatures } from './signatures.js'

export * from '../api.js'
export { systemRuntime, nodeAead, nodeSignatures, nodeSignatureBackend }

export interface EngineOptions extends EngineCoreOptions {
  /** Directory for the on-disk store (classic-level). Either this or `store`. */
  dataDir?: string
  /** An injected abstract-level store (memory-level in tests). The engine opens and closes it. */
  store?: KeyValueStore
}

export const nodePlatform: Platform = {
  name: 'node',
  runtime: systemRuntime,
  compression: nodeCompression,
  aead: nodeAead,
  libp2p: nodeLibp2p,
  defaultDeviceName: () => hostname()
}

/** Opens (or creates) a device's engine on a data directory or an injected store. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('createEngine takes an options object')
  if (options.store !== undefined) return await Engine.open(options.store, nodePlatform, options)
  return await openEngineOnOwnStore(await openLevel(options.dataDir), nodePlatform, options)
}

async function openLevel(dataDir: string | undefined): Promise<KeyValueStore> {
  if (typeof dataDir !== 'string') throw new InvalidArgumentError('either dataDir or store is required')
  await mkdir(dataDir, { recursive: true })
  return new NodeLevelStore(join(dataDir, 'store'))
}
