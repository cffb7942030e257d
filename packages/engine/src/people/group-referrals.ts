import { chatDocId, parseDocId } from '@tandem/protocol'
import type * as Y from 'yjs'
import { peerAddress } from '../net/addresses.js'
import type { PeopleHost, SharedChats } from './shared-chats.js'

/** The map of a 1:1 chat's doc that says where groups its members share live: group chat id → relay address. */
const REFERRALS = 'referrals'

/**
 * Where a group lives, told to a member whose devices may not reach that relay (people on
 * different relays): only the group's relay tells an account of a record naming it
 * (`member-of`), and an account's devices reach only their own relays and their chats'. So the
 * device that makes a group, or adds members to one, also writes the group's relay into its
 * 1:1 chat with each new member (sealed with that chat, on a relay both reach); the member's
 * devices record it in their account doc's `chat-relays`, reach that relay, and hear the
 * group's record there, checked as any.
 */
export class GroupReferrals {
  constructor(
    private readonly host: PeopleHost,
    private readonly shared: SharedChats
  ) {}

  /** Writes into the 1:1 chat with each of `accounts` (those it has one with) that group `chatId` lives on its relay. */
  async refer(chatId: string, accounts: readonly string[]): Promise<void> {
    const relay = this.shared.chatRelay(chatId)
    if (relay === null) return
    const people = this.shared.peopleDoc()
    for (const account of accounts) {
      const direct = people.contact(account)?.chatId ?? ''
      if (direct === '' || this.shared.membership(chatDocId(direct)) === null) continue
      const doc = await this.host.docs.open(chatDocId(direct))
      doc.transact(() => {
        doc.getMap<string>(REFERRALS).set(chatId, relay)
      }, this.host.local)
    }
  }

  /** A chat doc opened: a 1:1 chat's referrals are followed into this account's chat relays, from now on. */
  opened(docId: string, doc: Y.Doc): void {
    const ref = parseDocId(docId)
    if (ref?.kind !== 'chat') return
    const referrals = doc.getMap<unknown>(REFERRALS)
    const follow = (): void => {
      if (this.shared.membership(docId)?.members.length !== 2) return
      const people = this.shared.peopleDoc()
      const fresh = [...referrals.entries()].filter(([groupId, relay]) => typeof relay === 'string' && people.chatRelay(groupId) === null && isRelayAddress(relay))
      if (fresh.length === 0) return
      const account = this.host.accountDoc()
      account.doc.transact(() => {
        for (const [groupId, relay] of fresh) people.putChatRelay(groupId, relay as string)
      }, this.host.local)
    }
    referrals.observe(follow)
    follow()
  }
}

function isRelayAddress(address: string): boolean {
  try {
    peerAddress(address, 'relay')
    return true
  } catch {
    return false
  }
}
