import type { Engine } from '@tandem/engine'

/** A chat's membership record as a device holds it: its version and member accounts. */
export interface MembersAt {
  version: number
  members: readonly string[]
}

/**
 * What the people workload did, for the invariants between accounts: each chat's membership
 * records as seen (by version), which messages were written by a device that knew an account
 * had been removed (those must never reach that account), edits' texts, and messages deleted
 * for everyone or hidden by an account (not owed to anyone any more).
 */
export class PeopleRecord {
  /** Per chat: version → members, every record a sender or a relay held. */
  private readonly records = new Map<string, Map<number, readonly string[]>>()
  /** Message id → the chat and the accounts its sender knew had been removed from it. */
  readonly afterRemoval = new Map<string, { chatId: string; removed: readonly string[] }>()
  /** Edit text → the message it edits and the device that edited it. */
  readonly edits = new Map<string, { messageId: string; peerId: string }>()
  /** Messages deleted for everyone (asked: whether it happened or not, nobody is owed them). */
  readonly deletedIds = new Set<string>()
  /** Per sim account: messages it deleted for itself. */
  readonly hiddenBy = new Map<number, Set<string>>()
  /** Messages some account hid: left out when two devices' messages are compared. */
  readonly hiddenAny = new Set<string>()
  /**
   * Messages left out when two devices of an account that hold the same state vector of a doc
   * are compared: those some account hid (its account doc hides them), and those deleted for
   * everyone. A state vector counts inserts, not deletions, and every blob carries its writer's
   * whole delete set: a device can hold a message's deletion before the tombstone that came
   * with it, at the state vector of a device that holds neither (seed 20261182 with --people).
   */
  readonly uncompared = new Set<string>()

  /** A membership record held somewhere (a device's, or one the relay stored). */
  saw(chatId: string, at: MembersAt): void {
    let byVersion = this.records.get(chatId)
    if (byVersion === undefined) {
      byVersion = new Map()
      this.records.set(chatId, byVersion)
    }
    if (!byVersion.has(at.version)) byVersion.set(at.version, [...at.members])
  }

  /** Whether the account was ever a member of the chat, by any record seen. */
  wasMember(chatId: string, accountId: string): boolean {
    for (const members of this.records.get(chatId)?.values() ?? []) if (members.includes(accountId)) return true
    return false
  }

  /**
   * The accounts a holder of record `at` knows were removed: members of an older record it
   * does not list. (Not just "members once, not in its record": a record older than an
   * account's addition does not list it either, and an account added later reads the history.)
   */
  removedIn(chatId: string, at: MembersAt): string[] {
    const out = new Set<string>()
    for (const [version, members] of this.records.get(chatId) ?? []) if (version < at.version) for (const a of members) if (!at.members.includes(a)) out.add(a)
    return [...out]
  }

  writtenAfterRemoval(chatId: string, messageId: string, removed: readonly string[]): void {
    this.afterRemoval.set(messageId, { chatId, removed })
  }

  edited(text: string, messageId: string, peerId: string): void {
    this.edits.set(text, { messageId, peerId })
  }

  deleted(messageId: string): void {
    this.deletedIds.add(messageId)
    this.uncompared.add(messageId)
  }

  hidden(account: number, messageId: string): void {
    let set = this.hiddenBy.get(account)
    if (set === undefined) {
      set = new Set()
      this.hiddenBy.set(account, set)
    }
    set.add(messageId)
    this.hiddenAny.add(messageId)
    this.uncompared.add(messageId)
  }

  /** Whether the account may lack the message at the end: deleted for everyone, or hidden by the account. */
  gone(account: number, messageId: string): boolean {
    return this.deletedIds.has(messageId) || this.hiddenBy.get(account)?.has(messageId) === true
  }
}

/** The membership record a device holds for a chat, or null (a chat of one account, or not open yet). */
export function recordOf(e: Engine, chatId: string): MembersAt | null {
  try {
    const shared = (e as unknown as { shared: { membership(docId: string): MembersAt | null } }).shared
    return shared.membership(`chat:${chatId}`)
  } catch {
    return null
  }
}
