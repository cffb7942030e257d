import type { ChatEntry } from '../model/account-doc.js'
import { AccountFacade } from './account-facade.js'
import type { Contact } from '../model/people-doc.js'
import type { Invites, ShownInvite } from '../people/invites.js'
import type { Groups } from '../people/groups.js'
import type { ChatMember } from '../people/shared-chats.js'

/**
 * The Engine's calls for chats between accounts (issue 16): invites and contacts, safety
 * numbers, groups and their members. Each call is checked against a stopped engine and
 * handed to the people services; its own file so the Engine facade stays a map of the API.
 */
export abstract class PeopleFacade extends AccountFacade {
  protected abstract readonly groups: Groups
  protected abstract readonly invites: Invites
  protected abstract override ensureOpen(): void

  /**
   * An invite to chat with this account: its text (`tandeminvite1-…`) and QR code, naming this
   * account, its account key and the relay the chat will live on (this device's first relay).
   * Valid for `ttlMs` (default 7 days, at most 30).
   */
  createInvite(options: { ttlMs?: number } = {}): ShownInvite {
    this.ensureOpen()
    return this.invites.createInvite(options)
  }

  /**
   * Accepts another account's invite (its text or QR payload): they become a contact, and a
   * 1:1 chat opens on every device of both accounts. ERR_INVALID_INVITE, ERR_INVITE_EXPIRED,
   * ERR_INVALID_ARGUMENT (this account's own invite, a relay this device does not use).
   */
  async acceptInvite(text: string): Promise<ChatEntry> {
    this.ensureOpen()
    return await this.invites.acceptInvite(text)
  }

  listContacts(): Contact[] {
    this.ensureOpen()
    return this.invites.listContacts()
  }

  /** 60 digits to compare with the other account's person: the same on both sides when no one sits in between. */
  safetyNumber(accountId: string): string {
    this.ensureOpen()
    return this.invites.safetyNumber(accountId)
  }

  /** A group chat of this account and `members` (account ids on this device's relay), titled for all of them. */
  async createGroup(init: { title: string; members: string[] }): Promise<ChatEntry> {
    this.ensureOpen()
    return await this.groups.createGroup(init)
  }

  /** Adds accounts to a chat between accounts (any member may); they can read its history. Returns the members. */
  async addMembers(chatId: string, accountIds: string[]): Promise<string[]> {
    this.ensureOpen()
    return await this.groups.addMembers(chatId, accountIds)
  }

  /**
   * Removes an account from a chat between accounts (any other member may): a new key epoch
   * sealed only to those who stay. Its devices keep what they had and get nothing after.
   */
  async removeMember(chatId: string, accountId: string): Promise<string[]> {
    this.ensureOpen()
    return await this.groups.removeMember(chatId, accountId)
  }

  /** Renames a chat between accounts for every member. */
  async renameChat(chatId: string, title: string): Promise<void> {
    this.ensureOpen()
    await this.groups.renameChat(chatId, title)
  }

  listMembers(chatId: string): ChatMember[] {
    this.ensureOpen()
    return this.groups.listMembers(chatId)
  }
}
