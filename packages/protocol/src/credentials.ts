/**
 * Account credentials as copy-pasteable text, how a second device joins an account
 * until QR linking over /tandem/link exists:
 *   'tandem-account:' + base32(body ‖ sha256(body)[0..4]),  body = varuint(version) ‖ secretKey[32]
 * The checksum is checked first, so a typo anywhere is reported as a typo, never as a
 * different account or an unknown version.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import * as encoding from 'lib0/encoding'
import { base32 } from 'multiformats/bases/base32'
import { InvalidCredentialsError, UnsupportedVersionError } from './errors.js'
import { ACCOUNT_SECRET_KEY_BYTES } from './identity.js'
import * as wire from './wire.js'

export const CREDENTIALS_PREFIX = 'tandem-account:'
export const CREDENTIALS_VERSION = 1
const CHECKSUM_BYTES = 4
/** Far above the 60 base32 chars of version 1; stops pathological input before decoding. */
const MAX_CREDENTIALS_TEXT = 512

export interface AccountCredentials {
  secretKey: Uint8Array
}

const errs: wire.WireErrors = {
  malformed: (m, o) => new InvalidCredentialsError(`account credentials ${m}`, o),
  tooLarge: (m, o) => new InvalidCredentialsError(`account credentials ${m}`, o)
}

const checksum = (body: Uint8Array): Uint8Array => sha256(body).subarray(0, CHECKSUM_BYTES)

export function encodeAccountCredentials(c: AccountCredentials): string {
  const body = encoding.encode(encoder => {
    wire.writeUint(encoder, 'version', CREDENTIALS_VERSION, errs)
    wire.writeFixedBytes(encoder, 'secretKey', c.secretKey, ACCOUNT_SECRET_KEY_BYTES, errs)
  })
  const payload = new Uint8Array(body.length + CHECKSUM_BYTES)
  payload.set(body)
  payload.set(checksum(body), body.length)
  return CREDENTIALS_PREFIX + base32.baseEncode(payload)
}

/** Tolerates surrounding whitespace and any letter case (texts get retyped and pasted). */
export function decodeAccountCredentials(text: string): AccountCredentials {
  if (typeof text !== 'string' || text.length > MAX_CREDENTIALS_TEXT) throw errs.malformed('text is not a credentials string')
  const normalized = text.trim().toLowerCase()
  if (!normalized.startsWith(CREDENTIALS_PREFIX)) throw errs.malformed(`text must start with '${CREDENTIALS_PREFIX}'`)
  let payload: Uint8Array
  try {
    payload = base32.baseDecode(normalized.slice(CREDENTIALS_PREFIX.length))
  } catch (cause) {
    throw errs.malformed('text is not valid base32', { cause })
  }
  const bodyLength = payload.length - CHECKSUM_BYTES
  if (bodyLength < 0) throw errs.malformed('truncated')
  const body = payload.subarray(0, bodyLength)
  const expected = checksum(body)
  if (!expected.every((b, i) => b === payload[bodyLength + i])) throw errs.malformed('checksum mismatch (mistyped or truncated?)')
  return wire.decodeWhole(
    body,
    decoder => {
      const version = wire.readUint(decoder, 'version', errs)
      if (version !== CREDENTIALS_VERSION) {
        throw new UnsupportedVersionError(`account credentials version ${version}, this build reads ${CREDENTIALS_VERSION}`)
      }
      return { secretKey: wire.readFixedBytes(decoder, 'secretKey', ACCOUNT_SECRET_KEY_BYTES, errs).slice() }
    },
    'account credentials',
    errs
  )
}
