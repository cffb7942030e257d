/**
 * The member accounts of a chat. Today a chat has one member account, this one (its
 * devices); the membership of invites and groups replaces this accessor, and everything
 * that reads it (statuses per recipient, unread counts) works for several accounts as is.
 */
export type ChatMembers = (chatId: string) => readonly string[]

export function ownAccountOnly(accountId: () => string | null): ChatMembers {
  return () => {
    const own = accountId()
    return own === null ? [] : [own]
  }
}
