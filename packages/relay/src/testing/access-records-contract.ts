// The AccessRecords contract as cases any runner can call; see history-contract.ts. The
// records are real signed ones: a store must hand back what was signed, bit for bit.
import { encodeChain, encodeSignedMembership, headOfLinks, verifyChain, verifyMembership, type ChainHead, type ChainLink, type SignedMembership } from '@tandem/protocol'
import { patternBytes } from '@tandem/storage/testing'
import type { AccessRecords } from '../access/access-records.js'
import { check, rejects, runCases, same, sameBytes, withBackend, type ContractResult } from './checks.js'
import { TestAccount, type TestBytes } from './test-chain.js'

/** A new, empty, open store. */
export type OpenAccessRecords = () => Promise<AccessRecords>
/** Closes `records` (or kills them, for a crash test) and opens their data again: a restarted relay. */
export type ReopenAccessRecords = (records: AccessRecords) => Promise<AccessRecords>

export interface AccessRecordsContractCase {
  name: string
  run(open: OpenAccessRecords, reopen: ReopenAccessRecords): Promise<void>
}

/** Key material from a fixed pattern: the cases need no randomness, and each account's differs. */
function patternSource(seed: number): TestBytes {
  let n = seed * 1000
  return size => patternBytes(size, ++n)
}

/** Two accounts (alice's with three devices and five links, bob's with its genesis). */
function accounts(): { alice: TestAccount; bob: TestAccount } {
  const alice = new TestAccount(patternSource(1))
  const [a2, a3] = [alice.device('a2'), alice.device('a3')]
  alice.add(alice.first, a2)
  alice.add(a2, a3)
  alice.revoke(a3, a2)
  alice.extend(alice.first, [{ type: 'rename-device', peerId: a3.peerId, name: 'a3, renamed' }])
  return { alice, bob: new TestAccount(patternSource(2)) }
}

const head = (links: readonly ChainLink[], n: number): ChainHead | null => headOfLinks(links.slice(0, n))

/** Equal as signed (the encoding carries every signature), still a valid chain of the account. */
function sameChain(actual: ChainLink[] | null, expected: readonly ChainLink[], accountId: string, what: string): void {
  if (actual === null) throw new Error(`${what}: null, expected ${expected.length} links`)
  same(actual.length, expected.length, `${what}: links`)
  sameBytes(encodeChain(actual), encodeChain(expected), what)
  verifyChain(actual, { accountId })
}

function sameMembership(actual: SignedMembership | null, expected: SignedMembership, what: string): void {
  if (actual === null) throw new Error(`${what}: null, expected version ${expected.version}`)
  let bytes: Uint8Array
  try {
    bytes = encodeSignedMembership(actual)
  } catch (err) {
    throw new Error(`${what}: not a membership record (${err instanceof Error ? err.message : String(err)})`)
  }
  sameBytes(bytes, encodeSignedMembership(expected), what)
  verifyMembership(actual)
}

function withRecords(
  open: OpenAccessRecords,
  reopen: ReopenAccessRecords,
  body: (s: { readonly records: AccessRecords; reopen(): Promise<AccessRecords> }) => Promise<void>
): Promise<void> {
  return withBackend(open, reopen, s =>
    body({
      get records() {
        return s.current
      },
      reopen: s.reopen
    })
  )
}

export const accessRecordsContractCases: readonly AccessRecordsContractCase[] = [
  {
    name: 'a record never stored reads as null',
    run: (open, reopen) =>
      withRecords(open, reopen, async ({ records }) => {
        const { alice } = accounts()
        same(await records.chain(alice.id), null, 'the chain of an account never seen')
        same(await records.membership('chat:never'), null, 'the membership of a doc never seen')
        same(await records.deviceActivity(alice.id), [], 'the device activity of an account never seen')
      })
  },
  {
    name: "a chain grows only on the head an append expects, reads back as signed, and each account's is its own",
    run: (open, reopen) =>
      withRecords(open, reopen, async ({ records }) => {
        const { alice, bob } = accounts()
        const links = alice.links
        check(await records.appendLinks(alice.id, links.slice(0, 1), null), 'a genesis on no chain: refused')
        sameChain(await records.chain(alice.id), links.slice(0, 1), alice.id, "alice's chain, her genesis")
        same(await records.chain(bob.id), null, "bob's chain while only alice's is stored")
        check(await records.appendLinks(alice.id, links.slice(1, 3), head(links, 1)), 'links 2 and 3 on link 1: refused')
        // the head moved: the same expectation again, or none, or a head it never had, stores nothing
        check(!(await records.appendLinks(alice.id, links.slice(3, 4), head(links, 1))), 'link 4 expecting the head at link 1: stored')
        check(!(await records.appendLinks(alice.id, links.slice(0, 1), null)), 'a genesis expecting no chain: stored over a chain')
        check(!(await records.appendLinks(alice.id, links.slice(3, 4), head(bob.links, 1))), "link 4 expecting bob's head: stored")
        check(!(await records.appendLinks(bob.id, bob.links, head(links, 3))), "bob's genesis expecting alice's head: stored")
        sameChain(await records.chain(alice.id), links.slice(0, 3), alice.id, "alice's chain after refused appends")
        same(await records.chain(bob.id), null, "bob's chain after a refused append")
        // ids that extend one another are other accounts
        check(await records.appendLinks(`${alice.id}!`, bob.links, null), "a chain under alice's id + '!': refused")
        check(await records.appendLinks(`${alice.id}x`, bob.links, null), "a chain under alice's id + 'x': refused")
        check(await records.appendLinks(alice.id, links.slice(3), head(links, 3)), 'links 4 and 5 on link 3: refused')
        check(await records.appendLinks(bob.id, bob.links, null), "bob's genesis: refused")
        sameChain(await records.chain(alice.id), links, alice.id, "alice's whole chain")
        sameChain(await records.chain(bob.id), bob.links, bob.id, "bob's chain")
        sameChain(await records.chain(`${alice.id}!`), bob.links, bob.id, "the chain under alice's id + '!'")
      })
  },
  {
    name: 'of appends racing on one head, exactly one lands, also after a restart',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        // two relay processes (or two offers) took the same head: the compare-and-set picks one
        const { alice } = accounts()
        check(await session.records.appendLinks(alice.id, alice.links.slice(0, 2), null), 'links 1 and 2: refused')
        const on = head(alice.links, 2)
        // link 3 and four siblings of it (each signed on link 2), one of them with a link 4 after it
        const onTwo = verifyChain(alice.links.slice(0, 2))
        const forks = [0, 1, 2, 3].map(i => [alice.propose(alice.first, [{ type: 'rename-device', peerId: alice.first.peerId, name: `fork ${i}` }], onTwo)])
        const offers = [alice.links.slice(2, 4), ...forks]
        const results = await Promise.all(offers.map(links => session.records.appendLinks(alice.id, links, on)))
        same(results.filter(r => r).length, 1, `appends that landed of ${results.length} on one head (${JSON.stringify(results)})`)
        const winner = offers[results.indexOf(true)]!
        sameChain(await session.records.chain(alice.id), [...alice.links.slice(0, 2), ...winner], alice.id, 'the chain after the race')
        const records = await session.reopen()
        sameChain(await records.chain(alice.id), [...alice.links.slice(0, 2), ...winner], alice.id, 'the chain after the race and a restart')
      })
  },
  {
    name: 'what an append, a put resolved for is there after a restart',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        const { alice, bob } = accounts()
        const m = bob.membership(bob.first, 'chat:kept', 1, [alice, bob])
        const seen = [
          { peerId: alice.first.peerId, lastSeenAt: 1_700_000_000_000 },
          { peerId: 'peer-2', lastSeenAt: 0 }
        ]
        check(await session.records.appendLinks(alice.id, alice.links.slice(0, 2), null), 'links 1 and 2: refused')
        check(await session.records.appendLinks(alice.id, alice.links.slice(2, 3), head(alice.links, 2)), 'link 3: refused')
        await session.records.putMembership(m)
        await session.records.putDeviceActivity(alice.id, seen)
        const records = await session.reopen()
        sameChain(await records.chain(alice.id), alice.links.slice(0, 3), alice.id, 'the chain after a restart')
        sameMembership(await records.membership('chat:kept'), m, 'the membership after a restart')
        same(await records.deviceActivity(alice.id), seen, 'the device activity after a restart')
        // and the chain goes on from the head it had
        check(await records.appendLinks(alice.id, alice.links.slice(3), head(alice.links, 3)), 'links 4 and 5 after a restart: refused')
        sameChain(await records.chain(alice.id), alice.links, alice.id, 'the chain grown after a restart')
      })
  },
  {
    name: 'the record that removed an account is kept for it, the newest per chat, across a restart; an account no record dropped has none',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        const { alice, bob } = accounts()
        const v1 = bob.membership(bob.first, 'chat:gone', 1, [alice, bob])
        const v2 = bob.membership(bob.first, 'chat:gone', 2, [bob])
        await session.records.putMembership(v1)
        same((await session.records.removalsOf(alice.id)).length, 0, 'removals of an account no record dropped')
        await session.records.putMembership(v2, [alice.id])
        const records = await session.reopen()
        const removals = await records.removalsOf(alice.id)
        same(removals.length, 1, 'removals of the dropped account after a restart')
        sameMembership(removals[0]!, v2, 'the record that removed it')
        same((await records.removalsOf(bob.id)).length, 0, 'removals of the account that stayed')
      })
  },
  {
    name: 'an append cut short by a crash leaves a valid chain: the one before it or a longer one, never one with a gap',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        const { alice } = accounts()
        check(await session.records.appendLinks(alice.id, alice.links.slice(0, 1), null), 'the genesis: refused')
        // not awaited: a crashing store loses it (or part of it), a closing one stores it all
        void session.records.appendLinks(alice.id, alice.links.slice(1), head(alice.links, 1)).catch(() => {})
        const records = await session.reopen()
        const chain = await records.chain(alice.id)
        if (chain === null) throw new Error('the chain after a crash mid-append: null, expected at least the genesis')
        sameChain(chain, alice.links.slice(0, chain.length), alice.id, `the chain after a crash mid-append (${chain.length} links)`)
        // whatever survived, the chain takes the rest on its head
        check(await records.appendLinks(alice.id, alice.links.slice(chain.length), head(chain, chain.length)), 'the rest on the surviving head: refused')
        sameChain(await records.chain(alice.id), alice.links, alice.id, 'the chain completed after the crash')
      })
  },
  {
    name: 'memberships are per doc, even when one doc id extends another, and apart from device activity under the same id',
    run: (open, reopen) =>
      withRecords(open, reopen, async ({ records }) => {
        const { alice, bob } = accounts()
        const docs = ['chat:a', 'chat:a!x', 'chat:a!', 'chat:ab']
        const stored = docs.map((docId, i) => alice.membership(alice.first, docId, i + 1, i % 2 === 0 ? [alice] : [alice, bob]))
        await Promise.all(stored.map(m => records.putMembership(m)))
        for (const [i, docId] of docs.entries()) sameMembership(await records.membership(docId), stored[i]!, `the membership of ${docId}`)
        same(await records.membership('chat:a!y'), null, 'the membership of chat:a!y, never stored')
        // the kinds never share a record, whatever the ids
        await records.putDeviceActivity('chat:a', [{ peerId: 'peer-1', lastSeenAt: 5 }])
        sameMembership(await records.membership('chat:a'), stored[0]!, 'the membership of chat:a after device activity stored under its id')
        same(await records.deviceActivity('chat:a'), [{ peerId: 'peer-1', lastSeenAt: 5 }], 'the device activity stored under chat:a')
        await records.putMembership(alice.membership(alice.first, alice.id, 1, [alice]))
        same(await records.chain(alice.id), null, "alice's chain after a membership stored under her id")
        same(await records.deviceActivity(alice.id), [], "alice's device activity after a membership stored under her id")
      })
  },
  {
    name: 'membershipsNaming lists the docs whose current record names the account: a later record that drops it takes the doc out, also after a restart',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        const { alice, bob } = accounts()
        await session.records.putMembership(alice.membership(alice.first, 'chat:both', 1, [alice, bob]))
        await session.records.putMembership(alice.membership(alice.first, 'chat:alone', 1, [alice]))
        await session.records.putMembership(bob.membership(bob.first, 'chat:dropped', 1, [alice, bob]))
        same([...(await session.records.membershipsNaming(bob.id))].sort(), ['chat:both', 'chat:dropped'], 'the docs naming bob')
        same([...(await session.records.membershipsNaming(alice.id))].sort(), ['chat:alone', 'chat:both', 'chat:dropped'], 'the docs naming alice')
        await session.records.putMembership(alice.membership(alice.first, 'chat:dropped', 2, [alice]))
        same(await session.records.membershipsNaming(bob.id), ['chat:both'], 'the docs naming bob once a record dropped him')
        const records = await session.reopen()
        same(await records.membershipsNaming(bob.id), ['chat:both'], 'the docs naming bob after a restart')
        same(await records.membershipsNaming('a'.padEnd(33, 'q')), [], 'the docs naming an account no record names')
      })
  },
  {
    name: 'puts of one record apply in the order they were made: the last one made is the one read back, also after a restart',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        // AccessControl offers newer records without waiting for the older one's put: the store must not reorder them
        const { alice } = accounts()
        const memberships = [1, 2, 3].map(v => alice.membership(alice.first, 'chat:order', v, [alice]))
        const activity = [1, 2, 3, 4].map(v => [{ peerId: alice.first.peerId, lastSeenAt: v }])
        await Promise.all([...memberships.map(m => session.records.putMembership(m)), ...activity.map(a => session.records.putDeviceActivity(alice.id, a))])
        sameMembership(await session.records.membership('chat:order'), memberships[2]!, 'the membership after three racing puts')
        same(await session.records.deviceActivity(alice.id), activity[3], 'the device activity after four racing puts')
        const records = await session.reopen()
        sameMembership(await records.membership('chat:order'), memberships[2]!, 'the membership after a restart')
        same(await records.deviceActivity(alice.id), activity[3], 'the device activity after a restart')
      })
  },
  {
    name: 'every put and append made before close() is stored when it resolves, and the store takes none after it',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        const { alice, bob } = accounts()
        const membership = alice.membership(alice.first, 'chat:closing', 1, [alice, bob])
        const writes = Promise.all([session.records.appendLinks(alice.id, alice.links, null), session.records.putMembership(membership)])
        await session.records.close() // the writes are not awaited first
        const [appended] = await writes
        check(appended, 'an append made before close(): refused')
        await rejects(session.records.putMembership(bob.membership(bob.first, 'chat:late', 1, [bob])), 'a put after close()')
        await rejects(session.records.appendLinks(bob.id, bob.links, null), 'an append after close()')
        const records = await session.reopen()
        sameChain(await records.chain(alice.id), alice.links, alice.id, 'a chain appended just before close()')
        sameMembership(await records.membership('chat:closing'), membership, 'a membership put just before close()')
        same(await records.membership('chat:late'), null, 'the membership put after close()')
        same(await records.chain(bob.id), null, 'the chain appended after close()')
      })
  }
]

/** Runs every case in turn; never throws: each result says whether its case passed. */
export function runAccessRecordsContract(open: OpenAccessRecords, reopen: ReopenAccessRecords): Promise<ContractResult[]> {
  return runCases(accessRecordsContractCases, open, reopen)
}
