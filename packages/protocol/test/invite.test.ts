import fc from 'fast-check'
import { decodeQR } from 'qr/decode.js'
import { describe, expect, it } from 'vitest'
import {
  accountAgreementKey,
  checkInviteExpiry,
  decodeInvite,
  encodeInvite,
  formatInviteText,
  type Invite,
  InvalidInviteError,
  InviteExpiredError,
  inviteQrPayload,
  MAX_INVITE_BYTES,
  MAX_INVITE_NAME_BYTES,
  MAX_INVITE_TEXT,
  parseInviteText,
  readInviteText,
  renderInviteQr,
  safetyNumber,
  TandemError,
  UnsupportedVersionError
} from '../src/index.js'
import { equalBytes, expectSameValue, mutate, mutationArb } from './helpers.js'
import { RELAY_PEER } from './link-arbitraries.js'
import { terminalImage } from './qr-image.js'

const NOW = 1_700_000_000_000
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const accountIdArb = fc.stringMatching(/^a[a-z2-7]{32}$/)
const relayArb = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 65535 })).map(([a, p]) => `/ip4/127.0.0.${a}/tcp/${p}/p2p/${RELAY_PEER}`),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,2}$/).map(h => `/dns4/${h}/tcp/443/tls/ws/p2p/${RELAY_PEER}`)
)
const inviteArb: fc.Arbitrary<Invite> = fc.record({
  accountId: accountIdArb,
  generation: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  accountKey: bytes(32),
  relay: relayArb,
  name: fc.string({ maxLength: 20 }).filter(s => new TextEncoder().encode(s).length <= MAX_INVITE_NAME_BYTES && s === s.toWellFormed()),
  expiresAt: fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 1000) }).map(s => s * 1000)
})

const typical = (over: Partial<Invite> = {}): Invite => ({
  accountId: `a${'b'.repeat(32)}`,
  generation: 3,
  accountKey: accountAgreementKey(new Uint8Array(32).fill(7)).publicKey,
  relay: `/dns4/relay.tandem.example.org/tcp/443/tls/ws/p2p/${RELAY_PEER}`,
  name: 'Alice',
  expiresAt: NOW + 60_000,
  ...over
})

/** An invite at every bound. */
const largest = (): Invite => ({
  accountId: `a${'z'.repeat(32)}`,
  generation: Number.MAX_SAFE_INTEGER,
  accountKey: new Uint8Array(32).fill(0xee),
  relay: `/dns4/${'r'.repeat(60)}/tcp/65535/tls/ws/p2p/${RELAY_PEER}`,
  name: 'é'.repeat(MAX_INVITE_NAME_BYTES / 2),
  expiresAt: Math.floor(Number.MAX_SAFE_INTEGER / 1000) * 1000
})

describe('invite bytes', () => {
  it('decode(encode(invite)) is the invite, for any invite within the bounds (property)', () => {
    fc.assert(
      fc.property(inviteArb, invite => {
        const encoded = encodeInvite(invite)
        expect(encoded.length).toBeLessThanOrEqual(MAX_INVITE_BYTES)
        expectSameValue(decodeInvite(encoded), invite)
      }),
      { numRuns: 300 }
    )
  })

  it('arbitrary, mutated or truncated bytes: an invite that re-encodes to the same bytes, or a TandemError (property)', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(inviteArb, fc.array(mutationArb([MAX_INVITE_BYTES, 64, 2 ** 30]), { minLength: 1, maxLength: 3 })).map(([i, ms]) => ms.reduce(mutate, encodeInvite(i)))
    )
    fc.assert(
      fc.property(arb, input => {
        let invite: Invite
        try {
          invite = decodeInvite(input)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        if (!equalBytes(encodeInvite(invite), input)) throw new Error('accepted bytes are not canonical')
      }),
      { numRuns: 1000 }
    )
  })

  it('the largest invite fits MAX_INVITE_BYTES, and bytes over it are refused before parsing', () => {
    expect(encodeInvite(largest()).length).toBeLessThanOrEqual(MAX_INVITE_BYTES)
    expect(() => decodeInvite(new Uint8Array(MAX_INVITE_BYTES + 1))).toThrow(InvalidInviteError)
  })

  it('refuses what is not an invite: no account id, generation 0, a relay without its peer id, a long name, another version', () => {
    expect(() => encodeInvite(typical({ accountId: 'alice' }))).toThrow(InvalidInviteError)
    expect(() => encodeInvite(typical({ generation: 0 }))).toThrow(InvalidInviteError)
    expect(() => encodeInvite(typical({ relay: '/ip4/127.0.0.1/tcp/4001' }))).toThrow(/must end in \/p2p\//)
    expect(() => encodeInvite(typical({ relay: 'relay.example.org' }))).toThrow(InvalidInviteError)
    expect(() => encodeInvite(typical({ name: 'x'.repeat(MAX_INVITE_NAME_BYTES + 1) }))).toThrow(InvalidInviteError)
    expect(() => encodeInvite(typical({ accountKey: new Uint8Array(31) }))).toThrow(InvalidInviteError)
    expect(() => encodeInvite(typical({ expiresAt: NOW + 1 }))).toThrow(/whole second/)
    const bytes = encodeInvite(typical())
    bytes[0] = 2
    expect(() => decodeInvite(bytes)).toThrow(UnsupportedVersionError)
  })
})

describe('invite text and QR', () => {
  it('text and QR payload read back as the invite; the text is about 330 characters and at most MAX_INVITE_TEXT', () => {
    const invite = typical()
    const text = formatInviteText(invite)
    expect(text.startsWith('tandeminvite1-')).toBe(true)
    expectSameValue(readInviteText(text, { now: NOW }), invite)
    expectSameValue(readInviteText(inviteQrPayload(invite), { now: NOW }), invite)
    expectSameValue(parseInviteText(` ${text.toUpperCase().replaceAll('-', ' ')} `), invite)
    expect(text.length).toBeGreaterThan(250)
    expect(text.length).toBeLessThan(400)
    expect(inviteQrPayload(largest()).length).toBeLessThanOrEqual(MAX_INVITE_TEXT)
    expect(MAX_INVITE_TEXT).toBeLessThan(1023)
  })

  it('a typo is InvalidInviteError naming its place; a link code is not an invite', () => {
    const text = formatInviteText(typical())
    const j = 'tandeminvite1-'.length + 6 + 1 // data character 6: group 2, character 3
    const typo = text.slice(0, j) + (text[j] === 'q' ? 'p' : 'q') + text.slice(j + 1)
    expect(() => parseInviteText(typo)).toThrow(/invite: group 2, character 3 looks mistyped/)
    expect(() => parseInviteText('tandem1-qqqq-qqqq')).toThrow(/starts with "tandeminvite1"/)
    for (const bad of ['', 'tandeminvite1', 'x'.repeat(10_000), 42 as unknown as string]) expect(() => parseInviteText(bad)).toThrow(InvalidInviteError)
  })

  it('an expired invite is InviteExpiredError, from its expiry second on', () => {
    const invite = typical()
    expect(() => checkInviteExpiry(invite, invite.expiresAt - 1)).not.toThrow()
    expect(() => checkInviteExpiry(invite, invite.expiresAt)).toThrow(InviteExpiredError)
    expect(() => readInviteText(formatInviteText(invite), { now: invite.expiresAt + 5000 })).toThrow(/expired 5 s ago/)
  })

  it('the QR code holds the upper-case payload, for a terminal and as SVG', () => {
    const invite = typical()
    expect(renderInviteQr(invite, 'svg').startsWith('<svg')).toBe(true)
    expect(decodeQR(terminalImage(renderInviteQr(invite, 'terminal')))).toBe(inviteQrPayload(invite))
    expect(() => renderInviteQr(invite, 'png' as 'svg')).toThrow(RangeError)
  })
})

describe('safety number', () => {
  const alice = `a${'b'.repeat(32)}`
  const bob = `a${'c'.repeat(32)}`
  it('is 60 digits in 12 groups of 5, the same from either side, and differs for another account', () => {
    const n = safetyNumber(alice, bob)
    expect(n).toMatch(/^(\d{5} ){11}\d{5}$/)
    expect(safetyNumber(bob, alice)).toBe(n)
    expect(safetyNumber(alice, `a${'d'.repeat(32)}`)).not.toBe(n)
    // the half of an account is the same in every pair it is in
    const halves = (s: string) => [s.replaceAll(' ', '').slice(0, 30), s.replaceAll(' ', '').slice(30)]
    const aliceBob = halves(n)
    const aliceCarol = halves(safetyNumber(alice, `a${'d'.repeat(32)}`))
    expect(aliceBob.some(h => aliceCarol.includes(h))).toBe(true)
  })

  it('refuses what is not two different account ids', () => {
    expect(() => safetyNumber(alice, alice)).toThrow(RangeError)
    expect(() => safetyNumber(alice, 'bob')).toThrow(RangeError)
  })
})
