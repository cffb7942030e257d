import { signingKeyFromSeed, signMembership, type SignedMembership } from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PeopleDoc } from '../../src/model/people-doc.js'
import type { ChatKeyRing } from '../../src/people/chat-key-ring.js'
import { ChatWriters } from '../../src/people/chat-writers.js'

const key = signingKeyFromSeed(new Uint8Array(32).fill(7))
const record = (version: number, members: string[]) => signMembership({ accountId: 'alice', key }, { docId: 'chat:c0ffee', version, members, issuedAt: version })

function rig() {
  const people = new PeopleDoc(new Y.Doc())
  let newest: SignedMembership | null = null
  const keys = { record: () => newest } as unknown as ChatKeyRing
  const writers = new ChatWriters(keys, () => people)
  const hold = (r: SignedMembership, isNewest = true): void => {
    people.putMembership('c0ffee', r)
    if (isNewest) newest = r
    writers.recordsChanged()
  }
  return { writers, hold }
}

describe('ChatWriters: who may have written a shared chat', () => {
  it('answers the members now and those of every record held, and answers anew once a record comes, older ones too', () => {
    const r = rig()
    r.hold(record(1, ['alice', 'bob', 'carol']))
    r.hold(record(3, ['alice', 'bob']))
    expect([...r.writers.writers('c0ffee', 0)].sort()).toEqual(['alice', 'bob', 'carol'])
    // a version between them comes later (another device stored it): its member wrote too
    r.hold(record(2, ['alice', 'bob', 'carol', 'erin']), false)
    expect([...r.writers.writers('c0ffee', 0)].sort()).toEqual(['alice', 'bob', 'carol', 'erin'])
  })
})
