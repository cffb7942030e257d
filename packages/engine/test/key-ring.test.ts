import {
  acceptLink,
  BadSignatureError,
  encodeKeyGeneration,
  InvalidDeviceListError,
  KEY_GENERATION_EXTENSION,
  type KeyGeneration,
  keyGenerationOf,
  keyIdOf,
  nobleSignatures,
  openSealed,
  proposeLink,
  RECOVERY_AGREEMENT_EXTENSION,
  recoveryAgreementOf,
  seal,
  signLinkBody,
  UnknownEpochError
} from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import type { KeyRing } from '../src/keys/key-ring.js'
import { device, hex, random, recoveryKeys, ringOf, TestAccount, type TestDevice } from './key-fixtures.js'

const DOC = 'account:test'

const encode = (g: KeyGeneration): Uint8Array => encodeKeyGeneration(g).data

/** Every generation's doc key a ring holds (null where it holds none), 1…latest. */
const docKeys = (ring: KeyRing, doc = DOC): (string | null)[] => Array.from({ length: ring.latest }, (_, i) => hex(ring.docKey(i + 1, doc)))

async function sealBy(author: TestDevice, ring: KeyRing, epoch: number, text: string): Promise<Uint8Array> {
  const key = ring.docKey(epoch, DOC)
  if (key === null) throw new Error(`the author holds no key of epoch ${epoch}`)
  return seal(
    'blob',
    { docId: DOC, epoch, author: author.signing.publicKey, authorSeed: author.signing.secretKey, key, nonce: random(24), plaintext: new TextEncoder().encode(text) },
    nobleSignatures
  )
}

const openWith = (ring: KeyRing, bytes: Uint8Array) =>
  openSealed('blob', DOC, bytes, { keyFor: epoch => ring.docKey(epoch, DOC), standing: (author, epoch) => ring.standing(author, epoch) }, nobleSignatures)

describe('key ring', () => {
  it('a genesis seals generation 1 to its first device and the recovery key, and names the recovery X25519 key', () => {
    const [d1] = [device(1)]
    const account = new TestAccount(d1)
    const genesis = account.links[0]!
    const g = keyGenerationOf(genesis)!
    expect(g).toMatchObject({ generation: 1, starts: true, previous: null })
    expect(g.boxes.map(b => hex(b.recipient))).toEqual([hex(d1.agreement.publicKey), hex(account.recovery!.agreement.publicKey)])
    expect(hex(recoveryAgreementOf(genesis))).toBe(hex(account.recovery!.agreement.publicKey))
    for (const ring of [account.ring(d1.agreement), account.ring(account.recovery!.agreement)]) {
      expect(ring.latest).toBe(1)
      expect(ring.missing()).toEqual([])
      expect(ring.writeEpoch()).toBe(1)
    }
    // the key it opens is the one the link names
    const k1 = account.ring(d1.agreement).docKey(1, DOC)
    expect(k1).toHaveLength(32)
    expect(account.ring(device(9).agreement).missing()).toEqual([1])
    expect(account.ring(device(9).agreement).writeEpoch()).toBeNull()
    // an account made without a phrase seals to its device alone
    const bare = new TestAccount(device(2), null)
    expect(keyGenerationOf(bare.links[0]!)!.boxes).toHaveLength(1)
    expect(recoveryAgreementOf(bare.links[0]!)).toBeNull()
  })

  it('a revoking link starts a generation the revoked device cannot open; the remaining devices and the recovery key can', async () => {
    const [d1, d2, d3] = [device(1), device(2), device(3)]
    const account = new TestAccount(d1)
    const rec = account.recovery!
    const ring1 = account.ring(d1.agreement)
    const added = account.propose(d1.signer, ring1, [
      { type: 'add-device', device: d2.device },
      { type: 'add-device', device: d3.device }
    ])
    // adding devices starts nothing: it seals the current generation to the new devices only
    expect(keyGenerationOf(added)).toMatchObject({ generation: 1, starts: false, previous: null })
    expect(
      keyGenerationOf(added)!
        .boxes.map(b => hex(b.recipient))
        .sort()
    ).toEqual([hex(d2.agreement.publicKey), hex(d3.agreement.publicKey)].sort())
    const ring2 = account.ring(d2.agreement)
    const ring3 = account.ring(d3.agreement)
    const changes: number[] = []
    ring2.onChange(() => changes.push(ring2.latest))
    expect(docKeys(ring3)).toEqual(docKeys(ring1))

    const revoking = account.propose(d1.signer, ring1, [{ type: 'revoke-device', peerId: d3.peerId }])
    const g2 = keyGenerationOf(revoking)!
    expect(g2).toMatchObject({ generation: 2, starts: true })
    expect(g2.previous).toHaveLength(72)
    expect(g2.boxes.map(b => hex(b.recipient)).sort()).toEqual(
      [d1, d2]
        .map(d => hex(d.agreement.publicKey))
        .concat(hex(rec.agreement.publicKey))
        .sort()
    )

    for (const ring of [ring1, ring2, ring3]) ring.update(account.links, () => true)
    const recovery = account.ring(rec.agreement)
    expect(ring3.missing()).toEqual([2])
    expect(ring3.docKey(2, DOC)).toBeNull()
    expect(ring3.writeEpoch()).toBe(1)
    for (const ring of [ring1, ring2, recovery]) {
      expect(ring.missing()).toEqual([])
      expect(ring.writeEpoch()).toBe(2)
      expect(docKeys(ring)).toEqual(docKeys(ring1))
    }
    expect(changes).toEqual([2]) // ring2 came to hold generation 2
    expect(docKeys(ring1)[1]).not.toBe(docKeys(ring1)[0])

    // who could write when: the revoked device up to generation 1, never in 2; strangers never
    expect(ring2.standing(d3.signing.publicKey, 1)).toBe('listed')
    expect(ring2.standing(d3.signing.publicKey, 2)).toBe('revoked')
    expect(ring2.standing(d1.signing.publicKey, 2)).toBe('listed')
    expect(ring2.standing(device(9).signing.publicKey, 1)).toBe('unknown')

    // and so, sealed blobs: what d1 writes now, d3 cannot open; what d3 wrote before its revocation still opens
    const now = await sealBy(d1, ring1, 2, 'after the revocation')
    expect(new TextDecoder().decode((await openWith(ring2, now)).plaintext)).toBe('after the revocation')
    expect(new TextDecoder().decode((await openWith(recovery, now)).plaintext)).toBe('after the revocation')
    await expect(openWith(ring3, now)).rejects.toBeInstanceOf(UnknownEpochError)
    const before = await sealBy(d3, ring3, 1, 'before it')
    expect(new TextDecoder().decode((await openWith(ring2, before)).plaintext)).toBe('before it')
    // were the revoked device to hold generation 2's key, what it seals there is still refused
    const forged = await sealBy(d3, ring1, 2, 'after it')
    await expect(openWith(ring2, forged)).rejects.toBeInstanceOf(BadSignatureError)
  })

  it('a device added after three rotations opens every older generation through the wrapped chain', () => {
    const [d1, d2, d3, d4, d5] = [1, 2, 3, 4, 5].map(device) as [TestDevice, TestDevice, TestDevice, TestDevice, TestDevice]
    const account = new TestAccount(d1)
    const recA = account.recovery!
    const recB = recoveryKeys(2)
    const ring1 = account.ring(d1.agreement)
    account.propose(
      d1.signer,
      ring1,
      [2, 3, 4].map(i => ({ type: 'add-device' as const, device: device(i).device }))
    )
    // rotation 1: a revocation
    account.propose(d1.signer, ring1, [{ type: 'revoke-device', peerId: d2.peerId }])
    // rotation 2: a new recovery key (the device that sets it knows its X25519 key: it derived both from the new phrase)
    ring1.noteRecovery(recB.signing.publicKey, recB.agreement.publicKey)
    const newRecovery = account.propose(d1.signer, ring1, [{ type: 'set-recovery-key', recoveryKey: recB.signing.publicKey }])
    expect(newRecovery.extensions.map(x => x.type)).toEqual([KEY_GENERATION_EXTENSION, RECOVERY_AGREEMENT_EXTENSION])
    expect(hex(recoveryAgreementOf(newRecovery))).toBe(hex(recB.agreement.publicKey))
    expect(keyGenerationOf(newRecovery)!.boxes.map(b => hex(b.recipient))).toContain(hex(recB.agreement.publicKey))
    expect(keyGenerationOf(newRecovery)!.boxes.map(b => hex(b.recipient))).not.toContain(hex(recA.agreement.publicKey))
    // rotation 3: another revocation
    account.propose(d4.signer, account.ring(d4.agreement), [{ type: 'revoke-device', peerId: d3.peerId }])
    expect(account.ring(d1.agreement).latest).toBe(4)

    const adding = account.propose(d1.signer, ring1, [{ type: 'add-device', device: d5.device }])
    const g = keyGenerationOf(adding)!
    expect(g).toMatchObject({ generation: 4, starts: false, previous: null })
    expect(g.boxes.map(b => hex(b.recipient))).toEqual([hex(d5.agreement.publicKey)])

    const ring5 = account.ring(d5.agreement)
    expect(ring5.latest).toBe(4)
    expect(ring5.missing()).toEqual([])
    expect(ring5.writeEpoch()).toBe(4)
    const all = docKeys(account.ring(d1.agreement))
    expect(new Set(all).size).toBe(4)
    expect(docKeys(ring5)).toEqual(all)
    expect(docKeys(ring5, 'chat:other')).toEqual(docKeys(account.ring(d4.agreement), 'chat:other'))
    // the new recovery key opens everything too; the replaced one only what was sealed while it was current
    expect(docKeys(account.ring(recB.agreement))).toEqual(all)
    expect(account.ring(recA.agreement).missing()).toEqual([3, 4])
    // the revoked devices hold what they held
    expect(account.ring(d2.agreement).missing()).toEqual([2, 3, 4])
    expect(account.ring(d3.agreement).missing()).toEqual([4]) // still listed when the recovery key changed
  })

  it('writeEpoch() only moves to a generation whose start link is settled (the genesis always is)', () => {
    const [d1, d2] = [device(1), device(2)]
    const account = new TestAccount(d1)
    const ring1 = account.ring(d1.agreement)
    const ring = ringOf(d1.agreement)
    ring.update(account.links, () => false)
    expect(ring.writeEpoch()).toBe(1) // the genesis cannot lose a fork
    account.propose(d1.signer, ring1, [{ type: 'add-device', device: d2.device }])
    account.propose(d1.signer, ring1, [{ type: 'revoke-device', peerId: d2.peerId }])
    const start = account.links.length - 1
    ring.update(account.links, i => i < start)
    expect(ring.latest).toBe(2)
    expect(ring.missing()).toEqual([]) // it holds the key (it can read what others wrote)…
    expect(ring.docKey(2, DOC)).not.toBeNull()
    expect(ring.writeEpoch()).toBe(1) // …but writes in it only once the link cannot be undone
    // a later link settled does not settle the start of the generation
    account.propose(d1.signer, ring1, [{ type: 'rename-device', peerId: d1.peerId, name: 'renamed' }])
    ring.update(account.links, i => i !== start)
    expect(ring.writeEpoch()).toBe(1)
    ring.update(account.links, () => true)
    expect(ring.writeEpoch()).toBe(2)
    // the revocation lost a fork after all: the chain without it has no generation 2, and nothing is written in it
    ring.update(account.links.slice(0, start), () => true)
    expect(ring.latest).toBe(1)
    expect(ring.docKey(2, DOC)).toBeNull()
    expect(ring.writeEpoch()).toBe(1)
  })

  it('a device that holds no key of the current generation cannot make a link that needs one (ERR_UNKNOWN_EPOCH)', () => {
    const [d1, d2] = [device(1), device(2)]
    const account = new TestAccount(d1)
    const blind = account.ring(device(9).agreement)
    expect(() =>
      proposeLink(account.state, [{ type: 'add-device', device: d2.device }], d1.signer, { issuedAt: 5, extensions: (head, draft) => blind.extensionsFor(head, draft) })
    ).toThrow(UnknownEpochError)
    // a chain from before key generations: nothing to seal, nothing asked
    const legacy = ringOf(d1.agreement)
    expect(legacy.extensionsFor(account.state, { devices: new Map(), revoked: new Map(), recoveryKey: account.state.recoveryKey })).toEqual([])
  })

  it("problems with a chain's key material are reported, typed, never thrown at the chain", () => {
    const [d1] = [device(1)]
    const account = new TestAccount(d1)
    const head = account.state
    const body = (extensions: { type: number; data: Uint8Array }[]) => ({
      version: 2,
      prev: head.headHash,
      issuedAt: 9,
      recoveryKey: head.recoveryKey,
      devices: head.head.devices,
      revoked: head.head.revoked,
      extensions,
      signer: { kind: 'device' as const, publicKey: d1.signing.publicKey }
    })
    const garbled = signLinkBody(body([{ type: KEY_GENERATION_EXTENSION, data: new Uint8Array([1, 2]) }]), d1.signing)
    const ring = ringOf(d1.agreement)
    const problems = ring.update([account.links[0]!, garbled], () => true)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toBeInstanceOf(InvalidDeviceListError)
    expect(ring.writeEpoch()).toBe(1)
    // a generation that skips one is not taken
    const g1 = keyGenerationOf(account.links[0]!)!
    const skipping = signLinkBody(body([{ type: KEY_GENERATION_EXTENSION, data: encode({ ...g1, generation: 3 }) }]), d1.signing)
    const skipped = ring.update([account.links[0]!, skipping], () => true)
    expect(skipped.map(p => p.code)).toEqual(['ERR_UNKNOWN_EPOCH'])
    expect(ring.latest).toBe(1)
    // boxes moved from another generation (their context names generation 1's key) do not open: ERR_DECRYPT, nothing taken
    const wrongId = signLinkBody(body([{ type: KEY_GENERATION_EXTENSION, data: encode({ ...g1, generation: 2, keyId: keyIdOf(new Uint8Array(32)) }) }]), d1.signing)
    const fresh = ringOf(d1.agreement)
    const mismatch = fresh.update([account.links[0]!, wrongId], () => true)
    expect(mismatch.map(p => p.code)).toEqual(['ERR_DECRYPT'])
    expect(fresh.docKey(2, DOC)).toBeNull()
  })

  // BUG (reported, packages/engine/src/keys/key-ring.ts extensionsFor()): it throws ERR_UNKNOWN_EPOCH before looking at
  // the draft, so a device that lacks the current generation cannot even rename itself, a link that needs no key material.
  // Turn into it() once fixed.
  it('a device that lacks the current generation may still sign a link that needs no key material (a rename)', () => {
    const [d1, d2] = [device(1), device(2)]
    const account = new TestAccount(d1)
    // d2 is listed by a link without key material (as a rebase by a device that lacks the keys signs it)
    const bare = proposeLink(account.state, [{ type: 'add-device', device: d2.device }], d1.signer, { issuedAt: 5 })
    account.state = acceptLink(account.state, bare).state
    account.links.push(bare)
    const ring2 = account.ring(d2.agreement)
    expect(ring2.missing()).toEqual([1])
    const rename = proposeLink(account.state, [{ type: 'rename-device', peerId: d2.peerId, name: 'my phone' }], d2.signer, {
      issuedAt: 6,
      extensions: (head, draft) => ring2.extensionsFor(head, draft)
    })
    expect(rename.extensions).toEqual([])
  })

  // BUG (reported, packages/engine/src/keys/key-ring.ts update()/extensionsFor()): the ring keeps the recovery X25519 key of the
  // last link that carried extension 2, even after a link replaced the recovery key without one (a rebase after a restart,
  // another build). The next rotation then seals K_g to the replaced recovery key. Turn into it() once fixed.
  it('a recovery key replaced without its X25519 key is not sealed to again', () => {
    const [d1, d2] = [device(1), device(2)]
    const account = new TestAccount(d1)
    const recA = account.recovery!
    const ring1 = account.ring(d1.agreement)
    account.propose(d1.signer, ring1, [{ type: 'add-device', device: d2.device }])
    // the recovery key is replaced (the phrase was lost); this ring was never told the new key's X25519 half
    account.propose(d1.signer, ring1, [{ type: 'set-recovery-key', recoveryKey: recoveryKeys(2).signing.publicKey }])
    account.propose(d1.signer, ring1, [{ type: 'revoke-device', peerId: d2.peerId }])
    const latest = keyGenerationOf(account.links.at(-1)!)!
    expect(latest.boxes.map(b => hex(b.recipient))).not.toContain(hex(recA.agreement.publicKey))
    expect(account.ring(recA.agreement).missing()).toContain(3)
  })
})
