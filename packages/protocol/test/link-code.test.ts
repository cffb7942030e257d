import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import {
  checkLinkPeer,
  createLinkCode,
  DEFAULT_LINK_CODE_TTL_MS,
  decodeLinkCode,
  encodeLinkCode,
  formatLinkCodeText,
  InvalidLinkCodeError,
  LINK_CODE_CLOCK_SKEW_MS,
  type LinkCode,
  LinkCodeExpiredError,
  LinkProofError,
  linkCodeQrPayload,
  linkDialAddresses,
  MAX_LINK_ADDRESS_BYTES,
  MAX_LINK_ADDRESSES,
  MAX_LINK_CODE_BYTES,
  MAX_LINK_CODE_TEXT,
  parseLinkCodeText,
  readLinkCode,
  readLinkCodeText,
  TandemError,
  UnsupportedVersionError
} from '../src/index.js'
import { equalBytes, expectSameValue, mutate, mutationArb, varUint } from './helpers.js'
import { CIRCUIT, LONGEST_ADDRESS, largestCode, linkCodeArb, NOW, typicalCode } from './link-arbitraries.js'

const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const HEAD = 'tandem1-'

/** The index in the shown text of data character `i` (after "tandem1-", a dash after every 4). */
const shownIndex = (i: number) => HEAD.length + i + Math.floor(i / 4)

describe('link code bytes', () => {
  it('decode(encode(code)) is the code, for any code within the bounds (property)', () => {
    fc.assert(
      fc.property(linkCodeArb, code => {
        const bytes = encodeLinkCode(code)
        expect(bytes.length).toBeLessThanOrEqual(MAX_LINK_CODE_BYTES)
        expectSameValue(decodeLinkCode(bytes), code)
      }),
      { numRuns: 500 }
    )
  })

  it('the largest code is exactly MAX_LINK_CODE_BYTES; a longer address, one address more or one byte more is refused', () => {
    const code = largestCode()
    const bytes = encodeLinkCode(code)
    expect(bytes.length).toBe(MAX_LINK_CODE_BYTES)
    expectSameValue(decodeLinkCode(bytes), code)
    expect(() => encodeLinkCode({ ...code, addresses: [...code.addresses.slice(1), `${LONGEST_ADDRESS}x`] })).toThrow(/over the bound of 128/)
    expect(() => encodeLinkCode({ ...code, addresses: [...code.addresses, '/ip4/1.2.3.4/tcp/1'] })).toThrow(/5 entries, over the bound of 4/)
    const padded = new Uint8Array(bytes.length + 1)
    padded.set(bytes)
    expect(() => decodeLinkCode(padded)).toThrow(/578 bytes, over the bound of 577/)
  })

  it('arbitrary, mutated or truncated bytes: a code that re-encodes to the same bytes, or a TandemError — never anything else (property)', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .tuple(linkCodeArb, fc.array(mutationArb([MAX_LINK_ADDRESSES, MAX_LINK_ADDRESS_BYTES, 2 ** 40]), { minLength: 1, maxLength: 3 }))
        .map(([code, ms]) => ms.reduce(mutate, encodeLinkCode(code)))
    )
    fc.assert(
      fc.property(arb, bytes => {
        const decoder = decoding.createDecoder(bytes)
        try {
          readLinkCode(decoder)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
        }
        if (decoder.pos > bytes.length) throw new Error('read past the end')
        let code: LinkCode
        try {
          code = decodeLinkCode(bytes)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        if (!equalBytes(encodeLinkCode(code), bytes)) throw new Error('accepted bytes are not canonical')
      }),
      { numRuns: 3000 }
    )
  })

  it('names what is wrong: another version, a peer id that is no Ed25519 key, an address that is no multiaddr, a broken expiry', () => {
    const bytes = encodeLinkCode(typicalCode())
    expect(() => decodeLinkCode(Uint8Array.of(...varUint(2), ...bytes.subarray(1)))).toThrow(UnsupportedVersionError)
    expect(() => encodeLinkCode(typicalCode({ peerId: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }))).toThrow(/not the peer id of an Ed25519 key/)
    expect(() => encodeLinkCode(typicalCode({ addresses: ['/ip4/1.2.3/tcp/1'] }))).toThrow(/is not a multiaddr/)
    expect(() => encodeLinkCode(typicalCode({ addresses: ['/'] }))).toThrow(/empty multiaddr/)
    expect(() => encodeLinkCode(typicalCode({ expiresAt: NOW + 1 }))).toThrow(/whole second/)
    expect(() => encodeLinkCode(typicalCode({ secret: new Uint8Array(15) }))).toThrow(/secret: expected 16 bytes/)
    // an address's bytes that multiaddr cannot read: the 4-byte IPv4 field cut to 2
    const garbled = Uint8Array.of(...bytes.subarray(0, 1 + 32 + 16 + 5), 1, 3, 0x04, 1, 2)
    expect(() => decodeLinkCode(garbled)).toThrow(InvalidLinkCodeError)
    expect(() => decodeLinkCode(garbled)).toThrow(/not a canonical multiaddr/)
  })
})

describe('making a code', () => {
  it('draws the secret from the injected randomness, expires DEFAULT_LINK_CODE_TTL_MS from the injected clock (a whole second), and drops the device’s own /p2p suffix', () => {
    const peerId = typicalCode().peerId
    const code = createLinkCode({
      peerId,
      addresses: [`${CIRCUIT}/p2p/${peerId}`, '/ip4/192.168.1.23/tcp/40123'],
      randomBytes: n => new Uint8Array(n).fill(7),
      now: () => NOW + 999
    })
    expect(code.secret).toEqual(new Uint8Array(16).fill(7))
    expect(code.expiresAt).toBe(NOW + DEFAULT_LINK_CODE_TTL_MS)
    expect(code.addresses).toEqual([CIRCUIT, '/ip4/192.168.1.23/tcp/40123'])
    expect(linkDialAddresses(code)).toEqual([`${CIRCUIT}/p2p/${peerId}`, `/ip4/192.168.1.23/tcp/40123/p2p/${peerId}`])
    expect(() => createLinkCode({ peerId, addresses: [], randomBytes: n => new Uint8Array(n), now: () => NOW, ttlMs: 2 * 60 * 60_000 })).toThrow(RangeError)
    expect(() => createLinkCode({ peerId, addresses: Array(5).fill('/ip4/1.2.3.4/tcp/1'), randomBytes: n => new Uint8Array(n), now: () => NOW })).toThrow(InvalidLinkCodeError)
  })

  it('the dialer checks that Noise authenticated the device the code names', () => {
    const code = typicalCode()
    expect(() => checkLinkPeer(code, code.peerId)).not.toThrow()
    expect(() => checkLinkPeer(code, RELAY_PEER_ID)).toThrow(LinkProofError)
  })
})

const RELAY_PEER_ID = '12D3KooWGRUVh9FxSEUyUM6K2GRm5zx5n5HyyVpcGnLvSvRDaoSv'

describe('link code text', () => {
  it('round-trips any code, read in any case, with or without dashes and with stray spaces; the QR payload reads the same (property)', () => {
    fc.assert(
      fc.property(linkCodeArb, fc.constantFrom('as shown', 'upper', 'no dashes', 'spaced'), (code, how) => {
        const text = formatLinkCodeText(code)
        expect(text).toMatch(/^tandem1(-[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{1,4})+$/)
        const typed = how === 'upper' ? text.toUpperCase() : how === 'no dashes' ? text.replaceAll('-', '') : ` ${text.replaceAll('-', ' ')}\n`
        expectSameValue(parseLinkCodeText(how === 'as shown' ? text : typed), code)
        expectSameValue(parseLinkCodeText(linkCodeQrPayload(code)), code)
      }),
      { numRuns: 300 }
    )
  })

  it('is about 270 characters for a typical code, 125 without addresses, and at most MAX_LINK_CODE_TEXT (under bech32’s 1023)', () => {
    expect(linkCodeQrPayload(typicalCode()).length).toBeLessThan(280)
    expect(formatLinkCodeText(typicalCode({ addresses: [] })).length).toBeLessThanOrEqual(125)
    expect(linkCodeQrPayload(largestCode()).length).toBe(MAX_LINK_CODE_TEXT)
    expect(MAX_LINK_CODE_TEXT).toBeLessThan(1023)
  })

  it('any single changed character is a typo reported at its group and character (property)', () => {
    // Replacements by another code character (only the checksum can tell) and by characters no code has.
    const replacement = fc.oneof(fc.constantFrom(...ALPHABET), fc.constantFrom('1', 'b', 'i', 'o', '!', 'é', '_'))
    fc.assert(
      fc.property(linkCodeArb, fc.nat(), replacement, (code, at, ch) => {
        const text = formatLinkCodeText(code)
        const dataLength = text.length - HEAD.length - Math.floor((text.length - HEAD.length) / 5)
        const i = at % dataLength
        const j = shownIndex(i)
        fc.pre(ch !== text[j])
        const typo = text.slice(0, j) + ch + text.slice(j + 1)
        let error: unknown
        try {
          parseLinkCodeText(typo)
        } catch (e) {
          error = e
        }
        expect(error).toBeInstanceOf(InvalidLinkCodeError)
        expect((error as InvalidLinkCodeError).at).toEqual({ group: Math.floor(i / 4) + 1, character: (i % 4) + 1 })
        expect((error as Error).message).toContain(`group ${Math.floor(i / 4) + 1}, character ${(i % 4) + 1}`)
      }),
      { numRuns: 400 }
    )
  })

  it('a missing or doubled character is reported as one, where it is', () => {
    const text = formatLinkCodeText(typicalCode())
    // data character 41 (group 11, character 2), chosen where its neighbours differ from it
    const j = shownIndex(41)
    expect(text[j - 1]).not.toBe(text[j])
    expect(text[j + 1]).not.toBe(text[j])
    expect(() => parseLinkCodeText(text.slice(0, j) + text.slice(j + 1))).toThrow(/group 11, character 2 is where a character looks missing/)
    expect(() => parseLinkCodeText(text.slice(0, j) + text[j] + text.slice(j))).toThrow(/group 11, character 2 looks doubled or extra/)
  })

  it('two typos, a wrong prefix, garbage or a cut code are InvalidLinkCodeError saying so', () => {
    const text = formatLinkCodeText(typicalCode())
    const swap = (s: string, j: number) => s.slice(0, j) + (s[j] === 'q' ? 'p' : 'q') + s.slice(j + 1)
    expect(() => parseLinkCodeText(swap(swap(text, shownIndex(3)), shownIndex(200)))).toThrow(/more than one character is mistyped/)
    expect(() => parseLinkCodeText(`tandam1${text.slice(7)}`)).toThrow(/starts with "tandem1"/)
    expect(() => parseLinkCodeText(text.slice(0, 60))).toThrow(/the checksum does not match/)
    for (const bad of ['', 'tandem1', 'tandem1-qqqq', 'x'.repeat(10_000), 42 as unknown as string, `${text}${text}`]) {
      expect(() => parseLinkCodeText(bad)).toThrow(InvalidLinkCodeError)
    }
  })

  it('arbitrary text: a code or a TandemError (property)', () => {
    const arb = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }).map(s => `tandem1${s}`),
      fc.stringMatching(/^tandem1[qpzry9x8gf2tvdw0s3jn54khce6mua7l-]{0,200}$/)
    )
    fc.assert(
      fc.property(arb, text => {
        try {
          parseLinkCodeText(text)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
        }
      }),
      { numRuns: 1000 }
    )
  })

  it('locating a typo in the largest code takes well under a second', () => {
    const text = formatLinkCodeText(largestCode())
    const j = shownIndex(500)
    const typo = text.slice(0, j) + (text[j] === 'q' ? 'p' : 'q') + text.slice(j + 1)
    const start = performance.now()
    expect(() => parseLinkCodeText(typo)).toThrow(/group 126, character 1 looks mistyped/)
    // measured ~7 ms here; the bound leaves room for a slow, busy machine
    expect(performance.now() - start).toBeLessThan(1000)
  })
})

describe('link code expiry', () => {
  it('a code is read until its expiry plus the reader’s clock-skew allowance, and refused from then on', () => {
    const code = typicalCode()
    const text = formatLinkCodeText(code)
    expect(readLinkCodeText(text, { now: code.expiresAt - 1 }).peerId).toBe(code.peerId)
    expect(readLinkCodeText(text, { now: code.expiresAt + LINK_CODE_CLOCK_SKEW_MS - 1 }).peerId).toBe(code.peerId)
    expect(() => readLinkCodeText(text, { now: code.expiresAt + LINK_CODE_CLOCK_SKEW_MS })).toThrow(LinkCodeExpiredError)
    expect(() => readLinkCodeText(text, { now: code.expiresAt, clockSkewMs: 0 })).toThrow(/link code expired 0 s ago/)
  })
})
