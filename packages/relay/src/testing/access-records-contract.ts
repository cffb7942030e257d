// The AccessRecords contract as cases any runner can call; see history-contract.ts. The
// records are real signed ones: a store must hand back what was signed, bit for bit.
import {
  accountIdFromPublicKey,
  encodeSignedDeviceList,
  encodeSignedMembership,
  generateAccountKey,
  signDeviceList,
  signMembership,
  verifyDeviceList,
  verifyMembership,
  type AccountKeyPair,
  type SignedDeviceList,
  type SignedMembership
} from '@tandem/protocol'
import { patternBytes } from '@tandem/storage/testing'
import type { AccessRecords } from '../access/access-records.js'
import { rejects, runCases, same, sameBytes, withBackend, type ContractResult } from './checks.js'

/** A new, empty, open store. */
export type OpenAccessRecords = () => Promise<AccessRecords>
/** Closes `records` (or kills them, for a crash test) and opens their data again: a restarted relay. */
export type ReopenAccessRecords = (records: AccessRecords) => Promise<AccessRecords>

export interface AccessRecordsContractCase {
  name: string
  run(open: OpenAccessRecords, reopen: ReopenAccessRecords): Promise<void>
}

/** An account that signs records (keys from a fixed seed: the cases need no randomness). */
class Signer {
  readonly key: AccountKeyPair
  readonly id: string
  constructor(seed: number) {
    this.key = generateAccountKey(n => patternBytes(n, seed))
    this.id = accountIdFromPublicKey(this.key.publicKey)
  }
  list(version: number, devices: string[], revoked: string[] = []): SignedDeviceList {
    return signDeviceList(this.key, { version, devices: devices.map(peerId => ({ peerId, name: `device ${peerId}`, createdAt: 1 })), revoked, issuedAt: 1000 + version })
  }
  membership(docId: string, version: number, members: Signer[]): SignedMembership {
    return signMembership(this.key, { docId, version, members: members.map(m => m.id), issuedAt: 1000 + version })
  }
}

/** Equal as signed (the encoding carries the signature) and still verifying. */
function sameList(actual: SignedDeviceList | null, expected: SignedDeviceList, what: string): void {
  if (actual === null) throw new Error(`${what}: null, expected version ${expected.version}`)
  sameBytes(encodeSignedDeviceList(actual), encodeSignedDeviceList(expected), what)
  verifyDeviceList(actual)
}

function sameMembership(actual: SignedMembership | null, expected: SignedMembership, what: string): void {
  if (actual === null) throw new Error(`${what}: null, expected version ${expected.version}`)
  sameBytes(encodeSignedMembership(actual), encodeSignedMembership(expected), what)
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
        const alice = new Signer(1)
        same(await records.deviceList(alice.id), null, 'the device list of an account never seen')
        same(await records.membership('chat:never'), null, 'the membership of a doc never seen')
      })
  },
  {
    name: "a device list reads back as it was signed, the newest put replaces it, and each account's is its own",
    run: (open, reopen) =>
      withRecords(open, reopen, async ({ records }) => {
        const [alice, bob] = [new Signer(1), new Signer(2)]
        const v1 = alice.list(1, ['peer-a1'])
        await records.putDeviceList(alice.id, v1)
        sameList(await records.deviceList(alice.id), v1, "alice's list, version 1")
        same(await records.deviceList(bob.id), null, "bob's list while only alice's is stored")
        const v2 = alice.list(2, ['peer-a1', 'peer-a2'])
        const b1 = bob.list(1, ['peer-b1'])
        await Promise.all([records.putDeviceList(alice.id, v2), records.putDeviceList(bob.id, b1)])
        sameList(await records.deviceList(alice.id), v2, "alice's list, version 2")
        sameList(await records.deviceList(bob.id), b1, "bob's list")
      })
  },
  {
    name: 'memberships are per doc, even when one doc id extends another, and apart from device lists under the same id',
    run: (open, reopen) =>
      withRecords(open, reopen, async ({ records }) => {
        const [alice, bob] = [new Signer(1), new Signer(2)]
        const docs = ['chat:a', 'chat:a!x', 'chat:a!', 'chat:ab']
        const stored = docs.map((docId, i) => alice.membership(docId, i + 1, i % 2 === 0 ? [alice] : [alice, bob]))
        await Promise.all(stored.map(m => records.putMembership(m)))
        for (const [i, docId] of docs.entries()) sameMembership(await records.membership(docId), stored[i]!, `the membership of ${docId}`)
        same(await records.membership('chat:a!y'), null, 'the membership of chat:a!y, never stored')
        // the two kinds never share a record, whatever the ids
        const idLikeADoc = alice.membership(alice.id, 1, [alice])
        await records.putMembership(idLikeADoc)
        same(await records.deviceList(alice.id), null, "alice's device list after a membership stored under her id")
        const list = alice.list(1, ['peer-a1'])
        await records.putDeviceList('chat:a', list)
        sameMembership(await records.membership('chat:a'), stored[0]!, 'the membership of chat:a after a device list stored under its id')
        sameList(await records.deviceList('chat:a'), list, 'the device list stored under chat:a')
      })
  },
  {
    name: 'puts of one record apply in the order they were made: the last one made is the one read back, also after a restart',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        // AccessControl offers newer records without waiting for the older one's put: the store must not reorder them
        const alice = new Signer(1)
        const lists = [1, 2, 3, 4].map(v => alice.list(v, [`peer-${v}`]))
        const memberships = [1, 2, 3].map(v => alice.membership('chat:order', v, [alice]))
        await Promise.all([...lists.map(l => session.records.putDeviceList(alice.id, l)), ...memberships.map(m => session.records.putMembership(m))])
        sameList(await session.records.deviceList(alice.id), lists[3]!, 'the device list after four racing puts')
        sameMembership(await session.records.membership('chat:order'), memberships[2]!, 'the membership after three racing puts')
        const records = await session.reopen()
        sameList(await records.deviceList(alice.id), lists[3]!, 'the device list after a restart')
        sameMembership(await records.membership('chat:order'), memberships[2]!, 'the membership after a restart')
      })
  },
  {
    name: 'every put made before close() is stored when it resolves, and the store takes no put after it',
    run: (open, reopen) =>
      withRecords(open, reopen, async session => {
        const [alice, bob] = [new Signer(1), new Signer(2)]
        const list = alice.list(1, ['peer-a1'])
        const membership = alice.membership('chat:closing', 1, [alice, bob])
        const puts = Promise.all([session.records.putDeviceList(alice.id, list), session.records.putMembership(membership)])
        await session.records.close() // the puts are not awaited first
        await puts
        await rejects(session.records.putDeviceList(bob.id, bob.list(1, ['peer-b1'])), 'a put after close()')
        const records = await session.reopen()
        sameList(await records.deviceList(alice.id), list, 'a device list put just before close()')
        sameMembership(await records.membership('chat:closing'), membership, 'a membership put just before close()')
        same(await records.deviceList(bob.id), null, 'the device list put after close()')
      })
  }
]

/** Runs every case in turn; never throws: each result says whether its case passed. */
export function runAccessRecordsContract(open: OpenAccessRecords, reopen: ReopenAccessRecords): Promise<ContractResult[]> {
  return runCases(accessRecordsContractCases, open, reopen)
}
