import { describe, expect, it } from 'vitest'
import {
  AccessDeniedError,
  BadSignatureError,
  BlobTooLargeError,
  ChainForkError,
  ChainGapError,
  DecryptError,
  DeviceLimitError,
  DeviceNotListedError,
  DeviceRevokedError,
  ErrorCode,
  InvalidLinkCodeError,
  LinkCodeExpiredError,
  LinkCodeUsedError,
  LinkDeclinedError,
  LinkProofError,
  LinkRateLimitedError,
  InvalidInviteError,
  InviteExpiredError,
  StoreCorruptError,
  WrongPassphraseError,
  FrameTooLargeError,
  InvalidCertificateError,
  InvalidCredentialsError,
  InvalidDeviceListError,
  InvalidMembershipError,
  InvalidSnapshotError,
  MalformedFrameError,
  NotAuthenticatedError,
  QuotaExceededError,
  RevocationUndoneError,
  RevokedSignerError,
  SignerNotCurrentError,
  StaleDeviceListError,
  StaleEpochError,
  StaleMembershipError,
  TandemError,
  UnknownEpochError,
  UnsupportedVersionError,
  WrongAccountError,
  errorFromWire
} from '../src/index.js'

const classes = [
  [ErrorCode.MalformedFrame, MalformedFrameError, 'ERR_MALFORMED_FRAME'],
  [ErrorCode.FrameTooLarge, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE'],
  [ErrorCode.UnsupportedVersion, UnsupportedVersionError, 'ERR_UNSUPPORTED_VERSION'],
  [ErrorCode.InvalidCertificate, InvalidCertificateError, 'ERR_INVALID_CERTIFICATE'],
  [ErrorCode.InvalidCredentials, InvalidCredentialsError, 'ERR_INVALID_CREDENTIALS'],
  [ErrorCode.WrongAccount, WrongAccountError, 'ERR_WRONG_ACCOUNT'],
  [ErrorCode.NotAuthenticated, NotAuthenticatedError, 'ERR_NOT_AUTHENTICATED'],
  [ErrorCode.AccessDenied, AccessDeniedError, 'ERR_ACCESS_DENIED'],
  [ErrorCode.InvalidDeviceList, InvalidDeviceListError, 'ERR_INVALID_DEVICE_LIST'],
  [ErrorCode.StaleDeviceList, StaleDeviceListError, 'ERR_STALE_DEVICE_LIST'],
  [ErrorCode.DeviceRevoked, DeviceRevokedError, 'ERR_DEVICE_REVOKED'],
  [ErrorCode.DeviceNotListed, DeviceNotListedError, 'ERR_DEVICE_NOT_LISTED'],
  [ErrorCode.InvalidMembership, InvalidMembershipError, 'ERR_INVALID_MEMBERSHIP'],
  [ErrorCode.StaleMembership, StaleMembershipError, 'ERR_STALE_MEMBERSHIP'],
  [ErrorCode.QuotaExceeded, QuotaExceededError, 'ERR_QUOTA_EXCEEDED'],
  [ErrorCode.BlobTooLarge, BlobTooLargeError, 'ERR_BLOB_TOO_LARGE'],
  [ErrorCode.InvalidSnapshot, InvalidSnapshotError, 'ERR_INVALID_SNAPSHOT'],
  [ErrorCode.ChainFork, ChainForkError, 'ERR_CHAIN_FORK'],
  [ErrorCode.ChainGap, ChainGapError, 'ERR_CHAIN_GAP'],
  [ErrorCode.RevokedSigner, RevokedSignerError, 'ERR_REVOKED_SIGNER'],
  [ErrorCode.SignerNotCurrent, SignerNotCurrentError, 'ERR_SIGNER_NOT_CURRENT'],
  [ErrorCode.RevocationUndone, RevocationUndoneError, 'ERR_REVOCATION_UNDONE'],
  [ErrorCode.DeviceLimit, DeviceLimitError, 'ERR_DEVICE_LIMIT'],
  [ErrorCode.InvalidLinkCode, InvalidLinkCodeError, 'ERR_INVALID_LINK_CODE'],
  [ErrorCode.LinkCodeExpired, LinkCodeExpiredError, 'ERR_LINK_CODE_EXPIRED'],
  [ErrorCode.LinkCodeUsed, LinkCodeUsedError, 'ERR_LINK_CODE_USED'],
  [ErrorCode.LinkProof, LinkProofError, 'ERR_LINK_PROOF'],
  [ErrorCode.LinkDeclined, LinkDeclinedError, 'ERR_LINK_DECLINED'],
  [ErrorCode.WrongPassphrase, WrongPassphraseError, 'ERR_WRONG_PASSPHRASE'],
  [ErrorCode.LinkRateLimited, LinkRateLimitedError, 'ERR_LINK_RATE_LIMITED'],
  [ErrorCode.Decrypt, DecryptError, 'ERR_DECRYPT'],
  [ErrorCode.BadSignature, BadSignatureError, 'ERR_BAD_SIGNATURE'],
  [ErrorCode.UnknownEpoch, UnknownEpochError, 'ERR_UNKNOWN_EPOCH'],
  [ErrorCode.StaleEpoch, StaleEpochError, 'ERR_STALE_EPOCH'],
  [ErrorCode.InvalidInvite, InvalidInviteError, 'ERR_INVALID_INVITE'],
  [ErrorCode.InviteExpired, InviteExpiredError, 'ERR_INVITE_EXPIRED'],
  [ErrorCode.StoreCorrupt, StoreCorruptError, 'ERR_STORE_CORRUPT']
] as const

describe('errors', () => {
  it.each(classes)('%s rebuilds %o with its stable code', (code, Ctor, literal) => {
    expect(code).toBe(literal)
    const e = errorFromWire(code, 'from the peer')
    expect(e).toBeInstanceOf(Ctor)
    expect(e).toBeInstanceOf(TandemError)
    expect(e).toBeInstanceOf(Error)
    expect(e.code).toBe(code)
    expect(e.name).toBe(Ctor.name)
    expect(e.message).toBe('from the peer')
    expect(new Ctor('local').code).toBe(code)
  })

  it('covers every code in ErrorCode', () => {
    expect(Object.values(ErrorCode).sort()).toEqual(classes.map(([c]) => c).sort())
  })

  it('unknown codes (a newer peer) give a plain TandemError carrying the code', () => {
    for (const code of ['ERR_FROM_THE_FUTURE', 'toString', '__proto__', 'constructor', '']) {
      const e = errorFromWire(code, 'm')
      expect(e.constructor).toBe(TandemError)
      expect(e.code).toBe(code)
      expect(e.name).toBe('TandemError')
    }
  })
})
