import { type ChatKeyRecipient, chatDocId, isAccountId } from '@tandem/protocol'
import { InvalidArgumentError } from '../errors.js'
import type { ChatEntry } from '../model/account-doc.js'
import type { GroupReferrals } from './group-referrals.js'
import type { ChatMember, PeopleHost, SharedChats } from './shared-chats.js'

/**
 * Groups (issue 16): made with members, members added (any member; the same epoch key sealed to
 * them too, so they read the history) and removed (a new epoch sealed only to those who stay),
 * renamed for every member. Each change is a new version of the chat's signed membership
 * record, made by SharedChats.
 */
export class Groups {
  constructor(
    private readonly host: PeopleHost,
    private readonly shared: SharedChats,
    /** Tells new members where the group lives, through their 1:1 chats (their devices may not reach its relay). */
    private readonly referrals: GroupReferrals
  ) {}

  /** A group of this account and `members` (account ids; each one's chain is read from the relay for its account key). */
  async createGroup(init: { title: string; members: string[] }): Promise<ChatEntry> {
    if (typeof init?.title !== 'string' || init.title.length > 256) throw new InvalidArgumentError('a group title is a string of at most 256 characters')
    const others = await this.recipients(this.checkAccounts(init.members, 'members'))
    const entry = await this.shared.openChat(others, init.title, init.title)
    await this.referrals.refer(entry.chatId, init.members)
    return entry
  }

  /** Renames a shared chat for every member: its doc's title, which each member's devices copy into their chat list. */
  async renameChat(chatId: string, title: string): Promise<void> {
    if (typeof title !== 'string' || title.length === 0 || title.length > 256) throw new InvalidArgumentError('a chat title is a non-empty string of at most 256 characters')
    this.shared.ownRecord(chatId)
    const doc = await this.host.docs.open(chatDocId(chatId))
    doc.transact(() => {
      doc.getMap('meta').set('title', title)
    }, this.host.local)
    await this.host.docs.committed(doc)
  }

  /** Adds accounts to a shared chat: a new record version, the same epoch key sealed to them too (they read the history). */
  async addMembers(chatId: string, accountIds: string[]): Promise<string[]> {
    const record = this.shared.ownRecord(chatId)
    const fresh = this.checkAccounts(accountIds, 'accountIds').filter(a => !record.members.includes(a))
    if (fresh.length === 0) return record.members
    const added = await this.recipients(fresh)
    const keys = this.shared.keys.keys(chatId)!
    const recipients = [...this.shared.currentRecipients(record), ...added]
    await this.shared.sign(chatId, record, recipients, keys.length, keys.at(-1)!, keys.slice(0, -1))
    await this.referrals.refer(chatId, fresh)
    return recipients.map(r => r.account)
  }

  /** Removes an account from a shared chat: a new record version and a new epoch, sealed only to the accounts that stay. */
  async removeMember(chatId: string, accountId: string): Promise<string[]> {
    const record = this.shared.ownRecord(chatId)
    if (typeof accountId !== 'string' || !record.members.includes(accountId)) throw new InvalidArgumentError(`${String(accountId)} is not a member of chat ${chatId}`)
    if (accountId === this.host.accountId()) throw new InvalidArgumentError('an account cannot remove itself: another member removes it')
    const keys = this.shared.keys.keys(chatId)!
    const recipients = this.shared.currentRecipients(record).filter(r => r.account !== accountId)
    await this.shared.sign(chatId, record, recipients, keys.length + 1, this.host.runtime.randomBytes(32), keys)
    return recipients.map(r => r.account)
  }

  listMembers(chatId: string): ChatMember[] {
    const record = this.shared.sharedRecord(chatId)
    const me = this.host.accountId()
    const people = this.shared.peopleDoc()
    return record.members.map(accountId => ({ accountId, self: accountId === me, name: people.contact(accountId)?.name ?? '' }))
  }

  private checkAccounts(ids: unknown, what: string): string[] {
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every(isAccountId)) throw new InvalidArgumentError(`${what} must be a non-empty array of account ids`)
    if (ids.includes(this.host.accountId())) throw new InvalidArgumentError(`${what} names this account itself`)
    return [...new Set(ids)]
  }

  /** Each account's newest account key, from its chain as a relay holds it (verified here). */
  private async recipients(accountIds: readonly string[]): Promise<ChatKeyRecipient[]> {
    const out: ChatKeyRecipient[] = []
    for (const account of accountIds) {
      // (read where their invite said they are, when they came by one: a home relay may never have seen them)
      const relay = this.shared.peopleDoc().contact(account)?.relay ?? ''
      await this.host.chains.fetch(account, relay === '' ? null : relay)
      const latest = this.host.chains.latestAccountKey(account)
      if (latest === null) throw new InvalidArgumentError(`account ${account} has no account key on its chain: it cannot be in a chat between accounts`)
      out.push({ account, generation: latest.generation, accountKey: latest.accountKey })
    }
    return out
  }
}
