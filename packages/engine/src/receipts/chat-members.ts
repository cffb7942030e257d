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
   * A message's recipients' accounts with its author: the members of the record version it was
   * written under that are members still (an account added since does not count for it, one
   * removed since no longer does), or null while this device holds no record of that version
   * or after it (its status waits for the record).
   */
  of(chatId: string, m: MessageRecord): readonly string[] | null
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
    of(chatId: string, m: MessageRecord): readonly string[] | null {
      const current = now(chatId)
      if (m.members === undefined) return current
      const then = membersAt(chatId, m.members)
      return then === null ? null : then.filter(a => current.includes(a))
    }
  })
}
