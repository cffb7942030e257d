/** Devices, keys and links for the device chain tests: fixed keys, so runs are repeatable and keys are derived once. */
import { signLinkBody } from '../src/device-chain/digest.js'
import {
  agreementKeyFromSecret,
  type ChainDevice,
  type ChainLink,
  type ChainLinkBody,
  type ChainSigner,
  type ChainState,
  createGenesis,
  peerIdFromSigningKey,
  type SigningKeyPair,
  signingKeyFromSeed,
  verifyGenesis
} from '../src/index.js'

export interface TestDevice {
  key: SigningKeyPair
  peerId: string
  device: ChainDevice
  /** Signs as this device. */
  signer: ChainSigner
}

const devices = new Map<number, TestDevice>()

/** Device `i` (1…99): its keys come from seeds filled with i. */
export function dev(i: number): TestDevice {
  let d = devices.get(i)
  if (d === undefined) {
    const key = signingKeyFromSeed(new Uint8Array(32).fill(i))
    const agreement = agreementKeyFromSecret(new Uint8Array(32).fill(100 + i))
    d = {
      key,
      peerId: peerIdFromSigningKey(key.publicKey),
      device: { signingKey: key.publicKey, agreementKey: agreement.publicKey, name: `device ${i}`, platform: i % 2 === 0 ? 'browser' : 'node', linkedAt: 1_000 + i },
      signer: { kind: 'device', key }
    }
    devices.set(i, d)
  }
  return d
}

/** Recovery keys (fixed seeds; the phrase derivation has its own tests, it is slow on purpose). */
export const recovery = signingKeyFromSeed(new Uint8Array(32).fill(200))
export const recovery2 = signingKeyFromSeed(new Uint8Array(32).fill(201))
export const asRecovery = (key: SigningKeyPair = recovery): ChainSigner => ({ kind: 'recovery', key })

/** A genesis founded by device `first`, with `recovery` as its recovery key. */
export function genesisOf(first = 1, issuedAt = 5_000): { link: ChainLink; state: ChainState } {
  const link = createGenesis({ device: dev(first).device, signer: dev(first).key, recoveryKey: recovery.publicKey, issuedAt })
  return { link, state: verifyGenesis(link) }
}

/** The body of the link after `state` that changes nothing, with `over` applied: for hand-made links that break one rule. */
export function nextBody(state: ChainState, signer: ChainSigner, over: Partial<ChainLinkBody> = {}): ChainLinkBody {
  return {
    version: state.version + 1,
    prev: state.headHash,
    issuedAt: 9_000 + state.version,
    recoveryKey: state.recoveryKey,
    devices: state.head.devices,
    revoked: state.head.revoked,
    extensions: [],
    signer: { kind: signer.kind, publicKey: signer.key.publicKey },
    ...over
  }
}

/** Signs any body, even one the rules refuse (the builders in src refuse to make those). */
export const signAny = (body: ChainLinkBody, key: SigningKeyPair): ChainLink => signLinkBody(body, key)

export const sortDevices = (list: ChainDevice[]): ChainDevice[] => [...list].sort((a, b) => Buffer.compare(a.signingKey, b.signingKey))
export const sortKeys = (list: Uint8Array[]): Uint8Array[] => [...list].sort(Buffer.compare)
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
