import { chatIdOfDoc, membershipDocOf, type SignedMembership, type SigningKeyPair, signMembership } from '@tandem/protocol'

/** Chats between accounts, as replication needs them (people/shared-chats.ts fills it in). */
export interface SharedMemberships {
  /** The record a shared chat's docs are served under; null for a chat of this account alone, or one not known yet. */
  membership(docId: string): SignedMembership | null
  /** Whether the chat `docId` belongs to is known to be this account's alone (its account doc lists it, with no record). */
  alone(docId: string): boolean
  /** A relay (at `relay`, its address; null when not known) says a record names this account. */
  memberOf(record: SignedMembership, relay: string | null): void
}

/**
 * The signed membership record each chat doc is served under at relays: a shared chat's own
 * (from its members' records), or, for a chat of this account alone, one this device signs
 * itself with fixed fields (so a relay takes the same record from any device of the account
 * as no change). A segment is served under its chat's record.
 *
 * A chat doc this device holds before its account doc names the chat (a peer synced the doc
 * first) is offered under no record: it may be a shared chat whose record has not come yet,
 * and a record of this account alone, once a relay stored it, stood there for good (the chat's
 * own record, of the same version, was refused as stale at every offer, and nothing of the chat
 * was sealed or sent again: simulator seed 20261204 with --people). The relay serves the doc
 * under a record it holds, or refuses it until this device knows the chat (RelayClient).
 */
export class ChatMemberships {
  private readonly own = new Map<string, SignedMembership>()
  people: SharedMemberships | null = null

  constructor(
    private readonly accountId: () => string,
    private readonly signing: SigningKeyPair
  ) {}

  of(docId: string): SignedMembership | null {
    if (chatIdOfDoc(docId) === null) return null
    const chatDoc = membershipDocOf(docId)
    const shared = this.people?.membership(chatDoc) ?? null
    if (shared !== null) return shared
    if (this.people !== null && !this.people.alone(chatDoc)) return null
    let record = this.own.get(chatDoc)
    if (record === undefined) {
      const accountId = this.accountId()
      record = signMembership({ accountId, key: this.signing }, { docId: chatDoc, version: 1, members: [accountId], issuedAt: 0 })
      this.own.set(chatDoc, record)
    }
    return record
  }
}
