import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  acceptLink,
  ChainForkError,
  type ChainIntent,
  type ChainLink,
  type ChainSigner,
  type ChainState,
  chooseChain,
  DeviceLimitError,
  DeviceNotListedError,
  DeviceRevokedError,
  InvalidDeviceListError,
  intentsOfLink,
  linkHash,
  listChainDevices,
  proposeLink,
  RevokedSignerError,
  rebaseIntents,
  rebaseLink,
  revokedPeerIds,
  TandemError,
  verifyChain,
  verifySuccessor
} from '../src/index.js'
import { asRecovery, dev, genesisOf, hex, nextBody, signAny } from './chain-fixtures.js'

const g = genesisOf(1)
const accountId = g.state.accountId
const add = (i: number): ChainIntent => ({ type: 'add-device', device: dev(i).device })
const revoke = (i: number): ChainIntent => ({ type: 'revoke-device', peerId: dev(i).peerId })
const rename = (i: number, name: string): ChainIntent => ({ type: 'rename-device', peerId: dev(i).peerId, name })
const propose = (head: ChainState, intents: ChainIntent[], signer: ChainSigner, issuedAt = 10_000) => proposeLink(head, intents, signer, { issuedAt })
const step = (head: ChainState, link: ChainLink) => verifySuccessor(head, link)
const hashes = new WeakMap<ChainLink, string>()
/** linkHash as hex, once per link object: the property below compares many. */
const hashOf = (link: ChainLink): string => {
  let h = hashes.get(link)
  if (h === undefined) {
    h = hex(linkHash(link))
    hashes.set(link, h)
  }
  return h
}
const headOf = (links: Iterable<ChainLink>, confirmed: Uint8Array[] = []) => hex(chooseChain(links, { accountId, confirmed }).state.headHash)

/**
 * `make(issuedAt)` signed with growing issuedAt until its hash is below (or above) `other`'s:
 * so a test of a rule that must beat the lower hash really has the lower hash against it.
 */
function grind(make: (issuedAt: number) => ChainLink, other: ChainLink, want: 'lower' | 'higher'): ChainLink {
  const target = hex(linkHash(other))
  for (let t = 20_000; ; t++) {
    const link = make(t)
    if (hex(linkHash(link)) < target === (want === 'lower')) return link
  }
}

// link 2: device 1 adds devices 2, 3 and 4.
const link2 = propose(g.state, [add(2), add(3), add(4)], dev(1).signer)
const s2 = step(g.state, link2)

describe('fork choice', () => {
  // Successors of link 2 made while apart, and links on top of some of them.
  const a = propose(s2, [revoke(2)], dev(1).signer) // device 1 revokes device 2…
  const b = propose(s2, [revoke(1)], dev(2).signer) // …while device 2 revokes device 1
  const c = propose(s2, [rename(4, 'tablet')], dev(3).signer)
  const d = propose(s2, [add(5)], asRecovery())
  const e = propose(s2, [add(6)], dev(4).signer)
  const sa = step(s2, a)
  const sc = step(s2, c)
  const a1 = propose(sa, [add(7)], dev(3).signer)
  const sa1 = step(sa, a1)
  const a2 = propose(sa1, [rename(7, 'seven')], dev(7).signer)
  const b1 = propose(step(s2, b), [add(8)], dev(2).signer)
  const c1 = propose(sc, [revoke(3)], dev(4).signer)
  const c2 = propose(sc, [revoke(4)], dev(3).signer)
  const byRevoked = signAny(nextBody(sa, dev(2).signer), dev(2).key) // device 2 is revoked in a: invalid
  const orphanParent = signAny(nextBody(sa, dev(1).signer, { prev: new Uint8Array(32).fill(7), version: 9 }), dev(1).key) // parent nobody has
  const foreign = genesisOf(9).link
  const pool = [a, b, c, d, e, a1, a2, b1, c1, c2, byRevoked, orphanParent, foreign]

  it('the same set of links gives the same chain in any order, with duplicates, whatever subset is held (property)', () => {
    const scenario = fc.record({
      held: fc.subarray(pool),
      extra: fc.subarray(pool, { maxLength: 3 }),
      confirmed: fc.subarray([a, b, c, d, e, a1, c1], { maxLength: 2 })
    })
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.nat()), ({ held, extra, confirmed }, randoms) => {
        const links = [g.link, link2, ...held]
        const canonical = [...links].sort((x, y) => (hashOf(x) < hashOf(y) ? -1 : 1))
        const shuffled = [...links, ...extra.filter(x => held.includes(x))].map(l => ({ l, k: randoms.next().value })).sort((x, y) => x.k - y.k)
        const confirmedHashes = confirmed.filter(x => held.includes(x)).map(linkHash)
        const one = chooseChain(canonical, { accountId, confirmed: confirmedHashes })
        const other = chooseChain(
          shuffled.map(x => x.l),
          { accountId, confirmed: [...confirmedHashes].reverse() }
        )
        expect(other.chain.map(hashOf)).toEqual(one.chain.map(hashOf))
        expect(other.orphaned.map(hashOf)).toEqual(one.orphaned.map(hashOf))
        // the winner is a valid chain, and every distinct link is in exactly one of the four groups
        expect(hex(verifyChain(one.chain, { accountId }).headHash)).toBe(hex(one.state.headHash))
        const groups = [...one.chain, ...one.orphaned, ...one.rejected.map(r => r.link), ...one.detached].map(hashOf)
        expect(groups.sort()).toEqual([...new Set(links.map(hashOf))].sort())
      }),
      { numRuns: 120 }
    )
  })

  it('sorts what it cannot use: rejected with why, detached when the parent is missing', () => {
    const choice = chooseChain([g.link, link2, a, byRevoked, orphanParent, foreign], { accountId })
    expect(choice.chain).toEqual([g.link, link2, a])
    expect(choice.rejected.map(r => [r.link, r.error.constructor])).toEqual(
      expect.arrayContaining([
        [byRevoked, RevokedSignerError],
        [foreign, expect.anything()]
      ])
    )
    expect(choice.detached).toEqual([orphanParent])
    expect(() => chooseChain([link2, a], { accountId })).toThrow(InvalidDeviceListError)
    expect(() => chooseChain([foreign], { accountId })).toThrow(InvalidDeviceListError)
  })

  it('a revocation beats what the revoked device signed at the same time, even with the higher hash', () => {
    const revokes3 = (t: number) => propose(s2, [revoke(3)], dev(1).signer, t)
    const by3 = propose(s2, [add(9)], dev(3).signer)
    const x = grind(revokes3, by3, 'higher')
    expect(headOf([g.link, link2, by3, x])).toBe(hex(linkHash(x)))
  })

  it('the recovery key beats a device, even with the higher hash', () => {
    const byRecovery = grind(t => propose(s2, [add(9)], asRecovery(), t), e, 'higher')
    expect(headOf([g.link, link2, e, byRecovery])).toBe(hex(linkHash(byRecovery)))
  })

  it('a link a relay confirmed beats the rest, and the lowest hash settles what no rule does', () => {
    const [low, high] = hex(linkHash(c)) < hex(linkHash(e)) ? [c, e] : [e, c]
    expect(headOf([g.link, link2, c, e])).toBe(hex(linkHash(low)))
    expect(headOf([g.link, link2, c, e], [linkHash(high)])).toBe(hex(linkHash(high)))
    expect(headOf([g.link, link2, c, d], [linkHash(c)])).toBe(hex(linkHash(c)))
  })
})

describe('two devices revoking each other converge', () => {
  // apart: device 1 revokes device 2 (x), device 2 revokes device 1 (y)
  const x = propose(s2, [revoke(2)], dev(1).signer)
  const y = propose(s2, [revoke(1)], dev(2).signer)

  function settle(first: ChainLink[], second: ChainLink[], confirmed: Uint8Array[]) {
    const views = [first, second].map(seen => chooseChain([g.link, link2, ...seen], { accountId, confirmed }))
    const [one, two] = views.map(v => hex(v.state.headHash))
    expect(one).toBe(two)
    const winner = views[0]!.state
    // the loser rebases its intent: its signer is revoked in the winner, so it learns that and signs nothing
    const lost = winner.head === x ? { link: y, signer: dev(2).signer } : { link: x, signer: dev(1).signer }
    const outcome = rebaseLink(winner, { parent: s2, link: lost.link }, lost.signer, { issuedAt: 11_000 })
    expect(outcome.link).toBeNull()
    expect(outcome.dropped.map(d => d.reason)).toEqual([expect.any(RevokedSignerError)])
    return winner
  }

  it('without a relay: every device picks the same one, whatever it saw first', () => {
    const winner = settle([x, y], [y, x], [])
    expect(hex(winner.headHash)).toBe([hex(linkHash(x)), hex(linkHash(y))].sort()[0])
    expect(listChainDevices(winner)).toHaveLength(3)
  })

  it('with a relay: the first it accepted wins on every device, even against the lower hash', () => {
    for (const [first, second] of [
      [x, y],
      [y, x]
    ]) {
      const relay = acceptLink(s2, first!).state
      expect(() => acceptLink(relay, second!)).toThrow(ChainForkError)
      const winner = settle([first!, second!], [second!, first!], [linkHash(first!)])
      expect(hex(winner.headHash)).toBe(hex(relay.headHash))
    }
  })
})

describe('a revoked device rewriting history from before its revocation', () => {
  // link 3: device 2 revokes device 3; link 4: device 1 goes on. Later, device 3 (still
  // holding its key) signs its own link 3 on top of link 2, revoking device 2 back.
  const revokes3 = propose(s2, [revoke(3)], dev(2).signer)
  const s3 = step(s2, revokes3)
  const link4 = propose(s3, [rename(1, 'laptop')], dev(1).signer)
  const s4 = step(s3, link4)
  const rewrite = grind(t => propose(s2, [revoke(2)], dev(3).signer, t), revokes3, 'lower')

  it('no relay ever takes it: it only extends its own head', () => {
    expect(() => acceptLink(s4, rewrite)).toThrow(TandemError)
    expect(() => acceptLink(s3, rewrite)).toThrow(ChainForkError)
  })

  it("devices that pass the relay's confirmations never follow it; without them it is a mutual revocation, settled by the hash", () => {
    const links = [g.link, link2, revokes3, link4, rewrite]
    const relayChain = [g.link, link2, revokes3, link4].map(linkHash)
    expect(headOf(links, relayChain)).toBe(hex(s4.headHash))
    expect(headOf(links)).toBe(hex(linkHash(rewrite))) // the documented limit (PROTOCOL.md, Forks)
  })
})

describe('rebase', () => {
  it('two devices that each linked a device while apart both end up listed', () => {
    const x = propose(s2, [add(5)], dev(1).signer)
    const y = propose(s2, [add(6)], dev(2).signer)
    const choice = chooseChain([g.link, link2, x, y], { accountId })
    const [lost, signer] = choice.state.head === x ? [y, dev(2).signer] : [x, dev(1).signer]
    expect(choice.orphaned).toEqual([lost])
    const outcome = rebaseLink(choice.state, { parent: s2, link: lost }, signer, { issuedAt: 12_000 })
    expect(outcome.dropped).toEqual([])
    const after = verifySuccessor(choice.state, outcome.link!)
    expect(
      listChainDevices(after)
        .map(d => d.peerId)
        .sort()
    ).toEqual([1, 2, 3, 4, 5, 6].map(i => dev(i).peerId).sort())
  })

  it('judges each intent on its own: done already, not a device, revoked, over the limit', () => {
    const winner = step(s2, propose(s2, [revoke(3), add(5), rename(4, 'four')], dev(1).signer))
    const intents: ChainIntent[] = [
      add(5),
      rename(4, 'four'),
      revoke(3),
      rename(3, 'three'),
      revoke(9),
      { type: 'revoke-device', peerId: 'nonsense' },
      add(6),
      add(7),
      rename(2, 'two')
    ]
    const outcome = rebaseIntents(winner, intents, dev(2).signer, { issuedAt: 12_000, policy: { maxDevices: 5 } })
    expect(outcome.alreadyDone).toEqual([rename(4, 'four'), revoke(3), add(5)])
    expect(outcome.applied).toEqual([rename(2, 'two'), add(6)])
    const reasons = new Map(outcome.dropped.map(d => [d.intent, d.reason.constructor]))
    expect(reasons.get(intents[3]!)).toBe(DeviceRevokedError)
    expect(reasons.get(intents[4]!)).toBe(DeviceNotListedError)
    expect(reasons.get(intents[5]!)).toBe(DeviceNotListedError)
    expect(reasons.get(intents[7]!)).toBe(DeviceLimitError)
    const after = verifySuccessor(winner, outcome.link!)
    expect(after.devices.size).toBe(5)
    expect(revokedPeerIds(after)).toEqual([dev(3).peerId])
  })

  it('nothing left to do signs nothing; intentsOfLink reads back what a link did', () => {
    const link = propose(s2, [revoke(3), add(5), rename(4, 'four')], dev(1).signer)
    const state = step(s2, link)
    const intents = intentsOfLink(s2, link)
    expect(intents.map(i => i.type).sort()).toEqual(['add-device', 'rename-device', 'revoke-device'])
    const outcome = rebaseIntents(state, intents, dev(2).signer, { issuedAt: 1 })
    expect(outcome.link).toBeNull()
    expect(outcome.alreadyDone).toHaveLength(3)
    for (const dropped of rebaseIntents(state, intents, dev(3).signer, { issuedAt: 1 }).dropped) expect(dropped.reason).toBeInstanceOf(TandemError)
  })
})
