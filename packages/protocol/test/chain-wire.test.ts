import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeChainLink, headOf, headOfLinks, linkHash, MAX_LINK_RUN_BYTES, MAX_LINKS_PER_FRAME, sameHead, splitLinks } from '../src/index.js'
import { expectSameValue } from './helpers.js'
import { largestLink, REAL_CHAIN_LENGTH, realChain } from './wire-chains.js'

describe('chain heads', () => {
  it('headOf a state and headOfLinks of its links name the same link', () => {
    const { links, states } = realChain()
    for (const i of [0, 1, REAL_CHAIN_LENGTH - 1]) {
      const head = headOf(states[i]!)
      expect(head.version).toBe(i + 1)
      expect(head.hash).toEqual(linkHash(links[i]!))
      expect(sameHead(headOfLinks(links.slice(0, i + 1)), head)).toBe(true)
    }
    expect(headOfLinks([])).toBeNull()
  })

  it('linkHash names the bytes of a link: the same link gives the same hash each time, a copy with another signature another one, and the caller may keep what it got', () => {
    const { links } = realChain()
    const link = links[5]!
    const first = linkHash(link)
    first.fill(0) // (the caller's copy: what linkHash remembers is its own)
    const again = linkHash(link)
    expect(again).toEqual(linkHash({ ...link }))
    expect(again).not.toEqual(first)
    const resigned = { ...link, signature: link.signature.slice() }
    resigned.signature[0]! ^= 1
    expect(linkHash(resigned)).not.toEqual(again)
  })

  it('sameHead: same version and hash; null is never the same as anything', () => {
    const { states } = realChain()
    const a = headOf(states[3]!)
    expect(sameHead(a, { version: a.version, hash: a.hash.slice() })).toBe(true)
    expect(sameHead(a, { version: a.version + 1, hash: a.hash })).toBe(false)
    expect(sameHead(a, headOf(states[4]!))).toBe(false)
    expect(sameHead(a, { version: a.version, hash: headOf(states[4]!).hash })).toBe(false)
    expect(sameHead(a, null)).toBe(false)
    expect(sameHead(null, a)).toBe(false)
    expect(sameHead(null, null)).toBe(false)
  })
})

describe('splitLinks (property)', () => {
  it('cuts links, in order, into the fewest greedy runs of at most MAX_LINKS_PER_FRAME links and MAX_LINK_RUN_BYTES', () => {
    const pool = () => [...realChain().links, largestLink()]
    const arb = fc.array(fc.nat({ max: REAL_CHAIN_LENGTH }), { maxLength: 200 })
    fc.assert(
      fc.property(arb, picks => {
        const links = picks.map(i => pool()[i]!)
        const runs = splitLinks(links)
        expectSameValue(runs.flat(), links)
        const size = (run: typeof links) => run.reduce((n, l) => n + encodeChainLink(l).length, 0)
        runs.forEach((run, i) => {
          expect(run.length).toBeGreaterThan(0)
          expect(run.length).toBeLessThanOrEqual(MAX_LINKS_PER_FRAME)
          expect(size(run)).toBeLessThanOrEqual(MAX_LINK_RUN_BYTES)
          const next = runs[i + 1]
          // Greedy: the next run starts only where this one could not take its first link.
          if (next !== undefined) expect(run.length === MAX_LINKS_PER_FRAME || size(run) + encodeChainLink(next[0]!).length > MAX_LINK_RUN_BYTES).toBe(true)
        })
      }),
      { numRuns: 100 }
    )
  })
})
