import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  confirmationCode,
  LinkCodeExpiredError,
  LinkCodeHolder,
  LinkCodeUsedError,
  LinkProofError,
  type LinkTranscript,
  linkProof,
  peerIdFromSigningKey,
  transcriptBytes,
  verifyLinkProof
} from '../src/index.js'
import { NOW, transcriptArb, typicalCode } from './link-arbitraries.js'

const secretArb = fc.uint8Array({ minLength: 16, maxLength: 16 })
const EXISTING = peerIdFromSigningKey(new Uint8Array(32).fill(0x22))
const STRANGER = peerIdFromSigningKey(new Uint8Array(32).fill(0x33))

/** One session between the existing device (dialer) and the new one the code names. */
const session = (over: Partial<LinkTranscript> = {}): LinkTranscript => ({
  dialerPeerId: EXISTING,
  listenerPeerId: typicalCode().peerId,
  dialerNonce: new Uint8Array(32).fill(1),
  listenerNonce: new Uint8Array(32).fill(2),
  ...over
})

/** Every way a transcript can differ from `t` in one field. */
const variants = (t: LinkTranscript): [string, LinkTranscript][] => {
  const flip = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x))
  return [
    ['another dialer', { ...t, dialerPeerId: STRANGER === t.dialerPeerId ? EXISTING : STRANGER }],
    ['another listener', { ...t, listenerPeerId: STRANGER === t.listenerPeerId ? EXISTING : STRANGER }],
    ['the peers swapped', { ...t, dialerPeerId: t.listenerPeerId, listenerPeerId: t.dialerPeerId }],
    ['another dialer nonce', { ...t, dialerNonce: flip(t.dialerNonce) }],
    ['another listener nonce', { ...t, listenerNonce: flip(t.listenerNonce) }],
    ['the nonces swapped', { ...t, dialerNonce: t.listenerNonce, listenerNonce: t.dialerNonce }]
  ]
}

describe('proving the secret', () => {
  it('each side’s proof verifies for the same secret and session, and is compared whole (property)', () => {
    fc.assert(
      fc.property(secretArb, transcriptArb, (secret, t) => {
        for (const role of ['dialer', 'listener'] as const) {
          const proof = linkProof(secret, t, role)
          expect(proof).toHaveLength(32)
          expect(() => verifyLinkProof(secret, t, role, proof)).not.toThrow()
          expect(() => verifyLinkProof(secret, t, role, proof.subarray(0, 31))).toThrow(LinkProofError)
        }
      }),
      { numRuns: 200 }
    )
  })

  it('a proof made with another secret, for another peer pair, other nonces or the other role fails (property)', () => {
    fc.assert(
      fc.property(secretArb, secretArb, transcriptArb, (secret, other, t) => {
        fc.pre(t.dialerPeerId !== t.listenerPeerId && !Buffer.from(t.dialerNonce).equals(t.listenerNonce))
        const proof = linkProof(secret, t, 'dialer')
        if (!Buffer.from(secret).equals(other)) expect(() => verifyLinkProof(other, t, 'dialer', proof)).toThrow(LinkProofError)
        // replayed to the other side as its own proof: a reflection
        expect(() => verifyLinkProof(secret, t, 'listener', proof)).toThrow(LinkProofError)
        for (const [, replayed] of variants(t)) expect(() => verifyLinkProof(secret, replayed, 'dialer', proof)).toThrow(LinkProofError)
      }),
      { numRuns: 200 }
    )
  })

  it('the transcript is the protocol id, both peer ids in a fixed order and both nonces, length-prefixed so no two sessions share one', () => {
    const t = session()
    const bytes = Buffer.from(transcriptBytes(t))
    expect(bytes.includes(Buffer.from('/tandem/link/1.0.0'))).toBe(true)
    expect(bytes.indexOf(Buffer.from(EXISTING))).toBeLessThan(bytes.indexOf(Buffer.from(t.listenerPeerId)))
    // moving a byte between the two peer ids changes the encoding, not just the concatenation
    const shifted = { ...t, dialerPeerId: `${t.dialerPeerId}x`, listenerPeerId: t.listenerPeerId.slice(1) }
    expect(Buffer.from(transcriptBytes(shifted)).equals(bytes)).toBe(false)
    expect(() => transcriptBytes({ ...t, dialerNonce: new Uint8Array(31) })).toThrow(/dialerNonce: expected 32 bytes/)
  })
})

describe('confirmation code', () => {
  it('is six digits, the same on both sides, and changes when anything in the transcript or the secret does (property)', () => {
    fc.assert(
      fc.property(secretArb, transcriptArb, (secret, t) => {
        fc.pre(t.dialerPeerId !== t.listenerPeerId && !Buffer.from(t.dialerNonce).equals(t.listenerNonce))
        const shown = confirmationCode(secret, t)
        expect(shown).toMatch(/^\d{6}$/)
        // the other screen computes it from its own copy of the same values
        const copy = { ...t, dialerNonce: t.dialerNonce.slice(), listenerNonce: t.listenerNonce.slice() }
        expect(confirmationCode(secret.slice(), copy)).toBe(shown)
        // 1 in a million of these could collide by chance; 6 × 200 runs would not see one
        for (const [what, other] of variants(t)) expect(confirmationCode(secret, other), what).not.toBe(shown)
        const otherSecret = Uint8Array.from(secret, (x, i) => (i === 15 ? x ^ 0x80 : x))
        expect(confirmationCode(otherSecret, t)).not.toBe(shown)
      }),
      { numRuns: 200 }
    )
  })

  it('has a fixed derivation (vectors computed apart, with Python’s hmac and hashlib), so two builds always agree', () => {
    const secret = new Uint8Array(16).fill(0x5a)
    expect(Buffer.from(linkProof(secret, session(), 'dialer')).toString('hex')).toBe('145f75cc9c04fe2f45803e1f1762f6166f4ee66a2d425a78143e99f0263a1888')
    expect(Buffer.from(linkProof(secret, session(), 'listener')).toString('hex')).toBe('a5f6a311b086f8702b45d922fbce25a9d864ed3724f1af00771af7132d271c93')
    expect(confirmationCode(secret, session())).toBe('651834')
  })

  it('spreads evenly over the six digits', () => {
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 2000; i++) {
      const code = confirmationCode(new Uint8Array(16).fill(i & 0xff), session({ dialerNonce: new Uint8Array(32).fill(i >> 8) }))
      for (const d of code) counts[Number(d)]++
    }
    // 12 000 digits: 1 200 each expected; ±200 is over five standard deviations
    for (const c of counts) expect(Math.abs(c - 1200)).toBeLessThan(200)
  })
})

describe('the code on the new device (single use)', () => {
  it('the first dialer that proves the secret claims the code and gets the listener’s proof and the confirmation code', () => {
    const holder = new LinkCodeHolder(typicalCode(), () => NOW)
    expect(holder.state).toBe('open')
    const t = session()
    const claim = holder.claim(t, linkProof(typicalCode().secret, t, 'dialer'))
    expect(() => verifyLinkProof(typicalCode().secret, t, 'listener', claim.listenerProof)).not.toThrow()
    expect(claim.confirmation).toBe(confirmationCode(typicalCode().secret, t))
    expect(holder.state).toBe('claimed')
    expect(holder.claimedBy).toBe(EXISTING)
  })

  it('a second use fails, with a valid proof, from another device or the same one, even in a fresh session', () => {
    const code = typicalCode()
    const holder = new LinkCodeHolder(code, () => NOW)
    holder.claim(session(), linkProof(code.secret, session(), 'dialer'))
    for (const again of [session(), session({ dialerNonce: new Uint8Array(32).fill(9) }), session({ dialerPeerId: STRANGER })]) {
      expect(() => holder.claim(again, linkProof(code.secret, again, 'dialer'))).toThrow(LinkCodeUsedError)
    }
    expect(holder.claimedBy).toBe(EXISTING)
  })

  it('a wrong secret or a replayed proof claims nothing: the code stays open for the device that has it', () => {
    const code = typicalCode()
    const holder = new LinkCodeHolder(code, () => NOW)
    const t = session()
    const wrongSecret = new Uint8Array(16).fill(0x5b)
    expect(() => holder.claim(t, linkProof(wrongSecret, t, 'dialer'))).toThrow(LinkProofError)
    // a proof seen in another session (other nonces), replayed
    const earlier = session({ listenerNonce: new Uint8Array(32).fill(7) })
    expect(() => holder.claim(t, linkProof(code.secret, earlier, 'dialer'))).toThrow(LinkProofError)
    expect(() => holder.claim(t, new Uint8Array(0))).toThrow(LinkProofError)
    expect(holder.state).toBe('open')
    expect(() => holder.claim(t, linkProof(code.secret, t, 'dialer'))).not.toThrow()
  })

  it('expires on the device’s own clock, with no tolerance, and a withdrawn code can never be claimed', () => {
    const code = typicalCode()
    let now = code.expiresAt - 1
    const holder = new LinkCodeHolder(code, () => now)
    expect(holder.state).toBe('open')
    now = code.expiresAt
    expect(holder.state).toBe('expired')
    const t = session()
    expect(() => holder.claim(t, linkProof(code.secret, t, 'dialer'))).toThrow(LinkCodeExpiredError)

    const other = new LinkCodeHolder(code, () => NOW)
    other.withdraw()
    expect(other.state).toBe('withdrawn')
    expect(other.code.secret.every(b => b === 0)).toBe(true)
    expect(code.secret.every(b => b === 0x5a)).toBe(true) // the caller's copy is untouched
    expect(() => other.claim(t, linkProof(code.secret, t, 'dialer'))).toThrow(/withdrawn/)
  })

  it('refuses a session that is not with the device the code names', () => {
    const holder = new LinkCodeHolder(typicalCode(), () => NOW)
    const t = session({ listenerPeerId: STRANGER })
    expect(() => holder.claim(t, linkProof(typicalCode().secret, t, 'dialer'))).toThrow(LinkProofError)
    expect(holder.state).toBe('open')
  })
})
