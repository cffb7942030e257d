import { chatDocId, type SignedMembership } from '@tandem/protocol'
import type { MessageRecord } from '../model/message.js'

/**
 * The member accounts of a chat: what statuses per recipient and unread counts are read
 * against. A chat between accounts has them in its signed membership record; a chat of one
 * account (notes to self, its devices) has that account alone.
 */
export interface ChatMembers {
  /** The members now. */
  (chatId: string): readonly string[]
  /**
   * Who a message was written to, from the record version it was written under (an account
   * added since does not count for it), or null while this device holds no record of that
   * version or after it (its status waits for the record).
   */
  of(chatId: string, m: MessageRecord): MessageMembers | null
}

/** The members of the version a message was written under, split by whether they are members still. */
export interface MessageMembers {
  /** Members then and now (its author among them): the recipients its status waits for. */
  members: readonly string[]
  /**
   * Members then, removed since: their watermarks no longer move (the relay refuses their
   * writes), but what they had when they left stays theirs (see receiptsOf).
   */
  removed: readonly string[]
}

/** The members of `chatId` from its membership records, or this account alone when it has none. */
export function chatMembersOf(
  accountId: () => string | null,
  membership: (docId: string) => SignedMembership | null,
  /** Who the members were at a record version, as the chat doc says (see MemberHistory). */
  membersAt: (chatId: string, version: number) => readonly string[] | null
): ChatMembers {
  const now = (chatId: string): readonly string[] => {
    const record = membership(chatDocId(chatId))
    if (record !== null) return record.members
    const own = accountId()
    return own === null ? [] : [own]
  }
  return Object.assign(now, {
    of(chatId: string, m: MessageRecord): MessageMembers | null {
      const current = now(chatId)
      if (m.members === undefined) return { members: current, removed: [] }
      const then = membersAt(chatId, m.members)
      if (then === null) return null
      return { members: then.filter(a => current.includes(a)), removed: then.filter(a => !current.includes(a)) }
    }
  })
}
