/**
 * A binary value as text a person can type, and the QR payload (link codes, invites):
 *
 *   shown:  <prefix>1-qpzr-y9x8-gf2t-…      bech32m (BIP-350) of the bytes, groups of 4
 *   QR:     <PREFIX>1QPZRY9X8GF2T…         the same, upper case, no dashes (QR alphanumeric mode)
 *
 * Why bech32m (@scure/base, audited, from the author of @noble): it is an encoding with a
 * checksum built for people typing and for QR codes. Its alphabet leaves out 1, b, i and
 * o; it is read in either case; upper case fits QR's alphanumeric mode (5.5 bits a
 * character instead of 8). Its checksum is a BCH code: any single changed character is
 * always detected, at any length up to 1023, and longer garbles slip through with a chance
 * of about 1 in 2^30.
 *
 * A typo is reported as a typo, with its place: a character outside the alphabet is named
 * at once; when the checksum fails, the one change that makes it pass (a character
 * replaced, missing or doubled) is searched for, and named when exactly one fits.
 * (Moved here from link-code-text.ts so invites share it: one copy of the typo search.)
 */
import { bech32m } from '@scure/base'
import type { TandemError } from '../errors.js'

/** Characters per group in the shown text. */
export const CODE_GROUP = 4
const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'

export interface CodePosition {
  /** 1-based group of the shown text (the groups after "<prefix>1-"). */
  group: number
  /** 1-based character within the group. */
  character: number
}

const positionOf = (index: number): CodePosition => ({ group: Math.floor(index / CODE_GROUP) + 1, character: (index % CODE_GROUP) + 1 })
const describe = (p: CodePosition): string => `group ${p.group}, character ${p.character}`

const passes = (prefix: string, data: string): boolean => bech32m.decodeUnsafe(`${prefix}1${data}`, false) !== undefined

/** How one kind of code is written: its prefix, its largest encoding, what it is called and its error. */
export interface TextCodeSpec {
  /** The bech32 human-readable part, lower case ("tandem", "tandeminvite"). */
  prefix: string
  maxBytes: number
  /** What the code is called in messages ("link code", "invite"). */
  noun: string
  error: (message: string, at?: CodePosition) => TandemError
}

/** The text and QR forms of one kind of code. */
export class TextCode {
  readonly head: string
  /** Data characters of the largest code: its bytes in 5-bit words plus the 6-character checksum. */
  readonly maxDataChars: number
  /** The largest code as the QR carries it; under bech32's 1023, where a single change is always caught. */
  readonly maxText: number
  /** What parse looks at: the largest code with its dashes, and room for stray spaces. */
  private readonly maxInput: number

  constructor(private readonly spec: TextCodeSpec) {
    this.head = `${spec.prefix}1`
    this.maxDataChars = Math.ceil((spec.maxBytes * 8) / 5) + 6
    this.maxText = this.head.length + this.maxDataChars
    this.maxInput = 4 * this.maxText
  }

  private dataChars(bytes: Uint8Array): string {
    return bech32m.encode(this.spec.prefix, bech32m.toWords(bytes), false).slice(this.head.length)
  }

  /** "<prefix>1-qpzr-y9x8-…": what a screen shows and a person types (dashes and case optional). */
  format(bytes: Uint8Array): string {
    const data = this.dataChars(bytes)
    const groups: string[] = []
    for (let i = 0; i < data.length; i += CODE_GROUP) groups.push(data.slice(i, i + CODE_GROUP))
    return `${this.head}-${groups.join('-')}`
  }

  /** "<PREFIX>1QPZR…": what the QR code holds (upper case, no dashes: QR alphanumeric mode). */
  qrPayload(bytes: Uint8Array): string {
    return `${this.head}${this.dataChars(bytes)}`.toUpperCase()
  }

  private fail(message: string, at?: CodePosition): TandemError {
    return this.spec.error(`${this.spec.noun}: ${message}`, at)
  }

  /** The bytes in a typed, pasted or scanned text: case, dashes and spaces do not matter. Throws the spec's error, with `at` where a typo is. */
  parse(text: string): Uint8Array {
    const { head, spec } = this
    if (typeof text !== 'string' || text.length > this.maxInput) throw this.fail(`not ${article(spec.noun)} (too long, or not text)`)
    const compact = text.toLowerCase().replace(/[\s-]+/gu, '')
    if (!compact.startsWith(head)) throw this.fail(`${article(spec.noun)} starts with "${head}"`)
    const data = compact.slice(head.length)
    for (let i = 0; i < data.length; i++) {
      if (!ALPHABET.includes(data[i]!)) {
        const at = positionOf(i)
        throw this.fail(`${describe(at)} is ${JSON.stringify(data.slice(i, i + 1))}, which no code contains (codes have no 1, b, i or o)`, at)
      }
    }
    if (data.length > this.maxDataChars) throw this.fail(`${data.length} characters after "${head}", longer than any code (${this.maxDataChars})`)
    if (data.length < 7) throw this.fail('too short: characters are missing')
    if (!passes(spec.prefix, data)) {
      const typo = locateTypo(spec.prefix, data)
      if (typo === undefined) throw this.fail('the checksum does not match: more than one character is mistyped, or the code is cut short')
      const what = typo.kind === 'replaced' ? 'looks mistyped' : typo.kind === 'extra' ? 'looks doubled or extra' : 'is where a character looks missing'
      throw this.fail(`${describe(typo.at)} ${what} (the checksum does not match)`, typo.at)
    }
    const words = bech32m.decode(`${head}${data}` as `${string}1${string}`, false).words
    const bytes = bech32m.fromWordsUnsafe(words)
    if (bytes === undefined) throw this.fail('the checksum matches but the characters do not spell whole bytes')
    return bytes
  }
}

const article = (noun: string): string => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`)

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
function hrpState(prefix: string): number {
  let chk = 1
  for (const ch of prefix) chk = polymodStep(chk, ch.charCodeAt(0) >>> 5)
  chk = polymodStep(chk, 0)
  for (const ch of prefix) chk = polymodStep(chk, ch.charCodeAt(0) & 31)
  return chk
}

/** The final checksum of every one-character fix of `symbols`, as `fits(final)` asks. */
function checksumCarrier(hrp: number, symbols: number[]) {
  const n = symbols.length
  const prefix = new Int32Array(n + 1) // the state after symbols[0..i)
  prefix[0] = hrp
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
function locateTypo(prefix: string, data: string): { kind: 'replaced' | 'missing' | 'extra'; at: CodePosition } | undefined {
  const symbols = Array.from(data, ch => ALPHABET.indexOf(ch))
  const n = symbols.length
  const { prefix: states, finish } = checksumCarrier(hrpState(prefix), symbols)
  const fixes: { kind: 'replaced' | 'missing' | 'extra'; index: number; text: string }[] = []
  for (let i = 0; i < n && fixes.length < 2; i++) {
    for (let c = 0; c < 32; c++) {
      if (c !== symbols[i] && finish(polymodStep(states[i]!, c), i + 1)) fixes.push({ kind: 'replaced', index: i, text: data.slice(0, i) + ALPHABET[c] + data.slice(i + 1) })
    }
  }
  // A doubled or missing character fits anywhere in its run of equal characters: one fix, named at the run's start.
  for (let i = 0; i < n && fixes.length < 2; i++) {
    if ((i === 0 || symbols[i] !== symbols[i - 1]) && finish(states[i]!, i + 1)) fixes.push({ kind: 'extra', index: i, text: data.slice(0, i) + data.slice(i + 1) })
  }
  for (let i = 0; i <= n && fixes.length < 2; i++) {
    for (let c = 0; c < 32; c++) {
      if ((i === 0 || symbols[i - 1] !== c) && finish(polymodStep(states[i]!, c), i))
        fixes.push({ kind: 'missing', index: i, text: data.slice(0, i) + ALPHABET[c] + data.slice(i) })
    }
  }
  const fix = fixes.length === 1 ? fixes[0]! : undefined
  return fix !== undefined && passes(prefix, fix.text) ? { kind: fix.kind, at: positionOf(fix.index) } : undefined
}
