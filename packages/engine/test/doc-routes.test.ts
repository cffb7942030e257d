import { accountDocId, chatDocId, segmentDocId } from '@tandem/protocol'
import { expect, it } from 'vitest'
import { DocRoutes } from '../src/replication/doc-routes.js'

// Which relays a doc goes to (issue 16, people on different relays): the account's own docs
// to its home relays, a shared chat's docs to the one relay it lives on and no other.

const routes = new DocRoutes(
  () => ['home-1', 'home-2'],
  chatId => ({ shared: 'relay-a', 'shared-at-home': 'home-2' })[chatId] ?? null
)

it("sends the account doc and the account's own chats to its home relays", () => {
  expect(routes.relaysOf(accountDocId('acct'))).toEqual(['home-1', 'home-2'])
  expect(routes.relaysOf(chatDocId('notes'))).toEqual(['home-1', 'home-2'])
  expect(routes.relaysOf(segmentDocId('notes', 3))).toEqual(['home-1', 'home-2'])
})

it("sends a shared chat's doc and its segments to the chat's relay alone, a home relay only when it is that one", () => {
  expect(routes.relaysOf(chatDocId('shared'))).toEqual(['relay-a'])
  expect(routes.relaysOf(segmentDocId('shared', 2))).toEqual(['relay-a'])
  expect(routes.routes('home-1', segmentDocId('shared', 2))).toBe(false)
  expect(routes.relaysOf(chatDocId('shared-at-home'))).toEqual(['home-2'])
  expect(routes.routes('home-1', chatDocId('shared-at-home'))).toBe(false)
})
