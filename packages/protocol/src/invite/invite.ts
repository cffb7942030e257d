/**
 * An invite to chat (issue 16): what one account hands another, as text or a QR code, so the
 * other can open a 1:1 chat with it. It names the inviting account, the account's X25519 key
 * of its current key generation (what the chat's key is sealed to: accountAgreementKey of
 * K_g, the `accountKey` on the link that started generation g), the relay the chat will live
 * on, the inviter's display name and an expiry. Grammar: PROTOCOL.md, "Invites".
 *
 * Nothing in it is secret: an invite is as public as a phone number. What keeps a chat
 * private is that its key is sealed to the account key, which the accepting side checks
 * against the inviter's device chain (read from the relay) before it seals anything.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { AGREEMENT_KEY_BYTES } from '../device-chain/keys.js'
import { InvalidInviteError, InviteExpiredError, UnsupportedVersionError } from '../errors.js'
import { isAccountId } from '../identity.js'
import { MAX_ACCOUNT_ID_BYTES } from '../limits.js'
import * as wire from '../wire.js'

/** Version of the invite's encoding, its leading varuint. */
export const INVITE_VERSION = 1
/** A relay's address with its /p2p/ id: a DNS name of 60 characters and a peer id fit. */
export const MAX_INVITE_RELAY_BYTES = 160
/** The inviter's display name, cut to this many bytes (it is typed and drawn). */
export const MAX_INVITE_NAME_BYTES = 64
export const DEFAULT_INVITE_TTL_MS = 7 * 24 * 60 * 60_000
/** An invite lives at most 30 days: the account key in it may be replaced by a new generation. */
export const MAX_INVITE_TTL_MS = 30 * 24 * 60 * 60_000
/** The whole encoding at every bound: version, account id, generation (≤ 9 bytes), key, relay, expiry (≤ 7), name. */
export const MAX_INVITE_BYTES = 1 + 1 + MAX_ACCOUNT_ID_BYTES + 9 + AGREEMENT_KEY_BYTES + 2 + MAX_INVITE_RELAY_BYTES + 7 + 1 + MAX_INVITE_NAME_BYTES

export interface Invite {
  /** The inviting account. */
  accountId: string
  /** The key generation whose account key this is (≥ 1). */
  generation: number
  /** accountAgreementKey(K_generation).publicKey: what the chat key is sealed to for the inviter. */
  accountKey: Uint8Array
  /** The relay the chat will live on: a multiaddr ending in /p2p/<relay peer id>. */
  relay: string
  /** The inviter's display name ('' for none). */
  name: string
  /** Milliseconds since the Unix epoch, a whole second: refused from then on. */
  expiresAt: number
}

export const inviteErrors: wire.WireErrors = {
  malformed: (m, o) => new InvalidInviteError(`invite ${m}`, o),
  tooLarge: (m, o) => new InvalidInviteError(`invite ${m}`, o)
}
const errs = inviteErrors

function relayBytes(address: unknown): Uint8Array {
  if (typeof address !== 'string') throw errs.malformed('relay: not a string')
  let ma: ReturnType<typeof multiaddr>
  try {
    ma = multiaddr(address)
  } catch (cause) {
    throw errs.malformed(`relay ${JSON.stringify(address.slice(0, 200))} is not a multiaddr`, { cause })
  }
  if (ma.getComponents().at(-1)?.name !== 'p2p') throw errs.malformed('relay: the address must end in /p2p/<the relay peer id>')
  return ma.bytes
}

/** The multiaddr these bytes spell, refused unless they are its canonical encoding (one spelling per invite). */
function relayText(bytes: Uint8Array): string {
  let text: string
  try {
    text = multiaddr(bytes).toString()
    if (!wire.equalBytes(multiaddr(text).bytes, bytes)) throw new Error('not canonical')
  } catch (cause) {
    throw errs.malformed(`relay: ${bytes.length} bytes that are not a canonical multiaddr`, { cause })
  }
  relayBytes(text)
  return text
}

export function writeInvite(encoder: encoding.Encoder, invite: Invite): void {
  wire.guard(
    () => {
      if (typeof invite !== 'object' || invite === null) throw errs.malformed('not an object')
      wire.writeUint(encoder, 'version', INVITE_VERSION, errs)
      if (!isAccountId(invite.accountId)) throw errs.malformed('accountId: not an account id')
      wire.writeString(encoder, 'accountId', invite.accountId, MAX_ACCOUNT_ID_BYTES, errs)
      if (!Number.isSafeInteger(invite.generation) || invite.generation < 1) throw errs.malformed('generation: must be a whole number ≥ 1')
      wire.writeUint(encoder, 'generation', invite.generation, errs)
      wire.writeFixedBytes(encoder, 'accountKey', invite.accountKey, AGREEMENT_KEY_BYTES, errs)
      wire.writeBytes(encoder, 'relay', relayBytes(invite.relay), MAX_INVITE_RELAY_BYTES, errs)
      if (!Number.isSafeInteger(invite.expiresAt) || invite.expiresAt < 0 || invite.expiresAt % 1000 !== 0) {
        throw errs.malformed('expiresAt: must be a whole second, in milliseconds since the epoch')
      }
      wire.writeUint(encoder, 'expiresAt', invite.expiresAt / 1000, errs)
      wire.writeString(encoder, 'name', invite.name, MAX_INVITE_NAME_BYTES, errs)
    },
    'invite',
    errs
  )
}

/** Reads an invite's fields; the expiry is not checked here (checkInviteExpiry). Throws InvalidInviteError or UnsupportedVersionError. */
export function readInvite(decoder: decoding.Decoder): Invite {
  return wire.guard(
    () => {
      const version = wire.readUint(decoder, 'version', errs)
      if (version !== INVITE_VERSION) throw new UnsupportedVersionError(`invite version ${version}, this build reads ${INVITE_VERSION}`)
      const accountId = wire.readString(decoder, 'accountId', MAX_ACCOUNT_ID_BYTES, errs)
      if (!isAccountId(accountId)) throw errs.malformed('accountId: not an account id')
      const generation = wire.readUint(decoder, 'generation', errs)
      if (generation < 1) throw errs.malformed('generation: must be ≥ 1')
      const accountKey = wire.readFixedBytes(decoder, 'accountKey', AGREEMENT_KEY_BYTES, errs).slice()
      const relay = relayText(wire.readBytes(decoder, 'relay', MAX_INVITE_RELAY_BYTES, errs))
      const seconds = wire.readUint(decoder, 'expiresAt', errs)
      if (seconds > Math.floor(Number.MAX_SAFE_INTEGER / 1000)) throw errs.malformed('expiresAt: past the safe range')
      const name = wire.readString(decoder, 'name', MAX_INVITE_NAME_BYTES, errs)
      return { accountId, generation, accountKey, relay, name, expiresAt: seconds * 1000 }
    },
    'invite',
    errs
  )
}

export const encodeInvite = (invite: Invite): Uint8Array => encoding.encode(encoder => writeInvite(encoder, invite))

/** One whole invite: longer than MAX_INVITE_BYTES is refused before parsing, trailing bytes are an error. */
export function decodeInvite(bytes: Uint8Array): Invite {
  if (bytes instanceof Uint8Array && bytes.length > MAX_INVITE_BYTES) throw errs.tooLarge(`${bytes.length} bytes, over the bound of ${MAX_INVITE_BYTES}`)
  return wire.decodeWhole(bytes, readInvite, 'invite', errs)
}

/** Throws InviteExpiredError once `now` is at or past the expiry. */
export function checkInviteExpiry(invite: Invite, now: number): void {
  if (now >= invite.expiresAt) throw new InviteExpiredError(`the invite of ${invite.accountId} expired ${Math.round((now - invite.expiresAt) / 1000)} s ago: ask for a new one`)
}
