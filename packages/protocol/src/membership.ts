/**
 * Signed membership records: which accounts may read a chat doc, signed by a device of
 * one of its member accounts (its device-chain signing key; the relay checks that the key
 * is a current device of that account's chain). Versioned; a new version must be signed by
 * a device of a member of the version it replaces. The relay uses them for access to
 * `chat:` docs. Grammar: PROTOCOL.md.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { SIGNATURE_BYTES } from './limits.js'
import { SIGNING_KEY_BYTES, type SigningKeyPair, signingKeyFromSeed } from './device-chain/keys.js'
import { InvalidCredentialsError, InvalidMembershipError, StaleMembershipError, UnsupportedVersionError } from './errors.js'
import { MAX_ACCOUNT_ID_BYTES } from './limits.js'
import { MAX_DOC_ID_BYTES } from './sync-frames.js'
import { type ChatKeys, checkChatKeys, readChatKeys, writeChatKeys } from './chat-keys/chat-keys.js'
import * as wire from './wire.js'

/** Version of the encoding (the leading byte), not of a record: that is `SignedMembership.version`. */
/** 2: signed by a device of a member account, not by a shared account key (issue 13). */
export const MEMBERSHIP_FORMAT_VERSION = 2
/** 3: format 2 followed by the chat's key material (a chat between accounts, issue 16); written only when a record carries keys. */
export const MEMBERSHIP_KEYED_FORMAT_VERSION = 3
/** Prepended to what the signing device's key signs, so a membership signature is valid as nothing else. */
export const MEMBERSHIP_SIGNATURE_DOMAIN = 'tandem/membership'
export const MAX_MEMBERS = 1024
export { MAX_ACCOUNT_ID_BYTES } from './limits.js'

export interface SignedMembership {
  docId: string
  /** Grows with every record for the doc; ≥ 1. */
  version: number
  /** Account ids, unique, in the order the signer gave. */
  members: string[]
  /** Milliseconds since the epoch. */
  issuedAt: number
  /** The member account whose device signed. */
  signerAccount: string
  /** That device's Ed25519 signing key (its libp2p peer key). */
  signerKey: Uint8Array
  /**
   * A chat between accounts: its key of the newest epoch sealed to each member account (and
   * older ones wrapped under it; chat-keys/chat-keys.ts). Absent (or null) for a chat of one
   * account, whose docs are sealed under the account's own key generations.
   */
  keys?: ChatKeys | null
  signature: Uint8Array
}

type MembershipBody = Omit<SignedMembership, 'signature'>

const errs: wire.WireErrors = {
  malformed: (m, o) => new InvalidMembershipError(`membership ${m}`, o),
  tooLarge: (m, o) => new InvalidMembershipError(`membership ${m}`, o)
}

function writeBody(encoder: encoding.Encoder, body: MembershipBody): void {
  const keyed = body.keys !== undefined && body.keys !== null
  wire.writeUint(encoder, 'format version', keyed ? MEMBERSHIP_KEYED_FORMAT_VERSION : MEMBERSHIP_FORMAT_VERSION, errs)
  wire.writeString(encoder, 'signerAccount', body.signerAccount, MAX_ACCOUNT_ID_BYTES, errs)
  wire.writeFixedBytes(encoder, 'signerKey', body.signerKey, SIGNING_KEY_BYTES, errs)
  wire.writeString(encoder, 'docId', body.docId, MAX_DOC_ID_BYTES, errs)
  wire.writeUint(encoder, 'version', body.version, errs)
  if (body.version < 1) throw errs.malformed('version must be at least 1')
  if (!Array.isArray(body.members)) throw errs.malformed('members: not an array')
  wire.writeCount(encoder, 'members', body.members.length, MAX_MEMBERS, errs)
  const seen = new Set<string>()
  for (const accountId of body.members) {
    wire.writeString(encoder, 'member', accountId, MAX_ACCOUNT_ID_BYTES, errs)
    unique(seen, accountId)
  }
  wire.writeUint(encoder, 'issuedAt', body.issuedAt, errs)
  if (keyed) {
    writeChatKeys(encoder, body.keys!, errs)
    checkChatKeys(body.members, body.keys!, errs)
  }
}

function unique(seen: Set<string>, accountId: string): void {
  if (seen.has(accountId)) throw errs.malformed(`members: ${JSON.stringify(accountId)} appears twice`)
  seen.add(accountId)
}

/** The signed bytes: varstring(domain) followed by the record encoding minus its signature. */
function signedMessage(body: MembershipBody): Uint8Array {
  return encoding.encode(encoder =>
    wire.guard(
      () => {
        encoding.writeVarString(encoder, MEMBERSHIP_SIGNATURE_DOMAIN)
        writeBody(encoder, body)
      },
      'membership',
      errs
    )
  )
}

/** Signs a membership record with a device of a member account (`signer.accountId` must be in `members` for it to verify). */
export function signMembership(
  signer: { accountId: string; key: SigningKeyPair },
  body: { docId: string; version: number; members: string[]; issuedAt: number; keys?: ChatKeys | null }
): SignedMembership {
  const { publicKey } = signingKeyFromSeed(signer.key.secretKey)
  if (!wire.equalBytes(publicKey, signer.key.publicKey)) {
    throw new InvalidCredentialsError('signing publicKey does not match its secretKey')
  }
  const record: MembershipBody = {
    docId: body.docId,
    version: body.version,
    members: wire.guard(() => [...body.members], 'members', errs),
    issuedAt: body.issuedAt,
    signerAccount: signer.accountId,
    signerKey: publicKey,
    ...(body.keys != null ? { keys: body.keys } : {})
  }
  return { ...record, signature: ed25519.sign(signedMessage(record), signer.key.secretKey) }
}

/**
 * Checks the fields, the signature, and that the signer's account is a member. Returns
 * the signer's account id. Whether `signerKey` is a current device of that account is the
 * caller's check, against the chain it holds. Throws InvalidMembershipError.
 */
export function verifyMembership(record: SignedMembership): string {
  const message = signedMessage(record) // also validates every field's type, bound and uniqueness
  if (!(record.signature instanceof Uint8Array) || record.signature.length !== SIGNATURE_BYTES) {
    throw new InvalidMembershipError(`membership signature must be ${SIGNATURE_BYTES} bytes`)
  }
  let ok = false
  try {
    ok = ed25519.verify(record.signature, message, record.signerKey, { zip215: false })
  } catch {
    ok = false
  }
  if (!ok) throw new InvalidMembershipError('membership signature does not verify')
  const signer = record.signerAccount
  if (!record.members.includes(signer)) {
    throw new InvalidMembershipError(`membership of ${record.docId} is signed by ${signer}, who is not among its members`)
  }
  return signer
}

/**
 * Throws StaleMembershipError unless `next` may replace `previous`: same doc id, a
 * greater version, and signed by an account that is a member in `previous` (a current
 * member authorises every change). Any record may follow `null`. Signatures are not
 * checked here: verify both records first (verifyMembership). Malformed records are
 * InvalidMembershipError.
 */
export function checkMembershipSuccessor(previous: SignedMembership | null, next: SignedMembership): void {
  signedMessage(next) // field checks, so the comparisons below see well-formed values
  if (previous === null) return
  signedMessage(previous)
  if (next.docId !== previous.docId) {
    throw new StaleMembershipError(`membership of ${next.docId} cannot replace the membership of ${previous.docId}`)
  }
  if (next.version <= previous.version) {
    throw new StaleMembershipError(`membership version ${next.version} of ${next.docId} is not newer than version ${previous.version}`)
  }
  const signer = next.signerAccount
  if (!previous.members.includes(signer)) {
    throw new StaleMembershipError(`membership version ${next.version} of ${next.docId} is signed by ${signer}, not a member in version ${previous.version}`)
  }
}

export function writeSignedMembership(encoder: encoding.Encoder, record: SignedMembership): void {
  wire.guard(
    () => {
      writeBody(encoder, record)
      wire.writeFixedBytes(encoder, 'signature', record.signature, SIGNATURE_BYTES, errs)
    },
    'membership',
    errs
  )
}

/**
 * Throws InvalidMembershipError on malformed bytes (including duplicate members and
 * version 0), UnsupportedVersionError on an unknown format version. Signatures are not
 * checked: that is verifyMembership.
 */
export function readSignedMembership(decoder: decoding.Decoder): SignedMembership {
  return wire.guard(
    () => {
      const format = wire.readUint(decoder, 'format version', errs)
      if (format !== MEMBERSHIP_FORMAT_VERSION && format !== MEMBERSHIP_KEYED_FORMAT_VERSION) {
        throw new UnsupportedVersionError(`membership format version ${format}, this build reads ${MEMBERSHIP_FORMAT_VERSION} and ${MEMBERSHIP_KEYED_FORMAT_VERSION}`)
      }
      const signerAccount = wire.readString(decoder, 'signerAccount', MAX_ACCOUNT_ID_BYTES, errs)
      const signerKey = wire.readFixedBytes(decoder, 'signerKey', SIGNING_KEY_BYTES, errs).slice()
      const docId = wire.readString(decoder, 'docId', MAX_DOC_ID_BYTES, errs)
      const version = wire.readUint(decoder, 'version', errs)
      if (version < 1) throw errs.malformed('version must be at least 1')
      const count = wire.readCount(decoder, 'members', MAX_MEMBERS, errs)
      const members: string[] = []
      const seen = new Set<string>()
      for (let i = 0; i < count; i++) {
        const accountId = wire.readString(decoder, 'member', MAX_ACCOUNT_ID_BYTES, errs)
        unique(seen, accountId)
        members.push(accountId)
      }
      const issuedAt = wire.readUint(decoder, 'issuedAt', errs)
      const keys = format === MEMBERSHIP_KEYED_FORMAT_VERSION ? readChatKeys(decoder, members, errs) : null
      const signature = wire.readFixedBytes(decoder, 'signature', SIGNATURE_BYTES, errs).slice()
      return { docId, version, members, issuedAt, signerAccount, signerKey, ...(keys !== null ? { keys } : {}), signature }
    },
    'membership',
    errs
  )
}

export function encodeSignedMembership(record: SignedMembership): Uint8Array {
  return encoding.encode(encoder => writeSignedMembership(encoder, record))
}

export function decodeSignedMembership(bytes: Uint8Array): SignedMembership {
  return wire.decodeWhole(bytes, readSignedMembership, 'membership', errs)
}
