import { encodeSignedMembership, signingKeyFromSeed, signMembership } from '@tandem/protocol'
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { PeopleDoc } from '../../src/model/people-doc.js'

// A new device hears the relay's newest record of a chat before its account doc arrives, and
// stores it; the account's other devices hold every earlier version. After the merge, every
// device holds every version, whichever device's write Yjs orders first (simulator seed 20261138:
// the new device's map of the chat replaced the one holding versions 1 to 3, on every device).

const key = signingKeyFromSeed(new Uint8Array(32).fill(7))
const record = (version: number, members: string[]) => signMembership({ accountId: 'alice', key }, { docId: 'chat:c0ffee', version, members, issuedAt: version })

for (const [oldId, newId] of [
  [1, 2],
  [2, 1]
])
  it(`a record version stored by a new device before its account doc came keeps every earlier version on every device (client ids ${oldId}, ${newId})`, () => {
    const [laptop, fresh] = [new Y.Doc(), new Y.Doc()]
    laptop.clientID = oldId
    fresh.clientID = newId
    const [held, added] = [new PeopleDoc(laptop), new PeopleDoc(fresh)]
    held.putMembership('c0ffee', record(1, ['alice', 'bob']))
    held.putMembership('c0ffee', record(2, ['alice', 'bob', 'carol']))
    held.putMembership('c0ffee', record(3, ['alice', 'bob']))
    added.putMembership('c0ffee', record(3, ['alice', 'bob']))
    Y.applyUpdate(fresh, Y.encodeStateAsUpdate(laptop))
    Y.applyUpdate(laptop, Y.encodeStateAsUpdate(fresh))
    for (const d of [held, added]) {
      expect(
        d
          .allMemberships('c0ffee')
          .map(r => r.version)
          .sort()
      ).toEqual([1, 2, 3])
      expect(d.membership('c0ffee')?.version).toBe(3)
      expect(d.sharedChatIds()).toEqual(['c0ffee'])
    }
  })

it('records an account doc holds in the per-chat map of before are read beside the per-version ones', () => {
  const doc = new Y.Doc()
  const legacy = new Y.Map<Uint8Array>()
  const older = new Y.Map<Uint8Array>()
  doc.getMap('memberships').set('c0ffee', legacy)
  doc.getMap('memberships').set('decade', older)
  legacy.set('1', encodeSignedMembership(record(1, ['alice', 'bob'])))
  older.set('1', encodeSignedMembership(record(1, ['alice', 'carol'])))
  const people = new PeopleDoc(doc)
  people.putMembership('c0ffee', record(2, ['alice', 'bob', 'carol']))
  // a version held already is not written again
  people.putMembership('c0ffee', record(1, ['alice', 'dave']))
  expect(people.allMemberships('c0ffee').map(r => [r.version, r.members.length])).toEqual([
    [1, 2],
    [2, 3]
  ])
  expect(people.membership('c0ffee')?.version).toBe(2)
  expect(people.membership('decade')?.members).toEqual(['alice', 'carol'])
  expect(people.sharedChatIds().sort()).toEqual(['c0ffee', 'decade'])
  expect([...doc.getMap('membership-records').keys()]).toEqual(['c0ffee:2'])
})
