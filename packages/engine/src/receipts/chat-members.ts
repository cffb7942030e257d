import { chatDocId, type SignedMembership } from '@tandem/protocol'

/**
 * The member accounts of a chat: what statuses per recipient and unread counts are read
 * against. A chat between accounts has them in its signed membership record; a chat of one
 * account (notes to self, its devices) has that account alone.
 */
export type ChatMembers = (chatId: string) => readonly string[]

/** The members of `chatId` from its membership record, or this account alone when it has none. */
export function chatMembersOf(accountId: () => string | null, membership: (docId: string) => SignedMembership | null): ChatMembers {
  return chatId => {
    const record = membership(chatDocId(chatId))
    if (record !== null) return record.members
    const own = accountId()
    return own === null ? [] : [own]
  }
}
