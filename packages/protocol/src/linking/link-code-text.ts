/**
 * The link code as text a person can type, and the QR payload:
 *
 *   shown:  tandem1-qpzr-y9x8-gf2t-…      bech32m (BIP-350) of the encoded code, hrp "tandem", groups of 4
 *   QR:     TANDEM1QPZRY9X8GF2T…         the same, upper case, no dashes (QR alphanumeric mode)
 *
 * The text form, its checksum and the typo search are text/text-code.ts (shared with invites).
 */
import { InvalidLinkCodeError } from '../errors.js'
import { CODE_GROUP, type CodePosition, TextCode } from '../text/text-code.js'
import { checkLinkCodeExpiry, decodeLinkCode, encodeLinkCode, LINK_CODE_CLOCK_SKEW_MS, type LinkCode, MAX_LINK_CODE_BYTES } from './link-code.js'

export const LINK_CODE_PREFIX = 'tandem'
/** Characters per group in the shown text. */
export const LINK_CODE_GROUP = CODE_GROUP
export type LinkCodePosition = CodePosition

const text = new TextCode({
  prefix: LINK_CODE_PREFIX,
  maxBytes: MAX_LINK_CODE_BYTES,
  noun: 'link code',
  error: (message, at) => new InvalidLinkCodeError(message, at === undefined ? undefined : { at })
})

/** The largest code as the QR carries it; under bech32's 1023, where a single change is always caught. */
export const MAX_LINK_CODE_TEXT = text.maxText

/** "tandem1-qpzr-y9x8-…": what a screen shows and a person types (dashes and case optional). */
export const formatLinkCodeText = (code: LinkCode): string => text.format(encodeLinkCode(code))

/** "TANDEM1QPZR…": what the QR code holds (upper case, no dashes: QR alphanumeric mode). */
export const linkCodeQrPayload = (code: LinkCode): string => text.qrPayload(encodeLinkCode(code))

/**
 * The code in a typed, pasted or scanned text: case, dashes and spaces do not matter.
 * Throws InvalidLinkCodeError for text that is not a code (with `at` where a typo is),
 * UnsupportedVersionError for a code of another version, and LinkCodeExpiredError once
 * `now` is past its expiry by more than `clockSkewMs`.
 */
export function readLinkCodeText(input: string, options: { now: number; clockSkewMs?: number }): LinkCode {
  const code = parseLinkCodeText(input)
  checkLinkCodeExpiry(code, options.now, options.clockSkewMs ?? LINK_CODE_CLOCK_SKEW_MS)
  return code
}

/** readLinkCodeText without the expiry check. */
export function parseLinkCodeText(input: string): LinkCode {
  return decodeLinkCode(text.parse(input))
}
