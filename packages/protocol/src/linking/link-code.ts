/**
 * The link code a new device shows (issue 13): who it is, where to dial it, a one-time
 * secret and an expiry. This file has the value, its bounds and its byte grammar
 * (PROTOCOL.md, "Linking"); link-code-text.ts writes it for people to type, link-code-qr.ts
 * draws it.
 *
 * Compact because people type it: the peer id travels as its 32-byte Ed25519 key (not the
 * 52 characters of "12D3KooW…"), addresses as binary multiaddrs (/ip4/192.168.1.23/tcp/40123
 * is 8 bytes instead of 27) without the device's own /p2p/<peerId> (the dialer appends it),
 * the expiry in whole seconds. A code with one circuit address and two LAN addresses is
 * about 150 bytes.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { InvalidLinkCodeError, LinkCodeExpiredError, LinkProofError, UnsupportedVersionError } from '../errors.js'
import * as wire from '../wire.js'
import { peerIdFromSigningKey, SIGNING_KEY_BYTES, signingKeyFromPeerId } from '../device-chain/keys.js'

/** Version of the code's encoding, its leading varuint. */
export const LINK_CODE_VERSION = 1
/** 128 bits: guessing is hopeless online, and no one can test a guess offline (PROTOCOL.md, "Linking"). */
export const LINK_SECRET_BYTES = 16
export const MAX_LINK_ADDRESSES = 4
/** One binary multiaddr: a circuit address through a relay named by a 24-character DNS name is 76 bytes, by a 76-character one 128. */
export const MAX_LINK_ADDRESS_BYTES = 128
/** The whole encoded code at every bound: version, key, secret, the latest expiry (7 varuint bytes), count, addresses (2-byte lengths): 577. */
export const MAX_LINK_CODE_BYTES = 1 + SIGNING_KEY_BYTES + LINK_SECRET_BYTES + 7 + 1 + MAX_LINK_ADDRESSES * (2 + MAX_LINK_ADDRESS_BYTES)
export const DEFAULT_LINK_CODE_TTL_MS = 5 * 60_000
/** A code valid for longer is a secret lying around for longer: createLinkCode refuses it. */
export const MAX_LINK_CODE_TTL_MS = 60 * 60_000
/**
 * How far the reader's clock may run ahead of the shower's. The device showing the code is
 * the judge of its expiry (LinkCodeHolder); the reader only refuses codes clearly expired.
 */
export const LINK_CODE_CLOCK_SKEW_MS = 60_000

export interface LinkCode {
  /** The new device's libp2p peer id; it must be of an Ed25519 key (the code carries the key). */
  peerId: string
  /**
   * Where to dial it, each a multiaddr without the device's own /p2p/<peerId> (linkDialAddresses
   * appends it): LAN addresses, and relay circuit addresses ending in /p2p-circuit. May be
   * empty: the dialer then looks for the peer id on the LAN and through its own relays.
   */
  addresses: string[]
  /** LINK_SECRET_BYTES, from the shower's randomness; never shown anywhere but in the code. */
  secret: Uint8Array
  /** Milliseconds since the Unix epoch, a whole second: the code is refused from then on. */
  expiresAt: number
}

export const linkCodeErrors: wire.WireErrors = {
  malformed: (m, o) => new InvalidLinkCodeError(`link code ${m}`, o),
  tooLarge: (m, o) => new InvalidLinkCodeError(`link code ${m}`, o)
}
const errs = linkCodeErrors

function addressBytes(address: string): Uint8Array {
  if (typeof address !== 'string') throw errs.malformed('address: not a string')
  let bytes: Uint8Array
  try {
    bytes = multiaddr(address).bytes
  } catch (cause) {
    throw errs.malformed(`address ${JSON.stringify(address.slice(0, 200))} is not a multiaddr`, { cause })
  }
  if (bytes.length === 0) throw errs.malformed('address: empty multiaddr')
  return bytes
}

/** The multiaddr these bytes spell, refused unless they are exactly its canonical encoding (one spelling per code). */
function addressText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw errs.malformed('address: empty multiaddr')
  let text: string
  try {
    const ma = multiaddr(bytes)
    text = ma.toString()
    if (!wire.equalBytes(multiaddr(text).bytes, bytes)) throw new Error('not canonical')
  } catch (cause) {
    throw errs.malformed(`address: ${bytes.length} bytes that are not a canonical multiaddr`, { cause })
  }
  return text
}

export function writeLinkCode(encoder: encoding.Encoder, code: LinkCode): void {
  wire.guard(
    () => {
      if (typeof code !== 'object' || code === null) throw errs.malformed('not an object')
      const key = typeof code.peerId === 'string' ? signingKeyFromPeerId(code.peerId) : null
      if (key === null) throw errs.malformed('peerId: not the peer id of an Ed25519 key')
      wire.writeUint(encoder, 'version', LINK_CODE_VERSION, errs)
      wire.writeFixedBytes(encoder, 'peer key', key, SIGNING_KEY_BYTES, errs)
      wire.writeFixedBytes(encoder, 'secret', code.secret, LINK_SECRET_BYTES, errs)
      if (!Number.isSafeInteger(code.expiresAt) || code.expiresAt < 0 || code.expiresAt % 1000 !== 0) {
        throw errs.malformed('expiresAt: must be a whole second, in milliseconds since the epoch')
      }
      wire.writeUint(encoder, 'expiresAt', code.expiresAt / 1000, errs)
      if (!Array.isArray(code.addresses)) throw errs.malformed('addresses: not an array')
      wire.writeCount(encoder, 'addresses', code.addresses.length, MAX_LINK_ADDRESSES, errs)
      for (const address of code.addresses) wire.writeBytes(encoder, 'address', addressBytes(address), MAX_LINK_ADDRESS_BYTES, errs)
    },
    'link code',
    errs
  )
}

/** Reads a code's fields; expiry is not checked here (checkLinkCodeExpiry). Throws InvalidLinkCodeError or UnsupportedVersionError. */
export function readLinkCode(decoder: decoding.Decoder): LinkCode {
  return wire.guard(
    () => {
      const version = wire.readUint(decoder, 'version', errs)
      if (version !== LINK_CODE_VERSION) throw new UnsupportedVersionError(`link code version ${version}, this build reads ${LINK_CODE_VERSION}`)
      const key = wire.readFixedBytes(decoder, 'peer key', SIGNING_KEY_BYTES, errs)
      const secret = wire.readFixedBytes(decoder, 'secret', LINK_SECRET_BYTES, errs).slice()
      const seconds = wire.readUint(decoder, 'expiresAt', errs)
      if (seconds > Math.floor(Number.MAX_SAFE_INTEGER / 1000)) throw errs.malformed('expiresAt: past the safe range')
      const count = wire.readCount(decoder, 'addresses', MAX_LINK_ADDRESSES, errs)
      const addresses: string[] = []
      for (let i = 0; i < count; i++) addresses.push(addressText(wire.readBytes(decoder, 'address', MAX_LINK_ADDRESS_BYTES, errs)))
      return { peerId: peerIdFromSigningKey(key), addresses, secret, expiresAt: seconds * 1000 }
    },
    'link code',
    errs
  )
}

export const encodeLinkCode = (code: LinkCode): Uint8Array => encoding.encode(encoder => writeLinkCode(encoder, code))

/** One whole code: longer than MAX_LINK_CODE_BYTES is refused before parsing, trailing bytes are an error. */
export function decodeLinkCode(bytes: Uint8Array): LinkCode {
  if (bytes instanceof Uint8Array && bytes.length > MAX_LINK_CODE_BYTES) throw errs.tooLarge(`${bytes.length} bytes, over the bound of ${MAX_LINK_CODE_BYTES}`)
  return wire.decodeWhole(bytes, readLinkCode, 'link code', errs)
}

/** Throws LinkCodeExpiredError once `now` is at or past the expiry plus the tolerated skew. */
export function checkLinkCodeExpiry(code: LinkCode, now: number, clockSkewMs = 0): void {
  if (now >= code.expiresAt + clockSkewMs) {
    throw new LinkCodeExpiredError(`link code expired ${Math.round((now - code.expiresAt) / 1000)} s ago: show a new code on the new device`)
  }
}

export interface CreateLinkCodeOptions {
  /** The new device's own peer id (Ed25519). */
  peerId: string
  /** Its multiaddrs worth dialing (LAN, relay circuit); a trailing /p2p/<own peer id> is dropped. */
  addresses: readonly string[]
  /** The runtime's randomness (WebCrypto's getRandomValues, or the simulator's seeded source). */
  randomBytes: (n: number) => Uint8Array
  /** The runtime's clock, milliseconds since the epoch. */
  now: () => number
  ttlMs?: number
}

/** A fresh code: a new secret, expiring `ttlMs` from now (rounded down to a whole second). */
export function createLinkCode(options: CreateLinkCodeOptions): LinkCode {
  const ttl = options.ttlMs ?? DEFAULT_LINK_CODE_TTL_MS
  if (!Number.isSafeInteger(ttl) || ttl < 1000 || ttl > MAX_LINK_CODE_TTL_MS) throw new RangeError(`a link code lives 1 s to ${MAX_LINK_CODE_TTL_MS / 60_000} min, not ${ttl} ms`)
  const own = `/p2p/${options.peerId}`
  const addresses = options.addresses.map(a => (a.endsWith(own) ? a.slice(0, -own.length) : a))
  const secret = options.randomBytes(LINK_SECRET_BYTES).slice(0, LINK_SECRET_BYTES)
  const code: LinkCode = { peerId: options.peerId, addresses, secret, expiresAt: Math.floor((options.now() + ttl) / 1000) * 1000 }
  encodeLinkCode(code) // every field checked now, not when the code is shown
  return code
}

/** The addresses to dial, each ending in /p2p/<the code's peer id>. */
export const linkDialAddresses = (code: LinkCode): string[] => code.addresses.map(a => `${a}/p2p/${code.peerId}`)

/** Throws LinkProofError unless the peer Noise authenticated on the dialed stream is the device the code names. */
export function checkLinkPeer(code: LinkCode, remotePeerId: string): void {
  if (remotePeerId !== code.peerId) throw new LinkProofError(`the device that answered (${String(remotePeerId).slice(0, 64)}) is not the one that showed the code (${code.peerId})`)
}
