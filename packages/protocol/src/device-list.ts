/**
 * The signed device list: the account key's statement of which libp2p peer ids are its
 * devices (with a name each) and which are revoked for good. Versioned so that the
 * relay and devices keep the newest one; revocation is one-way across versions.
 * Grammar: PROTOCOL.md.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MAX_DEVICE_NAME_BYTES, MAX_PEER_ID_BYTES, SIGNATURE_BYTES } from './certificate.js'
import { InvalidCredentialsError, InvalidDeviceListError, StaleDeviceListError, UnsupportedVersionError, WrongAccountError } from './errors.js'
import { ACCOUNT_PUBLIC_KEY_BYTES, accountIdFromPublicKey, accountKeyFromSecret, type AccountKeyPair } from './identity.js'
import * as wire from './wire.js'

/** Version of the encoding (the leading byte), not of a list: that is `SignedDeviceList.version`. */
export const DEVICE_LIST_FORMAT_VERSION = 1
/** Prepended to what the account key signs, so a device list signature is valid as nothing else. */
export const DEVICE_LIST_SIGNATURE_DOMAIN = 'tandem/device-list'
export const MAX_DEVICES = 256
export const MAX_REVOKED = 1024

export interface DeviceListEntry {
  peerId: string
  name: string
  /** Milliseconds since the epoch (a non-negative safe integer). */
  createdAt: number
}

export interface SignedDeviceList {
  accountPublicKey: Uint8Array
  /** Grows with every list the account signs; ≥ 1. */
  version: number
  /** In the order the signer gave; peer ids are unique. */
  devices: DeviceListEntry[]
  /** Peer ids revoked for good (unique); a peer id both here and in `devices` is revoked. */
  revoked: string[]
  /** Milliseconds since the epoch. */
  issuedAt: number
  signature: Uint8Array
}

type DeviceListBody = Omit<SignedDeviceList, 'signature'>

const errs: wire.WireErrors = {
  malformed: (m, o) => new InvalidDeviceListError(`device list ${m}`, o),
  tooLarge: (m, o) => new InvalidDeviceListError(`device list ${m}`, o)
}

function writeBody(encoder: encoding.Encoder, body: DeviceListBody): void {
  wire.writeUint(encoder, 'format version', DEVICE_LIST_FORMAT_VERSION, errs)
  wire.writeFixedBytes(encoder, 'accountPublicKey', body.accountPublicKey, ACCOUNT_PUBLIC_KEY_BYTES, errs)
  writeListVersion(encoder, body.version)
  if (!Array.isArray(body.devices)) throw errs.malformed('devices: not an array')
  wire.writeCount(encoder, 'devices', body.devices.length, MAX_DEVICES, errs)
  const seen = new Set<string>()
  for (const device of body.devices) {
    if (typeof device !== 'object' || device === null) throw errs.malformed('devices: entry is not an object')
    wire.writeString(encoder, 'device peerId', device.peerId, MAX_PEER_ID_BYTES, errs)
    unique(seen, device.peerId, 'devices')
    wire.writeString(encoder, 'device name', device.name, MAX_DEVICE_NAME_BYTES, errs)
    wire.writeUint(encoder, 'device createdAt', device.createdAt, errs)
  }
  if (!Array.isArray(body.revoked)) throw errs.malformed('revoked: not an array')
  wire.writeCount(encoder, 'revoked', body.revoked.length, MAX_REVOKED, errs)
  seen.clear()
  for (const peerId of body.revoked) {
    wire.writeString(encoder, 'revoked peerId', peerId, MAX_PEER_ID_BYTES, errs)
    unique(seen, peerId, 'revoked')
  }
  wire.writeUint(encoder, 'issuedAt', body.issuedAt, errs)
}

function writeListVersion(encoder: encoding.Encoder, version: number): void {
  wire.writeUint(encoder, 'version', version, errs)
  if (version < 1) throw errs.malformed('version must be at least 1')
}

function unique(seen: Set<string>, peerId: string, what: string): void {
  if (seen.has(peerId)) throw errs.malformed(`${what}: peer id ${JSON.stringify(peerId)} appears twice`)
  seen.add(peerId)
}

/** The signed bytes: varstring(domain) followed by the list encoding minus its signature. */
function signedMessage(body: DeviceListBody): Uint8Array {
  return encoding.encode(encoder =>
    wire.guard(
      () => {
        encoding.writeVarString(encoder, DEVICE_LIST_SIGNATURE_DOMAIN)
        writeBody(encoder, body)
      },
      'device list',
      errs
    )
  )
}

/**
 * Signs a device list. Entries are copied (only their three fields), so later changes to
 * the caller's arrays cannot make the returned list stop verifying.
 */
export function signDeviceList(account: AccountKeyPair, body: { version: number; devices: DeviceListEntry[]; revoked: string[]; issuedAt: number }): SignedDeviceList {
  const { publicKey } = accountKeyFromSecret(account.secretKey)
  if (!wire.equalBytes(publicKey, account.publicKey)) {
    throw new InvalidCredentialsError('account publicKey does not match its secretKey')
  }
  const list: DeviceListBody = {
    accountPublicKey: publicKey,
    version: body.version,
    devices: wire.guard(() => body.devices.map(d => ({ peerId: d.peerId, name: d.name, createdAt: d.createdAt })), 'devices', errs),
    revoked: wire.guard(() => [...body.revoked], 'revoked', errs),
    issuedAt: body.issuedAt
  }
  return { ...list, signature: ed25519.sign(signedMessage(list), account.secretKey) }
}

/**
 * Checks the fields and the signature, then the expected account. Returns the list's
 * account id. Throws InvalidDeviceListError (malformed, bad signature) or
 * WrongAccountError (valid, but of another account than `expect.accountId`).
 */
export function verifyDeviceList(list: SignedDeviceList, expect: { accountId?: string } = {}): string {
  const message = signedMessage(list) // also validates every field's type, bound and uniqueness
  if (!(list.signature instanceof Uint8Array) || list.signature.length !== SIGNATURE_BYTES) {
    throw new InvalidDeviceListError(`device list signature must be ${SIGNATURE_BYTES} bytes`)
  }
  // Strict RFC 8032 like certificates: exactly one signature byte string verifies.
  let ok = false
  try {
    ok = ed25519.verify(list.signature, message, list.accountPublicKey, { zip215: false })
  } catch {
    ok = false
  }
  if (!ok) throw new InvalidDeviceListError('device list signature does not verify')
  const accountId = accountIdFromPublicKey(list.accountPublicKey)
  if (expect.accountId !== undefined && accountId !== expect.accountId) {
    throw new WrongAccountError(`device list belongs to account ${accountId}, expected ${expect.accountId}`)
  }
  return accountId
}

/**
 * Throws StaleDeviceListError unless `next` may replace `previous`: same account, a
 * greater version, and every peer id revoked in `previous` still revoked (revocation is
 * one-way). Any list may follow `null`. Signatures are not checked here: verify both
 * lists first (verifyDeviceList). Malformed lists are InvalidDeviceListError.
 */
export function checkDeviceListSuccessor(previous: SignedDeviceList | null, next: SignedDeviceList): void {
  signedMessage(next) // field checks, so the comparisons below see well-formed values
  if (previous === null) return
  signedMessage(previous)
  if (!wire.equalBytes(previous.accountPublicKey, next.accountPublicKey)) {
    throw new StaleDeviceListError(
      `device list of account ${accountIdFromPublicKey(next.accountPublicKey)} cannot replace one of account ${accountIdFromPublicKey(previous.accountPublicKey)}`
    )
  }
  if (next.version <= previous.version) {
    throw new StaleDeviceListError(`device list version ${next.version} is not newer than version ${previous.version}`)
  }
  const revoked = new Set(next.revoked)
  for (const peerId of previous.revoked) {
    if (!revoked.has(peerId)) {
      throw new StaleDeviceListError(`device list version ${next.version} un-revokes ${peerId}, revoked in version ${previous.version}`)
    }
  }
}

/** 'revoked' if the peer id is revoked (even if also listed), 'listed' if it is a device of the list, else 'unlisted'. */
export function deviceStatus(list: SignedDeviceList, peerId: string): 'listed' | 'revoked' | 'unlisted' {
  if (list.revoked.includes(peerId)) return 'revoked'
  if (list.devices.some(d => d.peerId === peerId)) return 'listed'
  return 'unlisted'
}

/** The account id of the list's account key. */
export function deviceListAccountId(list: SignedDeviceList): string {
  if (!(list.accountPublicKey instanceof Uint8Array) || list.accountPublicKey.length !== ACCOUNT_PUBLIC_KEY_BYTES) {
    throw errs.malformed(`accountPublicKey: expected ${ACCOUNT_PUBLIC_KEY_BYTES} bytes`)
  }
  return accountIdFromPublicKey(list.accountPublicKey)
}

export function writeSignedDeviceList(encoder: encoding.Encoder, list: SignedDeviceList): void {
  wire.guard(
    () => {
      writeBody(encoder, list)
      wire.writeFixedBytes(encoder, 'signature', list.signature, SIGNATURE_BYTES, errs)
    },
    'device list',
    errs
  )
}

/**
 * Throws InvalidDeviceListError on malformed bytes (including duplicate peer ids and
 * version 0), UnsupportedVersionError on an unknown format version. Signatures are not
 * checked: that is verifyDeviceList.
 */
export function readSignedDeviceList(decoder: decoding.Decoder): SignedDeviceList {
  return wire.guard(
    () => {
      const format = wire.readUint(decoder, 'format version', errs)
      if (format !== DEVICE_LIST_FORMAT_VERSION) {
        throw new UnsupportedVersionError(`device list format version ${format}, this build reads ${DEVICE_LIST_FORMAT_VERSION}`)
      }
      // Keys are copied, not viewed: lists are kept long after the frame buffer is gone.
      const accountPublicKey = wire.readFixedBytes(decoder, 'accountPublicKey', ACCOUNT_PUBLIC_KEY_BYTES, errs).slice()
      const version = wire.readUint(decoder, 'version', errs)
      if (version < 1) throw errs.malformed('version must be at least 1')
      const deviceCount = wire.readCount(decoder, 'devices', MAX_DEVICES, errs)
      const devices: DeviceListEntry[] = []
      const seen = new Set<string>()
      for (let i = 0; i < deviceCount; i++) {
        const peerId = wire.readString(decoder, 'device peerId', MAX_PEER_ID_BYTES, errs)
        unique(seen, peerId, 'devices')
        const name = wire.readString(decoder, 'device name', MAX_DEVICE_NAME_BYTES, errs)
        const createdAt = wire.readUint(decoder, 'device createdAt', errs)
        devices.push({ peerId, name, createdAt })
      }
      const revokedCount = wire.readCount(decoder, 'revoked', MAX_REVOKED, errs)
      const revoked: string[] = []
      seen.clear()
      for (let i = 0; i < revokedCount; i++) {
        const peerId = wire.readString(decoder, 'revoked peerId', MAX_PEER_ID_BYTES, errs)
        unique(seen, peerId, 'revoked')
        revoked.push(peerId)
      }
      const issuedAt = wire.readUint(decoder, 'issuedAt', errs)
      const signature = wire.readFixedBytes(decoder, 'signature', SIGNATURE_BYTES, errs).slice()
      return { accountPublicKey, version, devices, revoked, issuedAt, signature }
    },
    'device list',
    errs
  )
}

export function encodeSignedDeviceList(list: SignedDeviceList): Uint8Array {
  return encoding.encode(encoder => writeSignedDeviceList(encoder, list))
}

export function decodeSignedDeviceList(bytes: Uint8Array): SignedDeviceList {
  return wire.decodeWhole(bytes, readSignedDeviceList, 'device list', errs)
}
