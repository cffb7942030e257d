import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  InvalidCredentialsError,
  InvalidMembershipError,
  MAX_ACCOUNT_ID_BYTES,
  MAX_DOC_ID_BYTES,
  MAX_MEMBERS,
  StaleMembershipError,
  TandemError,
  UnsupportedVersionError,
  MEMBERSHIP_FORMAT_VERSION,
  checkMembershipSuccessor,
  decodeSignedMembership,
  encodeSignedMembership,
  isAccountId,
  signMembership,
  verifyMembership,
  type SignedMembership
} from '../src/index.js'
import { boundedString, distinctAscii, membershipArb, smallMembershipArb } from './arbitraries.js'
import { dev, genesisOf } from './chain-fixtures.js'
import { equalBytes, expectSameValue, mutate, mutationArb } from './helpers.js'

/** Accounts founded by devices 1…4 (real account ids: hashes of their genesis links), each signing with its founding device. */
const signers = [1, 2, 3, 4].map(i => ({ accountId: genesisOf(i).state.accountId, key: dev(i).key }))
type Signer = (typeof signers)[0]
const ids = signers.map(s => s.accountId)
const [alice, bob, carol] = signers as [Signer, Signer, Signer]
const [aliceId, bobId, carolId] = ids as [string, string, string]
const docId = 'chat:0123456789abcdef01234567'

describe('membership encoding (property)', () => {
  it('decode(encode(record)) equals record, every bound included', () => {
    fc.assert(
      fc.property(membershipArb, record => {
        expectSameValue(decodeSignedMembership(encodeSignedMembership(record)), record)
      }),
      { numRuns: 300 }
    )
  })

  it('arbitrary, mutated or truncated bytes: a record that re-encodes to the same bytes, or a TandemError', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(smallMembershipArb, fc.array(mutationArb([MAX_MEMBERS, MAX_ACCOUNT_ID_BYTES, MAX_DOC_ID_BYTES, 2 ** 30]), { minLength: 1, maxLength: 3 }))
        .map(([record, ms]) => ms.reduce(mutate, encodeSignedMembership(record)))
    )
    fc.assert(
      fc.property(arb, bytes => {
        let record: SignedMembership
        try {
          record = decodeSignedMembership(bytes)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        if (!equalBytes(encodeSignedMembership(record), bytes)) throw new Error('accepted bytes are not canonical')
      }),
      { numRuns: 2000 }
    )
  })

  it('bounds, duplicates, version 0 and unknown format versions are refused', () => {
    const record = signMembership(alice, { docId, version: 1, members: [aliceId, bobId], issuedAt: 5 })
    const bad = (r: SignedMembership) => {
      expect(() => encodeSignedMembership(r)).toThrow(InvalidMembershipError)
      expect(() => verifyMembership(r)).toThrow(InvalidMembershipError)
    }
    bad({ ...record, members: distinctAscii(MAX_MEMBERS + 1, 8, 0) })
    bad({ ...record, members: [aliceId, aliceId] })
    bad({ ...record, members: ['m'.repeat(MAX_ACCOUNT_ID_BYTES + 1)] })
    bad({ ...record, docId: 'd'.repeat(MAX_DOC_ID_BYTES + 1) })
    bad({ ...record, version: 0 })
    bad({ ...record, issuedAt: -1 })
    bad({ ...record, members: 'x' as unknown as string[] })
    bad({ ...record, signerKey: record.signerKey.subarray(1) })
    bad({ ...record, signerAccount: 'a'.repeat(MAX_ACCOUNT_ID_BYTES + 1) })
    bad({ ...record, signerAccount: 7 as unknown as string })
    expect(MEMBERSHIP_FORMAT_VERSION).toBe(2)
    for (const format of [1, 4]) {
      const other = encodeSignedMembership(record)
      other[0] = format
      expect(() => decodeSignedMembership(other)).toThrow(UnsupportedVersionError)
    }
  })

  it('the largest record is 66 870 bytes (35 095 with real 33-character account ids)', () => {
    const record = signMembership(alice, { docId, version: 1, members: [aliceId], issuedAt: 0 })
    const full = { ...record, docId: 'd'.repeat(MAX_DOC_ID_BYTES), version: Number.MAX_SAFE_INTEGER, issuedAt: Number.MAX_SAFE_INTEGER }
    const longest = { ...full, members: distinctAscii(MAX_MEMBERS, MAX_ACCOUNT_ID_BYTES, 0), signerAccount: 's'.repeat(MAX_ACCOUNT_ID_BYTES) }
    const real = { ...full, members: distinctAscii(MAX_MEMBERS, aliceId.length, 0) }
    expect([encodeSignedMembership(longest).length, encodeSignedMembership(real).length]).toEqual([66_870, 35_095])
    expectSameValue(decodeSignedMembership(encodeSignedMembership(longest)), longest)
  })
})

describe('membership signatures', () => {
  it('a signed record verifies and names its signer; tampering with any field does not verify (property)', () => {
    const recordArb = fc.record({
      signer: fc.nat({ max: 3 }),
      docId: boundedString(MAX_DOC_ID_BYTES),
      version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      others: fc.subarray(ids),
      issuedAt: fc.maxSafeNat()
    })
    const tamperArb = fc.oneof(
      fc.record({ field: fc.constant('signature' as const), bit: fc.nat({ max: 511 }) }),
      fc.record({ field: fc.constant('signerKey' as const), bit: fc.nat({ max: 255 }) }),
      fc
        .constantFrom('docId' as const, 'version' as const, 'issuedAt' as const, 'addMember' as const, 'reorder' as const, 'signerAccount' as const)
        .map(field => ({ field, bit: 0 }))
    )
    fc.assert(
      fc.property(recordArb, tamperArb, (r, t) => {
        const members = [...new Set([...r.others, ids[r.signer]!])]
        const record = signMembership(signers[r.signer]!, { docId: r.docId, version: r.version, members, issuedAt: r.issuedAt })
        expect(record.signerAccount).toBe(ids[r.signer])
        expect(equalBytes(record.signerKey, dev(r.signer + 1).key.publicKey)).toBe(true)
        // Verifying the decoded copy covers both: the record verifies, and survives the wire.
        expect(verifyMembership(decodeSignedMembership(encodeSignedMembership(record)))).toBe(ids[r.signer])
        const flip = (bytes: Uint8Array) => {
          const out = bytes.slice()
          out[t.bit >> 3]! ^= 1 << (t.bit & 7)
          return out
        }
        let tampered: SignedMembership
        switch (t.field) {
          case 'signature':
          case 'signerKey':
            tampered = { ...record, [t.field]: flip(record[t.field]) }
            break
          case 'signerAccount': // another member's name on this device's signature
            fc.pre(members.length > 1)
            tampered = { ...record, signerAccount: members.find(m => m !== record.signerAccount)! }
            break
          case 'docId':
            tampered = { ...record, docId: `${record.docId}x` }
            break
          case 'version':
          case 'issuedAt':
            tampered = { ...record, [t.field]: record[t.field] === 1 ? 2 : record[t.field] - 1 }
            break
          case 'addMember':
            tampered = { ...record, members: [...members, 'intruder'] }
            break
          case 'reorder':
            fc.pre(members.length > 1)
            tampered = { ...record, members: [...members.slice(1), members[0]!] }
            break
        }
        expect(() => verifyMembership(tampered)).toThrow(InvalidMembershipError)
      }),
      { numRuns: 100 }
    )
  })

  it('a record whose signer is not among its members is invalid', () => {
    const record = signMembership(alice, { docId, version: 1, members: [bobId, carolId], issuedAt: 0 })
    expect(() => verifyMembership(record)).toThrow(/not among its members/)
  })

  it('any device of a member account may sign; whether it is a current device is the holder of the chain’s check', () => {
    // Device 5 is not in alice's chain: the record still verifies here, naming alice; the relay checks signerKey against alice's chain.
    const record = signMembership({ accountId: aliceId, key: dev(5).key }, { docId, version: 1, members: [aliceId, bobId], issuedAt: 0 })
    expect(verifyMembership(record)).toBe(aliceId)
    expect(equalBytes(record.signerKey, dev(5).key.publicKey)).toBe(true)
    expect(isAccountId(aliceId)).toBe(true)
  })

  it('a mismatched key pair cannot sign', () => {
    const key = { publicKey: bob.key.publicKey, secretKey: alice.key.secretKey }
    expect(() => signMembership({ accountId: aliceId, key }, { docId, version: 1, members: [aliceId], issuedAt: 0 })).toThrow(InvalidCredentialsError)
  })
})

describe('checkMembershipSuccessor', () => {
  const rec = (signer: Signer, version: number, members: string[], doc = docId) => signMembership(signer, { docId: doc, version, members, issuedAt: 0 })

  it('any record follows null; a current member may add and remove members', () => {
    expect(() => checkMembershipSuccessor(null, rec(alice, 1, [aliceId]))).not.toThrow()
    const v1 = rec(alice, 1, [aliceId, bobId])
    const v2 = rec(bob, 2, [bobId, carolId]) // bob removes alice, adds carol
    expect(() => checkMembershipSuccessor(v1, v2)).not.toThrow()
    expect(() => checkMembershipSuccessor(v2, rec(carol, 7, [carolId, aliceId]))).not.toThrow()
  })

  it('a change signed by an account not a member of the previous record is stale', () => {
    const v1 = rec(alice, 1, [aliceId, bobId])
    expect(() => checkMembershipSuccessor(v1, rec(carol, 2, [aliceId, bobId, carolId]))).toThrow(StaleMembershipError)
  })

  it('an equal or older version, or another doc, is stale', () => {
    const v2 = rec(alice, 2, [aliceId])
    expect(() => checkMembershipSuccessor(v2, rec(alice, 2, [aliceId, bobId]))).toThrow(StaleMembershipError)
    expect(() => checkMembershipSuccessor(v2, rec(alice, 1, [aliceId]))).toThrow(StaleMembershipError)
    expect(() => checkMembershipSuccessor(v2, rec(alice, 3, [aliceId], 'chat:other'))).toThrow(StaleMembershipError)
  })

  it('accepts exactly: same doc, greater version, signer a previous member (property)', () => {
    const arb = fc.record({
      signer: fc.nat({ max: 3 }),
      version: fc.integer({ min: 1, max: 4 }),
      members: fc.subarray(ids),
      doc: fc.constantFrom('chat:a', 'chat:b')
    })
    // Signatures play no part in the check, so unsigned records keep this fast.
    const make = (r: { signer: number; version: number; members: string[]; doc: string }): SignedMembership => ({
      docId: r.doc,
      version: r.version,
      members: r.members,
      issuedAt: 0,
      signerAccount: ids[r.signer]!,
      signerKey: signers[r.signer]!.key.publicKey,
      signature: new Uint8Array(64)
    })
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        const ok = a.doc === b.doc && b.version > a.version && a.members.includes(ids[b.signer]!)
        let threw: unknown = null
        try {
          checkMembershipSuccessor(make(a), make(b))
        } catch (e) {
          threw = e
        }
        if (ok) expect(threw).toBeNull()
        else expect(threw).toBeInstanceOf(StaleMembershipError)
      }),
      { numRuns: 500 }
    )
  })
})
