/**
 * Typed errors with stable codes. The code is what travels in an ERROR frame, so a
 * peer can rebuild the same class with `errorFromWire` and callers can branch on
 * `instanceof` or on `code` without parsing messages.
 */

export const ErrorCode = {
  MalformedFrame: 'ERR_MALFORMED_FRAME',
  FrameTooLarge: 'ERR_FRAME_TOO_LARGE',
  UnsupportedVersion: 'ERR_UNSUPPORTED_VERSION',
  InvalidCertificate: 'ERR_INVALID_CERTIFICATE',
  InvalidCredentials: 'ERR_INVALID_CREDENTIALS',
  WrongAccount: 'ERR_WRONG_ACCOUNT',
  NotAuthenticated: 'ERR_NOT_AUTHENTICATED',
  AccessDenied: 'ERR_ACCESS_DENIED',
  InvalidDeviceList: 'ERR_INVALID_DEVICE_LIST',
  StaleDeviceList: 'ERR_STALE_DEVICE_LIST',
  DeviceRevoked: 'ERR_DEVICE_REVOKED',
  DeviceNotListed: 'ERR_DEVICE_NOT_LISTED',
  InvalidMembership: 'ERR_INVALID_MEMBERSHIP',
  StaleMembership: 'ERR_STALE_MEMBERSHIP',
  QuotaExceeded: 'ERR_QUOTA_EXCEEDED',
  BlobTooLarge: 'ERR_BLOB_TOO_LARGE',
  InvalidSnapshot: 'ERR_INVALID_SNAPSHOT',
  ChainFork: 'ERR_CHAIN_FORK',
  ChainGap: 'ERR_CHAIN_GAP',
  RevokedSigner: 'ERR_REVOKED_SIGNER',
  SignerNotCurrent: 'ERR_SIGNER_NOT_CURRENT',
  RevocationUndone: 'ERR_REVOCATION_UNDONE',
  DeviceLimit: 'ERR_DEVICE_LIMIT',
  InvalidLinkCode: 'ERR_INVALID_LINK_CODE',
  LinkCodeExpired: 'ERR_LINK_CODE_EXPIRED',
  LinkCodeUsed: 'ERR_LINK_CODE_USED',
  LinkProof: 'ERR_LINK_PROOF',
  LinkDeclined: 'ERR_LINK_DECLINED',
  WrongPassphrase: 'ERR_WRONG_PASSPHRASE',
  LinkRateLimited: 'ERR_LINK_RATE_LIMITED',
  Decrypt: 'ERR_DECRYPT',
  BadSignature: 'ERR_BAD_SIGNATURE',
  UnknownEpoch: 'ERR_UNKNOWN_EPOCH',
  StaleEpoch: 'ERR_STALE_EPOCH',
  InvalidInvite: 'ERR_INVALID_INVITE',
  InviteExpired: 'ERR_INVITE_EXPIRED',
  StoreCorrupt: 'ERR_STORE_CORRUPT'
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export class TandemError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    // new.target so every subclass reports its own name without repeating this line.
    this.name = new.target.name
  }
}

/** Bytes that do not parse: unknown tag, truncation, trailing bytes, bad UTF-8, bad bool… */
export class MalformedFrameError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.MalformedFrame, message, options)
  }
}

/** A frame, or a length-prefixed field inside it, over its documented bound. */
export class FrameTooLargeError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.FrameTooLarge, message, options)
  }
}

export class UnsupportedVersionError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.UnsupportedVersion, message, options)
  }
}

/** Bad signature, peer id mismatch, malformed key or malformed certificate bytes. */
export class InvalidCertificateError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InvalidCertificate, message, options)
  }
}

/** Account credentials text that does not parse (typo, truncation, bad checksum). */
export class InvalidCredentialsError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InvalidCredentials, message, options)
  }
}

/** A valid certificate, but signed by another account than the one expected. */
export class WrongAccountError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.WrongAccount, message, options)
  }
}

/** A frame other than hello arrived before the peer's hello was accepted. */
export class NotAuthenticatedError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.NotAuthenticated, message, options)
  }
}

export class AccessDeniedError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.AccessDenied, message, options)
  }
}

/** Signed device list malformed (bytes or fields) or its signature does not verify. */
export class InvalidDeviceListError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InvalidDeviceList, message, options)
  }
}

/** A valid device list that may not replace the current one: other account, version not newer, or a revocation undone. */
export class StaleDeviceListError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StaleDeviceList, message, options)
  }
}

/** The device is revoked in its account's signed device list. */
export class DeviceRevokedError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.DeviceRevoked, message, options)
  }
}

/** The device is not in its account's signed device list (or no list is known). */
export class DeviceNotListedError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.DeviceNotListed, message, options)
  }
}

/** Membership record malformed, its signature does not verify, or its signer is not a member. */
export class InvalidMembershipError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InvalidMembership, message, options)
  }
}

/** A valid membership record that may not replace the current one: other doc, version not newer, or signed by a non-member. */
export class StaleMembershipError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StaleMembership, message, options)
  }
}

/** The relay refuses to store more for this account or doc. */
export class QuotaExceededError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.QuotaExceeded, message, options)
  }
}

/** An uploaded blob (all chunks of one upload) is over the relay's bound. */
export class BlobTooLargeError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.BlobTooLarge, message, options)
  }
}

/** A snapshot upload whose `covers` is 0 or past the head of the doc's log. */
export class InvalidSnapshotError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InvalidSnapshot, message, options)
  }
}

/**
 * A well-formed chain link that does not build on the head it was offered to: another
 * successor of the same link was accepted first, or it builds on a link that lost. The
 * sender re-applies its change on top of the winner (`rebaseLink`).
 */
export class ChainForkError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.ChainFork, message, options)
  }
}

/** A chain link newer than the head's successor: the links in between are missing (fetch them first). */
export class ChainGapError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.ChainGap, message, options)
  }
}

/** A chain link signed by a device revoked in the link it extends: a revoked device can never extend the chain. */
export class RevokedSignerError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.RevokedSigner, message, options)
  }
}

/** A chain link signed by a key that is neither a listed device nor the current recovery key of the link it extends. */
export class SignerNotCurrentError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.SignerNotCurrent, message, options)
  }
}

/** A chain link that un-revokes a device or lists a revoked one again: revocation is one-way. */
export class RevocationUndoneError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.RevocationUndone, message, options)
  }
}

/** A chain link that adds a device beyond the account's maximum of active devices. */
export class DeviceLimitError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.DeviceLimit, message, options)
  }
}

/**
 * A link code (text, QR payload or bytes) that does not parse: a typo (the message names
 * the group and character), a wrong prefix, a failed checksum, a field over its bound.
 */
export class InvalidLinkCodeError extends TandemError {
  /** Where a typo in a typed code is (1-based, as the code is shown in groups), when it could be found. */
  readonly at: { group: number; character: number } | undefined

  constructor(message: string, options?: ErrorOptions & { at?: { group: number; character: number } }) {
    super(ErrorCode.InvalidLinkCode, message, options)
    this.at = options?.at
  }
}

/** A link code past its expiry: the new device shows a fresh one. */
export class LinkCodeExpiredError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.LinkCodeExpired, message, options)
  }
}

/** A link code whose one-time secret was already claimed by a linking session. */
export class LinkCodeUsedError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.LinkCodeUsed, message, options)
  }
}

/**
 * A linking peer that did not prove the code's secret for this session (wrong secret, a
 * proof made for other peers or nonces), or is not the device the code names.
 */
export class LinkProofError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.LinkProof, message, options)
  }
}

/** The person declined the link (the confirmation codes did not match, or they cancelled). */
export class LinkDeclinedError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.LinkDeclined, message, options)
  }
}

/** The account's passphrase (two-step verification) was not the one given. */
export class WrongPassphraseError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.WrongPassphrase, message, options)
  }
}

/** Too many wrong passphrases: the next attempt is accepted only after `retryAfterMs` (0 when not known, e.g. rebuilt from the wire). */
export class LinkRateLimitedError extends TandemError {
  readonly retryAfterMs: number

  constructor(message: string, retryAfterMs = 0, options?: ErrorOptions) {
    super(ErrorCode.LinkRateLimited, message, options)
    this.retryAfterMs = retryAfterMs
  }
}

/** A sealed blob or key box that does not open: altered, or sealed under another key. Never applied. */
export class DecryptError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Decrypt, message, options)
  }
}

/** A sealed blob whose author signature does not verify, or whose author the chain does not list for its epoch. Never applied. */
export class BadSignatureError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.BadSignature, message, options)
  }
}

/** A sealed blob of a key epoch (generation) this device holds no key of: kept aside until the key arrives. */
export class UnknownEpochError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.UnknownEpoch, message, options)
  }
}

/** An upload sealed in a key generation older than the account's newest (a device was revoked since): seal it again in the new one. */
export class StaleEpochError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StaleEpoch, message, options)
  }
}

/**
 * An invite (text, QR payload or bytes) that does not parse: a typo (the message names the
 * group and character), a wrong prefix, a failed checksum, a field over its bound.
 */
export class InvalidInviteError extends TandemError {
  /** Where a typo in a typed invite is (1-based, as it is shown in groups), when it could be found. */
  readonly at: { group: number; character: number } | undefined

  constructor(message: string, options?: ErrorOptions & { at?: { group: number; character: number } }) {
    super(ErrorCode.InvalidInvite, message, options)
    this.at = options?.at
  }
}

/** An invite past its expiry: ask for a fresh one. */
export class InviteExpiredError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InviteExpired, message, options)
  }
}

/** Stored bytes that cannot be read back (a device's store, or a relay's log naming a part it no longer has). */
export class StoreCorruptError extends TandemError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StoreCorrupt, message, options)
  }
}

const byCode: Readonly<Record<string, new (message: string) => TandemError>> = {
  [ErrorCode.MalformedFrame]: MalformedFrameError,
  [ErrorCode.Decrypt]: DecryptError,
  [ErrorCode.BadSignature]: BadSignatureError,
  [ErrorCode.UnknownEpoch]: UnknownEpochError,
  [ErrorCode.StaleEpoch]: StaleEpochError,
  [ErrorCode.StoreCorrupt]: StoreCorruptError,
  [ErrorCode.FrameTooLarge]: FrameTooLargeError,
  [ErrorCode.UnsupportedVersion]: UnsupportedVersionError,
  [ErrorCode.InvalidCertificate]: InvalidCertificateError,
  [ErrorCode.InvalidCredentials]: InvalidCredentialsError,
  [ErrorCode.WrongAccount]: WrongAccountError,
  [ErrorCode.NotAuthenticated]: NotAuthenticatedError,
  [ErrorCode.AccessDenied]: AccessDeniedError,
  [ErrorCode.InvalidDeviceList]: InvalidDeviceListError,
  [ErrorCode.StaleDeviceList]: StaleDeviceListError,
  [ErrorCode.DeviceRevoked]: DeviceRevokedError,
  [ErrorCode.DeviceNotListed]: DeviceNotListedError,
  [ErrorCode.InvalidMembership]: InvalidMembershipError,
  [ErrorCode.StaleMembership]: StaleMembershipError,
  [ErrorCode.QuotaExceeded]: QuotaExceededError,
  [ErrorCode.BlobTooLarge]: BlobTooLargeError,
  [ErrorCode.InvalidSnapshot]: InvalidSnapshotError,
  [ErrorCode.ChainFork]: ChainForkError,
  [ErrorCode.ChainGap]: ChainGapError,
  [ErrorCode.RevokedSigner]: RevokedSignerError,
  [ErrorCode.SignerNotCurrent]: SignerNotCurrentError,
  [ErrorCode.RevocationUndone]: RevocationUndoneError,
  [ErrorCode.DeviceLimit]: DeviceLimitError,
  [ErrorCode.InvalidLinkCode]: InvalidLinkCodeError,
  [ErrorCode.LinkCodeExpired]: LinkCodeExpiredError,
  [ErrorCode.LinkCodeUsed]: LinkCodeUsedError,
  [ErrorCode.LinkProof]: LinkProofError,
  [ErrorCode.LinkDeclined]: LinkDeclinedError,
  [ErrorCode.WrongPassphrase]: WrongPassphraseError,
  [ErrorCode.LinkRateLimited]: LinkRateLimitedError,
  [ErrorCode.InvalidInvite]: InvalidInviteError,
  [ErrorCode.InviteExpired]: InviteExpiredError
}

/**
 * Rebuild the typed error a peer reported in an ERROR frame. Unknown codes (a newer
 * peer) stay usable as a plain TandemError carrying that code.
 */
export function errorFromWire(code: string, message: string): TandemError {
  const Ctor = Object.hasOwn(byCode, code) ? byCode[code] : undefined
  return Ctor ? new Ctor(message) : new TandemError(code, message)
}
