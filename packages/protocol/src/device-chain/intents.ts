/**
 * Making links: a genesis for a new account, and the next link from what a person asked
 * for (add this device, revoke that one, rename, a new recovery key). Each intent is
 * checked against the head before anything is signed, with the same typed errors the
 * rules would raise, so a device learns why before it publishes a link nobody accepts.
 */
import { DeviceLimitError, DeviceNotListedError, DeviceRevokedError, InvalidDeviceListError, RevocationUndoneError, RevokedSignerError, SignerNotCurrentError } from '../errors.js'
import * as wire from '../wire.js'
import { signLinkBody } from './digest.js'
import { isUsableSigningKey, peerIdFromSigningKey, type SigningKeyPair, signingKeyFromPeerId } from './keys.js'
import { type ChainDevice, type ChainLink, compareBytes, keyHex, type LinkExtension } from './link.js'
import { type ChainPolicy, checkedPolicy, DEFAULT_CHAIN_POLICY } from './rules.js'
import type { ChainState } from './state.js'

export type ChainIntent =
  | { type: 'add-device'; device: ChainDevice }
  | { type: 'revoke-device'; peerId: string }
  /** `platform` left out keeps the listed one. */
  | { type: 'rename-device'; peerId: string; name: string; platform?: string }
  | { type: 'set-recovery-key'; recoveryKey: Uint8Array }

/** The key that signs the next link, and in which role. */
export interface ChainSigner {
  kind: 'device' | 'recovery'
  key: SigningKeyPair
}

/** The next link's content while intents are applied to it. */
export interface Draft {
  devices: Map<string, ChainDevice>
  revoked: Map<string, Uint8Array>
  recoveryKey: Uint8Array
}

/** A new account's first link, signed by its first device (which it lists). Its account id is accountIdFromGenesis. */
export function createGenesis(options: { device: ChainDevice; signer: SigningKeyPair; recoveryKey: Uint8Array; issuedAt: number; extensions?: LinkExtension[] }): ChainLink {
  const { device, signer } = options
  if (!wire.equalBytes(device?.signingKey, signer.publicKey))
    throw new InvalidDeviceListError("the genesis is signed by its first device: the device's signing key must be the signer's")
  if (!isUsableSigningKey(options.recoveryKey)) throw new InvalidDeviceListError('the recovery key is not a usable Ed25519 key')
  return signLinkBody(
    {
      version: 1,
      prev: null,
      issuedAt: options.issuedAt,
      recoveryKey: options.recoveryKey,
      devices: [copyDevice(device)],
      revoked: [],
      extensions: copyExtensions(options.extensions ?? []),
      signer: { kind: 'device', publicKey: signer.publicKey }
    },
    signer
  )
}

/**
 * Signs the successor of `head` that applies every intent, in order, or throws the typed
 * error of the first that cannot apply: RevokedSignerError / SignerNotCurrentError (the
 * signer is not current in `head`), DeviceNotListedError (revoking or renaming a peer id
 * that is not a listed device), DeviceRevokedError (renaming a revoked device),
 * RevocationUndoneError (adding a revoked device), DeviceLimitError, InvalidDeviceListError
 * (a malformed device or key). An intent already true in `head` changes nothing; no
 * intents at all make a link that only carries `extensions`.
 */
export function proposeLink(
  head: ChainState,
  intents: readonly ChainIntent[],
  signer: ChainSigner,
  options: { issuedAt: number; policy?: ChainPolicy; extensions?: LinkExtension[] | ExtensionsFor }
): ChainLink {
  checkSignerCurrent(head, signer)
  const draft = draftOf(head)
  for (const intent of intents) applyIntent(draft, intent)
  checkDraftLimit(head, draft, options.policy ?? DEFAULT_CHAIN_POLICY)
  const extensions = typeof options.extensions === 'function' ? options.extensions(head, draft) : (options.extensions ?? [])
  return signDraft(head, draft, signer, options.issuedAt, extensions)
}

/**
 * The extensions of a link, made for the list it will carry: key material (a key generation
 * sealed to the devices the draft lists) depends on who is added and revoked.
 */
export type ExtensionsFor = (head: ChainState, draft: Draft) => LinkExtension[]

export function checkSignerCurrent(head: ChainState, signer: ChainSigner): void {
  const key = signer.key.publicKey
  if (signer.kind === 'recovery') {
    if (!wire.equalBytes(key, head.recoveryKey)) throw new SignerNotCurrentError(`this recovery key is not the current one of account ${head.accountId}`)
    return
  }
  const hex = keyHex(key)
  if (head.revoked.has(hex)) throw new RevokedSignerError(`device ${peerIdFromSigningKey(key)} is revoked from account ${head.accountId}`)
  if (!head.devices.has(hex)) throw new SignerNotCurrentError(`device ${peerIdFromSigningKey(key)} is not a device of account ${head.accountId} at link ${head.version}`)
}

export function draftOf(head: ChainState): Draft {
  return {
    devices: new Map(head.devices),
    revoked: new Map(head.head.revoked.map(k => [keyHex(k), k])),
    recoveryKey: head.recoveryKey
  }
}

/** Applies one intent to the draft: 'applied', 'already' (true before), or a typed error (draft unchanged). */
export function applyIntent(draft: Draft, intent: ChainIntent): 'applied' | 'already' {
  switch (intent?.type) {
    case 'add-device': {
      const device = copyDevice(intent.device)
      const hex = keyHex(device.signingKey)
      if (draft.revoked.has(hex)) throw new RevocationUndoneError(`device ${peerIdFromSigningKey(device.signingKey)} was revoked: it can never be listed again`)
      const listed = draft.devices.get(hex)
      if (listed !== undefined) {
        if (wire.equalBytes(listed.agreementKey, device.agreementKey)) return 'already'
        throw new InvalidDeviceListError(`device ${peerIdFromSigningKey(device.signingKey)} is already listed with another agreement key`)
      }
      if (!isUsableSigningKey(device.signingKey)) throw new InvalidDeviceListError(`device key ${hex} is not a usable Ed25519 key`)
      draft.devices.set(hex, device)
      return 'applied'
    }
    case 'revoke-device': {
      const hex = listedKey(draft, intent.peerId, 'revoke')
      if (hex === null) return 'already'
      draft.revoked.set(hex, draft.devices.get(hex)!.signingKey)
      draft.devices.delete(hex)
      return 'applied'
    }
    case 'rename-device': {
      const hex = listedKey(draft, intent.peerId, 'rename')
      if (hex === null) throw new DeviceRevokedError(`device ${intent.peerId} is revoked: it cannot be renamed`)
      const device = draft.devices.get(hex)!
      const renamed = { ...device, name: intent.name, platform: intent.platform ?? device.platform }
      if (renamed.name === device.name && renamed.platform === device.platform) return 'already'
      draft.devices.set(hex, renamed)
      return 'applied'
    }
    case 'set-recovery-key': {
      if (wire.equalBytes(intent.recoveryKey, draft.recoveryKey)) return 'already'
      if (!isUsableSigningKey(intent.recoveryKey)) throw new InvalidDeviceListError('the new recovery key is not a usable Ed25519 key')
      draft.recoveryKey = intent.recoveryKey.slice()
      return 'applied'
    }
    default:
      throw new InvalidDeviceListError(`unknown chain intent ${JSON.stringify((intent as { type?: unknown })?.type)}`)
  }
}

/** The hex key of a listed device, null when it is revoked; DeviceNotListedError when it was never listed. */
function listedKey(draft: Draft, peerId: string, what: string): string | null {
  const key = signingKeyFromPeerId(peerId)
  if (key === null) throw new DeviceNotListedError(`cannot ${what} ${JSON.stringify(String(peerId).slice(0, 64))}: not the peer id of a device`)
  const hex = keyHex(key)
  if (draft.revoked.has(hex)) return null
  if (!draft.devices.has(hex)) throw new DeviceNotListedError(`cannot ${what} ${peerId}: not a device of the account`)
  return hex
}

/** DeviceLimitError when the draft adds a device and lists more than the policy allows. */
export function checkDraftLimit(head: ChainState, draft: Draft, policy: ChainPolicy): void {
  if (draft.devices.size <= checkedPolicy(policy).maxDevices) return
  if ([...draft.devices.keys()].some(hex => !head.devices.has(hex))) {
    throw new DeviceLimitError(`the account may list at most ${policy.maxDevices} devices; this change would list ${draft.devices.size}`)
  }
}

export function signDraft(head: ChainState, draft: Draft, signer: ChainSigner, issuedAt: number, extensions: LinkExtension[]): ChainLink {
  const bySigningKey = (a: ChainDevice, b: ChainDevice) => compareBytes(a.signingKey, b.signingKey)
  return signLinkBody(
    {
      version: head.version + 1,
      prev: head.headHash,
      issuedAt,
      recoveryKey: draft.recoveryKey,
      devices: [...draft.devices.values()].sort(bySigningKey),
      revoked: [...draft.revoked.values()].sort(compareBytes),
      extensions: copyExtensions(extensions),
      signer: { kind: signer.kind, publicKey: signer.key.publicKey }
    },
    signer.key
  )
}

/** Only the five fields, keys copied: later changes to the caller's objects cannot change a signed link. */
function copyDevice(d: ChainDevice): ChainDevice {
  if (typeof d !== 'object' || d === null) throw new InvalidDeviceListError('device: not an object')
  if (!(d.signingKey instanceof Uint8Array) || !(d.agreementKey instanceof Uint8Array)) throw new InvalidDeviceListError('device: keys must be Uint8Arrays')
  return { signingKey: d.signingKey.slice(), agreementKey: d.agreementKey.slice(), name: d.name, platform: d.platform, linkedAt: d.linkedAt }
}

function copyExtensions(extensions: LinkExtension[]): LinkExtension[] {
  if (!Array.isArray(extensions)) throw new InvalidDeviceListError('extensions: not an array')
  return extensions.map(x => ({ type: x?.type, data: x?.data instanceof Uint8Array ? x.data.slice() : x?.data }))
}
