import { generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import {
  accountIdFromPublicKey,
  accountKeyFromSecret,
  decodeAccountCredentials,
  decodeDeviceCertificate,
  encodeAccountCredentials,
  encodeDeviceCertificate,
  type AccountKeyPair,
  type DeviceCertificate
} from '@tandem/protocol'
import { StoreCorruptError } from './errors.js'
import type { DocStore } from './store/doc-store.js'

/** This device's account membership: the account key it holds and its own certificate. */
export interface AccountIdentity {
  accountId: string
  keys: AccountKeyPair
  certificate: DeviceCertificate
}

const text = new TextEncoder()
const untext = new TextDecoder()

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

export async function loadAccount(store: DocStore): Promise<AccountIdentity | null> {
  const creds = await store.getMeta('account')
  const cert = await store.getMeta('device-cert')
  if (creds === undefined && cert === undefined) {
    if ((await store.listDocs()).length > 0) throw new StoreCorruptError('the account credentials are missing from a store that holds account data')
    return null
  }
  if (creds === undefined || cert === undefined) throw new StoreCorruptError(`the stored ${creds === undefined ? 'account credentials are' : 'device certificate is'} missing`)
  try {
    const keys = accountKeyFromSecret(decodeAccountCredentials(untext.decode(creds)).secretKey)
    return { accountId: accountIdFromPublicKey(keys.publicKey), keys, certificate: decodeDeviceCertificate(cert) }
  } catch (err) {
    throw new StoreCorruptError('stored account credentials are unreadable', { cause: err })
  }
}

export async function saveAccount(store: DocStore, identity: AccountIdentity): Promise<void> {
  await Promise.all([
    store.putMeta('account', text.encode(encodeAccountCredentials({ secretKey: identity.keys.secretKey }))),
    store.putMeta('device-cert', encodeDeviceCertificate(identity.certificate))
  ])
}
