import { describe, expect, it } from 'vitest'
import {
  AccessDeniedError,
  ErrorCode,
  FrameTooLargeError,
  InvalidCertificateError,
  InvalidCredentialsError,
  MalformedFrameError,
  NotAuthenticatedError,
  TandemError,
  UnsupportedVersionError,
  WrongAccountError,
  errorFromWire,
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
