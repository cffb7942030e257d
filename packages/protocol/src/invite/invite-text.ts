/**
 * An invite as text and as a QR code: the same bech32m form and typo search as link codes
 * (text/text-code.ts), with its own prefix so the two are never mistaken for each other:
 *
 *   shown:  tandeminvite1-qpzr-y9x8-…
 *   QR:     TANDEMINVITE1QPZRY9X8…   (upper case, QR alphanumeric mode, error correction M)
 *
 * A typical invite (a relay named by DNS, its peer id, a name) is ~330 characters.
 */
import encodeQR from 'qr'
import { InvalidInviteError } from '../errors.js'
import { TextCode } from '../text/text-code.js'
import { checkInviteExpiry, decodeInvite, encodeInvite, type Invite, MAX_INVITE_BYTES } from './invite.js'

export const INVITE_PREFIX = 'tandeminvite'

const text = new TextCode({
  prefix: INVITE_PREFIX,
  maxBytes: MAX_INVITE_BYTES,
  noun: 'invite',
  error: (message, at) => new InvalidInviteError(message, at === undefined ? undefined : { at })
})

/** The largest invite as the QR carries it (under bech32's 1023). */
export const MAX_INVITE_TEXT = text.maxText

/** "tandeminvite1-qpzr-…": what a screen shows and a person types or pastes. */
export const formatInviteText = (invite: Invite): string => text.format(encodeInvite(invite))

/** "TANDEMINVITE1QPZR…": what the QR code holds. */
export const inviteQrPayload = (invite: Invite): string => text.qrPayload(encodeInvite(invite))

/** readInviteText without the expiry check. */
export const parseInviteText = (input: string): Invite => decodeInvite(text.parse(input))

/**
 * The invite in a typed, pasted or scanned text (case, dashes and spaces do not matter).
 * Throws InvalidInviteError (with `at` where a typo is), UnsupportedVersionError, and
 * InviteExpiredError once `now` is past its expiry.
 */
export function readInviteText(input: string, options: { now: number }): Invite {
  const invite = parseInviteText(input)
  checkInviteExpiry(invite, options.now)
  return invite
}

/** The invite drawn as a QR code: 'terminal' (half blocks, 2-module border) or 'svg' (4-module quiet zone), like link codes. */
export function renderInviteQr(invite: Invite, format: 'terminal' | 'svg'): string {
  const payload = inviteQrPayload(invite)
  const options = { ecc: 'medium', encoding: 'alphanumeric' } as const
  if (format === 'terminal') return encodeQR(payload, 'ascii', { ...options, border: 2 })
  if (format === 'svg') return encodeQR(payload, 'svg', { ...options, border: 4 })
  throw new RangeError(`QR format must be 'terminal' or 'svg', not ${String(format)}`)
}
