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

for (const [oldId, newId] of [
  [1, 2],
  [2, 1]
])
  it(`a contact added by a new device before its account doc came keeps what the other devices knew of it (client ids ${oldId}, ${newId})`, () => {
    const [laptop, fresh] = [new Y.Doc(), new Y.Doc()]
    laptop.clientID = oldId
    fresh.clientID = newId
    const [held, added] = [new PeopleDoc(laptop), new PeopleDoc(fresh)]
    held.putContact({ accountId: 'bob', name: 'Bob', relay: '/dns4/relay.example/tcp/443/wss', addedAt: 5, chatId: 'c0ffee' })
    // (the new device heard of the 1:1 chat from the relay: it knows the account and the chat, not the name)
    added.putContact({ accountId: 'bob', name: '', relay: '', addedAt: 9, chatId: 'c0ffee' })
    Y.applyUpdate(fresh, Y.encodeStateAsUpdate(laptop))
    Y.applyUpdate(laptop, Y.encodeStateAsUpdate(fresh))
    for (const d of [held, added]) {
      expect(d.contact('bob')).toMatchObject({ name: 'Bob', relay: '/dns4/relay.example/tcp/443/wss', chatId: 'c0ffee' })
      expect(d.listContacts().map(c => c.accountId)).toEqual(['bob'])
    }
    expect(held.contact('bob')).toEqual(added.contact('bob'))
  })

it('contacts an account doc holds in the per-contact maps of before are read, and filled in where they lack a field', () => {
  const doc = new Y.Doc()
  const legacy = new Y.Map<unknown>()
  doc.getMap('contacts').set('carol', legacy)
  legacy.set('name', '')
  legacy.set('relay', '')
  legacy.set('addedAt', 3)
  legacy.set('chatId', 'decade')
  const people = new PeopleDoc(doc)
  expect(people.contact('carol')).toEqual({ accountId: 'carol', name: '', relay: '', addedAt: 3, chatId: 'decade' })
  people.putContact({ accountId: 'carol', name: 'Carol', relay: '', addedAt: 7, chatId: 'other' })
  expect(people.contact('carol')).toEqual({ accountId: 'carol', name: 'Carol', relay: '', addedAt: 3, chatId: 'decade' })
  expect(people.contact('dave')).toBeNull()
})
