import { generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { type AgreementKeyPair, agreementKeyFromSecret, isAccountId, type SigningKeyPair, signingKeyFromSeed } from '@tandem/protocol'
import { StoreCorruptError, StoreUnavailableError } from './errors.js'
import type { DocStore } from './store/doc-store.js'

// Identity records in a device store's metadata:
//   peer-key        libp2p protobuf of the device's Ed25519 key: its peer id and its signing key in the chain
//   agreement-key   the device's X25519 secret (32 bytes): what content keys are sealed to
//   account         UTF-8 account id, once the device belongs to an account
//   chain           the account's device chain as this device holds it (account/chain-keeper.ts)
// Stores written before the device chain held `device-cert` and the account's shared secret
// key under `account`; they are refused, never read as something else.

const text = new TextEncoder()
const untext = new TextDecoder()
const LEGACY_CREDENTIALS = 'tandem-account:'

/** Loads or creates the device's libp2p key, kept in the store so its peer id survives restarts. */
export async function loadPeerKey(store: DocStore, randomBytes: (n: number) => Uint8Array): Promise<PrivateKey> {
  const stored = await store.getMeta('peer-key')
  // a store with data has had its key since its first open: gone now means damaged, never a new identity
  if (stored === undefined && !store.isNew) throw new StoreCorruptError('the device key is missing from a store that holds data: this device must be set up again')
  if (stored !== undefined) {
    try {
      return privateKeyFromProtobuf(stored)
    } catch (err) {
      throw new StoreCorruptError('stored device key is unreadable', { cause: err })
    }
  }
  const key = await generateKeyPairFromSeed('Ed25519', randomBytes(32))
  await store.putMeta('peer-key', privateKeyToProtobuf(key))
  return key
}

/** The device's key-agreement key, made at its first open. */
export async function loadAgreementKey(store: DocStore, randomBytes: (n: number) => Uint8Array): Promise<AgreementKeyPair> {
  const stored = await store.getMeta('agreement-key')
  if (stored !== undefined) {
    try {
      return agreementKeyFromSecret(stored)
    } catch (err) {
      throw new StoreCorruptError('stored agreement key is unreadable', { cause: err })
    }
  }
  if ((await store.getMeta('account')) !== undefined) throw new StoreCorruptError('the agreement key is missing from a store that belongs to an account')
  const key = agreementKeyFromSecret(randomBytes(32))
  await store.putMeta('agreement-key', key.secretKey)
  return key
}

/** The chain signing key of a libp2p Ed25519 peer key (its raw form is the 32-byte seed, then the public key). */
export function signingKeyOf(peerKey: PrivateKey): SigningKeyPair {
  if (peerKey.type !== 'Ed25519') throw new StoreCorruptError(`the device key is ${peerKey.type}, not Ed25519`)
  return signingKeyFromSeed(peerKey.raw.subarray(0, 32))
}

/** The account this device belongs to, or null. */
export async function loadAccountId(store: DocStore): Promise<string | null> {
  const stored = await store.getMeta('account')
  if (stored === undefined) {
    if ((await store.getMeta('device-cert')) !== undefined) throw legacyStore()
    if ((await store.listDocs()).length > 0) throw new StoreCorruptError('the account record is missing from a store that holds account data')
    return null
  }
  const accountId = untext.decode(stored)
  if (accountId.startsWith(LEGACY_CREDENTIALS)) throw legacyStore()
  if (!isAccountId(accountId)) throw new StoreCorruptError('the stored account id is unreadable')
  return accountId
}

export async function saveAccountId(store: DocStore, accountId: string): Promise<void> {
  await store.putMeta('account', text.encode(accountId))
}

const legacyStore = (): StoreUnavailableError =>
  new StoreUnavailableError(
    'this device store was made by a Tandem from before device chains (every device held the account key): it cannot be opened; link this device again from a fresh data directory'
  )
