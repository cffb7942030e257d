import type { PrivateKey } from '@libp2p/interface'
import { DEFAULT_MAX_DEVICES, MAX_CHAIN_DEVICES } from '@tandem/protocol'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { KeyValueStore } from '@tandem/storage'
import type { ThisDevice } from '../account/account-service.js'
import { ChainKeeper } from '../account/chain-keeper.js'
import { InvalidArgumentError, StoreCorruptError, StoreUnavailableError } from '../errors.js'
import { loadAccountId, loadAgreementKey, loadPeerKey, signingKeyOf } from '../identity-store.js'
import type { Platform } from '../platform/platform.js'
import type { Runtime } from '../runtime.js'
import { DocStore, type DocStoreOptions } from '../store/doc-store.js'

/** What a device store holds before any service starts: the store checked, the device's keys, its account's chain. */
export interface OpenedDevice {
  store: DocStore
  peerKey: PrivateKey
  device: ThisDevice
  keeper: ChainKeeper | null
}

/** ERR_INVALID_ARGUMENT for account options out of their bounds, before anything opens. */
export function checkAccountOptions(options: { maxDevices?: number; revokeInactiveAfterMs?: number | null }): void {
  const max = options.maxDevices
  if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > MAX_CHAIN_DEVICES))
    throw new InvalidArgumentError(`maxDevices must be a whole number from 1 to ${MAX_CHAIN_DEVICES}, not ${max}`)
  const after = options.revokeInactiveAfterMs
  if (after !== undefined && after !== null && (!Number.isSafeInteger(after) || after < 60_000)) {
    throw new InvalidArgumentError(`revokeInactiveAfterMs must be null or a whole number of ms of at least a minute, not ${after}`)
  }
}

/** Opens the store (its check at open included) and reads the device's identity from it. */
export async function openDevice(
  db: KeyValueStore,
  platform: Platform,
  options: { storeOptions?: DocStoreOptions; deviceName?: string; maxDevices?: number },
  runtime: Runtime
): Promise<OpenedDevice> {
  const store = await DocStore.open(db, options.storeOptions)
  const peerKey = await loadPeerKey(store, runtime.randomBytes)
  const agreement = await loadAgreementKey(store, runtime.randomBytes)
  const signing = signingKeyOf(peerKey)
  const accountId = await loadAccountId(store)
  const keeper = accountId === null ? null : await ChainKeeper.load(store, accountId, { signing, agreement }, runtime, { maxDevices: options.maxDevices ?? DEFAULT_MAX_DEVICES })
  const device: ThisDevice = {
    peerId: peerIdFromPrivateKey(peerKey).toString(),
    signing,
    agreement,
    name: options.deviceName ?? platform.defaultDeviceName(),
    platform: platform.name
  }
  return { store, peerKey, device, keeper }
}

/**
 * Opens `db` and runs `open` on it. LevelDB reports damage its own checks found on a read (a
 * bad block, a bad table) as LEVEL_CORRUPTION: a store that can repair itself does, once, and
 * `open` runs again on what it salvaged (its notes make every doc damaged, so every doc is
 * fetched whole again). Any failure closes the store.
 */
export async function openWithRepair<T>(db: KeyValueStore, open: () => Promise<T>): Promise<T> {
  try {
    await db.open()
  } catch (err) {
    // (locked by another process or tab, unwritable, blocked): say so, never start an empty device
    throw new StoreUnavailableError(`the device store could not be opened: ${String((err as Error)?.cause ?? err)}`, { cause: err })
  }
  try {
    return await open()
  } catch (err) {
    let failure = err
    if (isLevelCorruption(err) && db.repair !== undefined) {
      try {
        await db.repair((err as Error).message)
        return await open()
      } catch (again) {
        failure = again
      }
    }
    await db.close().catch(() => {}) // (the error that matters is the one being thrown)
    if (isLevelCorruption(failure)) throw new StoreCorruptError(`the device store's files are damaged: ${(failure as Error).message}`, { cause: failure })
    throw failure
  }
}

const isLevelCorruption = (err: unknown): boolean => (err as { code?: unknown })?.code === 'LEVEL_CORRUPTION'
