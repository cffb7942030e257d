import type { KeyValueStore } from '@tandem/storage'
import type { Platform } from '../platform/platform.js'
import { Engine } from './engine.js'
import type { EngineCoreOptions } from './options.js'

/**
 * Opens an engine on a store the assembly opened for it (`dataDir`, `storeName`): when opening
 * fails — bad options, a store from another build — the store is closed again before the
 * error is thrown, so no handle is left open behind it (found: a rejected `createEngine` left
 * LevelDB creating files in a directory its caller was removing). A store the app passed in
 * stays the app's.
 */
export async function openEngineOnOwnStore(store: KeyValueStore, platform: Platform, options: EngineCoreOptions): Promise<Engine> {
  try {
    return await Engine.open(store, platform, options)
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
}
