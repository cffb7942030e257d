/**
 * A link of an account's device chain: the account's full device list at one version,
 * chained by hash to the link before it and signed by a device current there, or by the
 * account's recovery key. This file has the shape, the bounds and the byte grammar
 * (PROTOCOL.md, "Device chain"); digest.ts hashes and signs, rules.ts judges successors.
 */
import { bytesToHex } from '@noble/hashes/utils.js'
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MAX_DEVICE_NAME_BYTES, SIGNATURE_BYTES } from '../limits.js'
import { InvalidDeviceListError, UnsupportedVersionError } from '../errors.js'
import * as wire from '../wire.js'
import { AGREEMENT_KEY_BYTES, SIGNING_KEY_BYTES } from './keys.js'

/** Version of the encoding (the leading varuint), not of a link: that is `ChainLink.version`. */
export const CHAIN_FORMAT_VERSION = 1
export const LINK_HASH_BYTES = 32
/** Wire bound on listed devices; the account's limit is a policy below it (rules.ts). */
export const MAX_CHAIN_DEVICES = 64
/** Revocations an account can make in its life: every link carries all of them. */
export const MAX_CHAIN_REVOKED = 1024
export const MAX_PLATFORM_BYTES = 32
export const MAX_LINK_EXTENSIONS = 8
export const MAX_EXTENSION_BYTES = 64 * 1024
/** A whole encoded link; leaves room for a hello and a certificate in one 256 KiB frame. */
export const MAX_LINK_BYTES = 128 * 1024
/** Links in one encoded chain (decodeChain). */
export const MAX_CHAIN_LINKS = 4096

export interface ChainDevice {
  /** Ed25519 public key: the device's libp2p peer key. Its peer id is computed from it (keys.ts). */
  signingKey: Uint8Array
  /** X25519 public key, what content keys are sealed to. Fixed for as long as the device is listed. */
  agreementKey: Uint8Array
  name: string
  /** What the device runs on ('node', 'browser', …); '' when not given. */
  platform: string
  /** Milliseconds since the epoch, set by the link that added the device; fixed after. */
  linkedAt: number
}

/** Who signed a link: a device listed in the link before (its signing key), or the recovery key current there. */
export interface LinkSigner {
  kind: 'device' | 'recovery'
  publicKey: Uint8Array
}

/**
 * Signed data the chain rules do not read: the extension point for what rides on a link,
 * e.g. the key generation boxes of issue 14 (PROTOCOL.md lists the reserved types).
 */
export interface LinkExtension {
  /** ≥ 1; unique and ascending within a link. */
  type: number
  data: Uint8Array
}

export interface ChainLinkBody {
  /** 1 for the genesis, then each link's predecessor's + 1. */
  version: number
  /** linkHash of the link before; null exactly for the genesis. */
  prev: Uint8Array | null
  /** Milliseconds since the epoch, the signer's clock; informative only. */
  issuedAt: number
  /** Ed25519 public key of the account's recovery key from this link on. */
  recoveryKey: Uint8Array
  /** Every current device, sorted by signing key (bytewise, strictly ascending). */
  devices: ChainDevice[]
  /** Signing keys revoked for good, sorted strictly ascending; never listed in `devices`. */
  revoked: Uint8Array[]
  extensions: LinkExtension[]
  signer: LinkSigner
}

export interface ChainLink extends ChainLinkBody {
  signature: Uint8Array
}

const SIGNER_KIND_CODES = { device: 1, recovery: 2 } as const

export const linkErrors: wire.WireErrors = {
  malformed: (m, o) => new InvalidDeviceListError(`chain link ${m}`, o),
  tooLarge: (m, o) => new InvalidDeviceListError(`chain link ${m}`, o)
}
const errs = linkErrors

/** Bytewise order of two byte strings (shorter first on a common prefix). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

export const keyHex = (key: Uint8Array): string => bytesToHex(key)

function ascending(previous: Uint8Array | null, key: Uint8Array, what: string): void {
  if (previous !== null && compareBytes(previous, key) >= 0) throw errs.malformed(`${what}: keys must be unique and in ascending order`)
}

function neverBoth(devices: ChainDevice[], revoked: Uint8Array[]): void {
  if (revoked.length === 0) return
  const gone = new Set(revoked.map(keyHex))
  for (const d of devices) if (gone.has(keyHex(d.signingKey))) throw errs.malformed(`device ${keyHex(d.signingKey)} is both listed and revoked`)
}

/** Writes the link minus its signature, checking every field: what digest.ts signs. */
export function writeLinkBody(encoder: encoding.Encoder, body: ChainLinkBody): void {
  const start = encoding.length(encoder)
  wire.writeUint(encoder, 'format version', CHAIN_FORMAT_VERSION, errs)
  wire.writeUint(encoder, 'version', body.version, errs)
  if (body.version < 1) throw errs.malformed('version must be at least 1')
  if (body.version === 1) {
    if (body.prev !== null) throw errs.malformed('the genesis (version 1) has no prev')
  } else {
    wire.writeFixedBytes(encoder, 'prev', body.prev as Uint8Array, LINK_HASH_BYTES, errs)
  }
  wire.writeUint(encoder, 'issuedAt', body.issuedAt, errs)
  wire.writeFixedBytes(encoder, 'recoveryKey', body.recoveryKey, SIGNING_KEY_BYTES, errs)
  if (!Array.isArray(body.devices)) throw errs.malformed('devices: not an array')
  wire.writeCount(encoder, 'devices', body.devices.length, MAX_CHAIN_DEVICES, errs)
  let last: Uint8Array | null = null
  for (const d of body.devices) {
    if (typeof d !== 'object' || d === null) throw errs.malformed('devices: entry is not an object')
    wire.writeFixedBytes(encoder, 'device signingKey', d.signingKey, SIGNING_KEY_BYTES, errs)
    ascending(last, d.signingKey, 'devices')
    last = d.signingKey
    wire.writeFixedBytes(encoder, 'device agreementKey', d.agreementKey, AGREEMENT_KEY_BYTES, errs)
    wire.writeString(encoder, 'device name', d.name, MAX_DEVICE_NAME_BYTES, errs)
    wire.writeString(encoder, 'device platform', d.platform, MAX_PLATFORM_BYTES, errs)
    wire.writeUint(encoder, 'device linkedAt', d.linkedAt, errs)
  }
  if (!Array.isArray(body.revoked)) throw errs.malformed('revoked: not an array')
  wire.writeCount(encoder, 'revoked', body.revoked.length, MAX_CHAIN_REVOKED, errs)
  last = null
  for (const key of body.revoked) {
    wire.writeFixedBytes(encoder, 'revoked key', key, SIGNING_KEY_BYTES, errs)
    ascending(last, key, 'revoked')
    last = key
  }
  neverBoth(body.devices, body.revoked)
  if (!Array.isArray(body.extensions)) throw errs.malformed('extensions: not an array')
  wire.writeCount(encoder, 'extensions', body.extensions.length, MAX_LINK_EXTENSIONS, errs)
  let lastType = 0
  for (const x of body.extensions) {
    if (typeof x !== 'object' || x === null) throw errs.malformed('extensions: entry is not an object')
    wire.writeUint(encoder, 'extension type', x.type, errs)
    if (x.type <= lastType) throw errs.malformed('extensions: types must be at least 1, unique and ascending')
    lastType = x.type
    wire.writeBytes(encoder, 'extension data', x.data, MAX_EXTENSION_BYTES, errs)
  }
  if (typeof body.signer !== 'object' || body.signer === null || !Object.hasOwn(SIGNER_KIND_CODES, body.signer.kind)) {
    throw errs.malformed("signer: kind must be 'device' or 'recovery'")
  }
  wire.writeUint(encoder, 'signer kind', SIGNER_KIND_CODES[body.signer.kind], errs)
  wire.writeFixedBytes(encoder, 'signer publicKey', body.signer.publicKey, SIGNING_KEY_BYTES, errs)
  const size = encoding.length(encoder) - start + SIGNATURE_BYTES
  if (size > MAX_LINK_BYTES) throw errs.tooLarge(`${size} bytes, over the bound of ${MAX_LINK_BYTES}`)
}

export function writeChainLink(encoder: encoding.Encoder, link: ChainLink): void {
  wire.guard(
    () => {
      writeLinkBody(encoder, link)
      wire.writeFixedBytes(encoder, 'signature', link.signature, SIGNATURE_BYTES, errs)
    },
    'chain link',
    errs
  )
}

/**
 * Throws InvalidDeviceListError on malformed bytes (bounds, order, a key both listed and
 * revoked…), UnsupportedVersionError on another format version. Neither the signature
 * nor any rule between links is checked here: that is rules.ts.
 */
export function readChainLink(decoder: decoding.Decoder): ChainLink {
  return wire.guard(() => readLink(decoder), 'chain link', errs)
}

function readLink(decoder: decoding.Decoder): ChainLink {
  const start = decoder.pos
  const format = wire.readUint(decoder, 'format version', errs)
  if (format !== CHAIN_FORMAT_VERSION) throw new UnsupportedVersionError(`chain link format version ${format}, this build reads ${CHAIN_FORMAT_VERSION}`)
  const version = wire.readUint(decoder, 'version', errs)
  if (version < 1) throw errs.malformed('version must be at least 1')
  // Keys are copied, not viewed: links are kept long after the frame buffer is gone.
  const prev = version === 1 ? null : wire.readFixedBytes(decoder, 'prev', LINK_HASH_BYTES, errs).slice()
  const issuedAt = wire.readUint(decoder, 'issuedAt', errs)
  const recoveryKey = wire.readFixedBytes(decoder, 'recoveryKey', SIGNING_KEY_BYTES, errs).slice()
  const deviceCount = wire.readCount(decoder, 'devices', MAX_CHAIN_DEVICES, errs)
  const devices: ChainDevice[] = []
  let last: Uint8Array | null = null
  for (let i = 0; i < deviceCount; i++) {
    const signingKey = wire.readFixedBytes(decoder, 'device signingKey', SIGNING_KEY_BYTES, errs).slice()
    ascending(last, signingKey, 'devices')
    last = signingKey
    const agreementKey = wire.readFixedBytes(decoder, 'device agreementKey', AGREEMENT_KEY_BYTES, errs).slice()
    const name = wire.readString(decoder, 'device name', MAX_DEVICE_NAME_BYTES, errs)
    const platform = wire.readString(decoder, 'device platform', MAX_PLATFORM_BYTES, errs)
    const linkedAt = wire.readUint(decoder, 'device linkedAt', errs)
    devices.push({ signingKey, agreementKey, name, platform, linkedAt })
  }
  const revokedCount = wire.readCount(decoder, 'revoked', MAX_CHAIN_REVOKED, errs)
  const revoked: Uint8Array[] = []
  last = null
  for (let i = 0; i < revokedCount; i++) {
    const key = wire.readFixedBytes(decoder, 'revoked key', SIGNING_KEY_BYTES, errs).slice()
    ascending(last, key, 'revoked')
    last = key
    revoked.push(key)
  }
  neverBoth(devices, revoked)
  const extensionCount = wire.readCount(decoder, 'extensions', MAX_LINK_EXTENSIONS, errs)
  const extensions: LinkExtension[] = []
  let lastType = 0
  for (let i = 0; i < extensionCount; i++) {
    const type = wire.readUint(decoder, 'extension type', errs)
    if (type <= lastType) throw errs.malformed('extensions: types must be at least 1, unique and ascending')
    lastType = type
    extensions.push({ type, data: wire.readBytes(decoder, 'extension data', MAX_EXTENSION_BYTES, errs).slice() })
    if (decoder.pos - start > MAX_LINK_BYTES) throw errs.tooLarge(`over the bound of ${MAX_LINK_BYTES} bytes`)
  }
  const kindCode = wire.readUint(decoder, 'signer kind', errs)
  const kind = kindCode === SIGNER_KIND_CODES.device ? 'device' : kindCode === SIGNER_KIND_CODES.recovery ? 'recovery' : null
  if (kind === null) throw errs.malformed(`signer kind ${kindCode}, expected 1 (device) or 2 (recovery)`)
  const signerKey = wire.readFixedBytes(decoder, 'signer publicKey', SIGNING_KEY_BYTES, errs).slice()
  const signature = wire.readFixedBytes(decoder, 'signature', SIGNATURE_BYTES, errs).slice()
  if (decoder.pos - start > MAX_LINK_BYTES) throw errs.tooLarge(`${decoder.pos - start} bytes, over the bound of ${MAX_LINK_BYTES}`)
  return { version, prev, issuedAt, recoveryKey, devices, revoked, extensions, signer: { kind, publicKey: signerKey }, signature }
}

export function encodeChainLink(link: ChainLink): Uint8Array {
  return encoding.encode(encoder => writeChainLink(encoder, link))
}

/** One whole link: over MAX_LINK_BYTES is refused before a byte is parsed; trailing bytes are an error. */
export function decodeChainLink(bytes: Uint8Array): ChainLink {
  if (bytes instanceof Uint8Array && bytes.length > MAX_LINK_BYTES) throw errs.tooLarge(`${bytes.length} bytes, over the bound of ${MAX_LINK_BYTES}`)
  return wire.decodeWhole(bytes, readChainLink, 'chain link', errs)
}

/** A chain as stored: `varuint(n) link{n}`, genesis first, n ≤ MAX_CHAIN_LINKS. Order and rules are not checked (verifyChain). */
export function encodeChain(links: readonly ChainLink[]): Uint8Array {
  return encoding.encode(encoder =>
    wire.guard(
      () => {
        if (!Array.isArray(links)) throw errs.malformed('chain: not an array')
        wire.writeCount(encoder, 'chain links', links.length, MAX_CHAIN_LINKS, errs)
        for (const link of links) writeChainLink(encoder, link)
      },
      'chain',
      errs
    )
  )
}

export function decodeChain(bytes: Uint8Array): ChainLink[] {
  return wire.decodeWhole(
    bytes,
    decoder => {
      const count = wire.readCount(decoder, 'chain links', MAX_CHAIN_LINKS, errs)
      const links: ChainLink[] = []
      for (let i = 0; i < count; i++) links.push(readLink(decoder))
      return links
    },
    'chain',
    errs
  )
}
