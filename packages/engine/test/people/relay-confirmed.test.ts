import { signingKeyFromSeed, signMembership } from '@tandem/protocol'
import { expect, it } from 'vitest'
import { RelayConfirmed } from '../../src/people/relay-confirmed.js'

// A device checks each record a relay says it holds (its signer's chain may be read from the relay
// first), and two such checks run side by side: the older record's may end last. The relay's record
// only moves on, so what the device takes as the relay's never goes back a version (simulator seed
// 20261204 --people: a device kept the chat's writes back for good under the record the relay held).

const key = signingKeyFromSeed(new Uint8Array(32).fill(9))
const record = (version: number, issuedAt = version) => signMembership({ accountId: 'alice', key }, { docId: 'chat:c0ffee', version, members: ['alice', 'bob'], issuedAt })

it('takes the newest record a relay names, and a check of an older one that ends after it does not take it back', () => {
  const confirmed = new RelayConfirmed()
  const [v4, v5] = [record(4), record(5)]
  expect(confirmed.confirm('c0ffee', v5)).toBe(true)
  expect(confirmed.confirm('c0ffee', v4)).toBe(false)
  expect(confirmed.has('c0ffee', v5)).toBe(true)
  expect(confirmed.has('c0ffee', v4)).toBe(false)
  expect(confirmed.confirm('c0ffee', v5)).toBe(false)
})

it('takes a record of the same version that the relay names instead (two members changed the chat at once, the relay kept the other)', () => {
  const confirmed = new RelayConfirmed()
  const [mine, theirs] = [record(3, 1), record(3, 2)]
  expect(confirmed.confirm('c0ffee', mine)).toBe(true)
  expect(confirmed.confirm('c0ffee', theirs)).toBe(true)
  expect(confirmed.has('c0ffee', theirs)).toBe(true)
  expect(confirmed.winnerOver('c0ffee', mine)).toEqual(theirs)
})
