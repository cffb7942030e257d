/**
 * The link code as text a person can type, and the QR payload:
 *
 *   shown:  tandem1-qpzr-y9x8-gf2t-…      bech32m (BIP-350) of the encoded code, hrp "tandem", groups of 4
 *   QR:     TANDEM1QPZRY9X8GF2T…         the same, upper case, no dashes (QR alphanumeric mode)
 *
 * Why bech32m (@scure/base, audited, from the author of @noble): it is an encoding with a
 * checksum built for people typing and for QR codes. Its alphabet leaves out 1, b, i and
 * o; it is read in either case; upper case fits QR's alphanumeric mode (5.5 bits a
 * character instead of 8). Its checksum is a BCH code: any single changed character is
 * always detected, at any length up to 1023 (every code is shorter, MAX_LINK_CODE_TEXT),
 * and longer garbles slip through with a chance of about 1 in 2^30.
 *
 * A typo is reported as a typo, with its place: a character outside the alphabet is named
 * at once; when the checksum fails, the one change that makes it pass (a character
 * replaced, missing or doubled) is searched for, and named when exactly one fits.
 */
import { bech32m } from '@scure/base'
import { InvalidLinkCodeError } from '../errors.js'
import { checkLinkCodeExpiry, decodeLinkCode, encodeLinkCode, LINK_CODE_CLOCK_SKEW_MS, type LinkCode, MAX_LINK_CODE_BYTES } from './link-code.js'

export const LINK_CODE_PREFIX = 'tandem'
/** Characters per group in the shown text. */
export const LINK_CODE_GROUP = 4
const HEAD = `${LINK_CODE_PREFIX}1`
const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
/** Data characters of the largest code: its bytes in 5-bit words plus the 6-character checksum. */
const MAX_DATA_CHARS = Math.ceil((MAX_LINK_CODE_BYTES * 8) / 5) + 6
/** The largest code as the QR carries it; under bech32's 1023, where a single change is always caught. */
export const MAX_LINK_CODE_TEXT = HEAD.length + MAX_DATA_CHARS
/** What readLinkCodeText looks at: the largest code with its dashes, and room for stray spaces. */
const MAX_INPUT_CHARS = 4 * MAX_LINK_CODE_TEXT

export interface LinkCodePosition {
  /** 1-based group of the shown text (the groups after "tandem1-"). */
  group: number
  /** 1-based character within the group. */
  character: number
}

const positionOf = (index: number): LinkCodePosition => ({ group: Math.floor(index / LINK_CODE_GROUP) + 1, character: (index % LINK_CODE_GROUP) + 1 })
const describe = (p: LinkCodePosition): string => `group ${p.group}, character ${p.character}`

/** The code's data characters (after "tandem1"), lower case. */
function dataChars(code: LinkCode): string {
  return bech32m.encode(LINK_CODE_PREFIX, bech32m.toWords(encodeLinkCode(code)), false).slice(HEAD.length)
}

/** "tandem1-qpzr-y9x8-…": what a screen shows and a person types (dashes and case optional). */
export function formatLinkCodeText(code: LinkCode): string {
  const data = dataChars(code)
  const groups: string[] = []
  for (let i = 0; i < data.length; i += LINK_CODE_GROUP) groups.push(data.slice(i, i + LINK_CODE_GROUP))
  return `${HEAD}-${groups.join('-')}`
}

/** "TANDEM1QPZR…": what the QR code holds (upper case, no dashes: QR alphanumeric mode). */
export const linkCodeQrPayload = (code: LinkCode): string => `${HEAD}${dataChars(code)}`.toUpperCase()

const fail = (message: string, at?: LinkCodePosition): InvalidLinkCodeError => new InvalidLinkCodeError(`link code: ${message}`, at === undefined ? undefined : { at })

const passes = (data: string): boolean => bech32m.decodeUnsafe(HEAD + data, false) !== undefined

// Locating a typo evaluates bech32's checksum (BIP-173's polymod over GF(32)) for every
// single-character fix. The polymod is linear, so the state after the rest of the code is
// the state before it carried through k zero symbols (a linear map, kept per k as images
// of the 30 state bits) xor the rest's own contribution: each candidate costs 30 xors, and
// the whole search ~7 ms at the largest code (trial decoding with the library: 0.37 s at
// 270 characters, ~4 s at the largest). Whether a code is valid is never decided here: the
// library decides, and the one fix found is confirmed with it before it is named.
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const
const BECH32M_CONST = 0x2bc830a3
const STATE_BITS = 30

function polymodStep(chk: number, value: number): number {
  const top = chk >>> 25
  let next = ((chk & 0x1ffffff) << 5) ^ value
  for (let i = 0; i < 5; i++) if ((top >>> i) & 1) next ^= GENERATOR[i]!
  return next
}

/** The checksum state after the hrp: BIP-173's expansion (high bits, 0, low bits). */
const HRP_STATE = (() => {
  let chk = 1
  for (const ch of LINK_CODE_PREFIX) chk = polymodStep(chk, ch.charCodeAt(0) >>> 5)
  chk = polymodStep(chk, 0)
  for (const ch of LINK_CODE_PREFIX) chk = polymodStep(chk, ch.charCodeAt(0) & 31)
  return chk
})()

/** The final checksum of every one-character fix of `symbols`, as `fits(final)` asks. */
function checksumCarrier(symbols: number[]) {
  const n = symbols.length
  const prefix = new Int32Array(n + 1) // the state after symbols[0..i)
  prefix[0] = HRP_STATE
  for (let i = 0; i < n; i++) prefix[i + 1] = polymodStep(prefix[i]!, symbols[i]!)
  const zeros = new Int32Array((n + 1) * STATE_BITS) // zeros[k·30 + b]: bit b's state after k zero symbols
  for (let b = 0; b < STATE_BITS; b++) zeros[b] = 1 << b
  for (let k = 1; k <= n; k++) for (let b = 0; b < STATE_BITS; b++) zeros[k * STATE_BITS + b] = polymodStep(zeros[(k - 1) * STATE_BITS + b]!, 0)
  const through = (k: number, state: number) => {
    let out = 0
    for (let b = 0; b < STATE_BITS; b++) if ((state >>> b) & 1) out ^= zeros[k * STATE_BITS + b]!
    return out
  }
  const rest = new Int32Array(n + 1) // rest[i]: what symbols[i..n) add, from a zero state
  for (let i = n - 1; i >= 0; i--) rest[i] = through(n - i - 1, symbols[i]!) ^ rest[i + 1]!
  /** The final state when symbols[i..) follow `state`. */
  const finish = (state: number, i: number) => (through(n - i, state) ^ rest[i]!) === BECH32M_CONST
  return { prefix, finish }
}

/**
 * Where one change would make `data` pass its checksum: the single place when exactly one
 * fix fits, else undefined (nothing fits, or several do and naming one could mislead).
 */
function locateTypo(data: string): { kind: 'replaced' | 'missing' | 'extra'; at: LinkCodePosition } | undefined {
  const symbols = Array.from(data, ch => ALPHABET.indexOf(ch))
  const n = symbols.length
  const { prefix, finish } = checksumCarrier(symbols)
  const fixes: { kind: 'replaced' | 'missing' | 'extra'; index: number; text: string }[] = []
  for (let i = 0; i < n && fixes.length < 2; i++) {
    for (let c = 0; c < 32; c++) {
      if (c !== symbols[i] && finish(polymodStep(prefix[i]!, c), i + 1)) fixes.push({ kind: 'replaced', index: i, text: data.slice(0, i) + ALPHABET[c] + data.slice(i + 1) })
    }
  }
  // A doubled or missing character fits anywhere in its run of equal characters: one fix, named at the run's start.
  for (let i = 0; i < n && fixes.length < 2; i++) {
    if ((i === 0 || symbols[i] !== symbols[i - 1]) && finish(prefix[i]!, i + 1)) fixes.push({ kind: 'extra', index: i, text: data.slice(0, i) + data.slice(i + 1) })
  }
  for (let i = 0; i <= n && fixes.length < 2; i++) {
    for (let c = 0; c < 32; c++) {
      if ((i === 0 || symbols[i - 1] !== c) && finish(polymodStep(prefix[i]!, c), i))
        fixes.push({ kind: 'missing', index: i, text: data.slice(0, i) + ALPHABET[c] + data.slice(i) })
    }
  }
  const fix = fixes.length === 1 ? fixes[0]! : undefined
  return fix !== undefined && passes(fix.text) ? { kind: fix.kind, at: positionOf(fix.index) } : undefined
}

/**
 * The code in a typed, pasted or scanned text: case, dashes and spaces do not matter.
 * Throws InvalidLinkCodeError for text that is not a code (with `at` where a typo is),
 * UnsupportedVersionError for a code of another version, and LinkCodeExpiredError once
 * `now` is past its expiry by more than `clockSkewMs`.
 */
export function readLinkCodeText(text: string, options: { now: number; clockSkewMs?: number }): LinkCode {
  const code = parseLinkCodeText(text)
  checkLinkCodeExpiry(code, options.now, options.clockSkewMs ?? LINK_CODE_CLOCK_SKEW_MS)
  return code
}

/** readLinkCodeText without the expiry check. */
export function parseLinkCodeText(text: string): LinkCode {
  if (typeof text !== 'string' || text.length > MAX_INPUT_CHARS) throw fail('not a link code (too long, or not text)')
  const compact = text.toLowerCase().replace(/[\s-]+/gu, '')
  if (!compact.startsWith(HEAD)) throw fail(`a link code starts with "${HEAD}"`)
  const data = compact.slice(HEAD.length)
  for (let i = 0; i < data.length; i++) {
    if (!ALPHABET.includes(data[i]!)) {
      const at = positionOf(i)
      throw fail(`${describe(at)} is ${JSON.stringify(data.slice(i, i + 1))}, which no code contains (codes have no 1, b, i or o)`, at)
    }
  }
  if (data.length > MAX_DATA_CHARS) throw fail(`${data.length} characters after "${HEAD}", longer than any code (${MAX_DATA_CHARS})`)
  if (data.length < 7) throw fail('too short: characters are missing')
  if (!passes(data)) {
    const typo = locateTypo(data)
    if (typo === undefined) throw fail('the checksum does not match: more than one character is mistyped, or the code is cut short')
    const what = typo.kind === 'replaced' ? 'looks mistyped' : typo.kind === 'extra' ? 'looks doubled or extra' : 'is where a character looks missing'
    throw fail(`${describe(typo.at)} ${what} (the checksum does not match)`, typo.at)
  }
  const words = bech32m.decode(`${HEAD}${data}` as `${string}1${string}`, false).words
  const bytes = bech32m.fromWordsUnsafe(words)
  if (bytes === undefined) throw fail('the checksum matches but the characters do not spell whole bytes')
  return decodeLinkCode(bytes)
}
