import { checkMembershipSuccessor, chatIdOfDoc, parseDocId, peerIdFromSigningKey, type SignedMembership, verifyMembership } from '@tandem/protocol'
import { NotChatMemberError } from '../errors.js'
import type { ChatNames } from './chat-names.js'
import type { PeopleHost, SharedChats } from './shared-chats.js'

/**
 * Membership records from relays (`member-of`): one naming this account, or the one that removed
 * it. A relay is trusted for none of it: each record verifies, its signer is a listed device of
 * its account (read from the relay), and it is newer than the one held, before SharedChats keeps it.
 */
export class RelayRecords {
  /** Records being checked now (see settled). */
  private readonly checking = new Set<Promise<void>>()

  constructor(
    private readonly host: PeopleHost,
    private readonly shared: Pick<SharedChats, 'peopleDoc' | 'chatRelay' | 'adopt'>,
    private readonly names: Pick<ChatNames, 'writeOwn'>,
    /** The relay holds this record: the chat's blobs may be sealed under it (RelayConfirmed); true when that is new. */
    private readonly confirm: (chatId: string, record: SignedMembership) => boolean
  ) {}

  /**
   * A record a relay says names this account: kept when it verifies, its signer is a listed
   * device of its account, this account is a member, and it is newer than the one held. A chat
   * this account did not know joins its chat list; the other account of a two-member chat
   * becomes a contact. One that leaves this account out is a {@link removal}.
   */
  received(record: SignedMembership, relay: string | null): Promise<void> {
    const checking = this.check(record, relay)
    this.checking.add(checking)
    void checking.finally(() => this.checking.delete(checking))
    return checking
  }

  /** Resolves once the records received so far are checked (and kept, or not). */
  async settled(): Promise<void> {
    while (this.checking.size > 0) await Promise.allSettled([...this.checking])
  }

  private async check(record: SignedMembership, relay: string | null): Promise<void> {
    try {
      const me = this.host.accountId()
      const ref = parseDocId(record.docId)
      if (ref?.kind !== 'chat' || record.keys == null) return
      if (!record.members.includes(me)) {
        await this.removal(ref.chatId, record, relay)
        return
      }
      verifyMembership(record)
      const held = this.shared.peopleDoc().membership(ref.chatId)
      if (held !== null && held.version > record.version) return
      // the relay holds another record of the version this device holds (two members changed the chat at
      // once): the relay's stands, as it does for device chains; this device's copy is replaced
      if (held !== null && held.version === record.version && equalBytes(held.signature, record.signature)) {
        // the relay holds the record this device holds (its own, say): the chat's blobs may be sealed under it
        if (this.confirm(ref.chatId, record)) this.host.keysChanged()
        return
      }
      await this.checkSigner(record, relay)
      this.confirm(ref.chatId, record)
      // (a chat this account holds already keeps the relay it was recorded with)
      this.shared.adopt(ref.chatId, record, '', undefined, held?.version === record.version, relay)
      // a chat new to this account: its members learn this account's name from the chat doc (sealed)
      if (held === null) this.names.writeOwn(await this.host.docs.open(record.docId))
    } catch (err) {
      this.host.events.emit({ type: 'error', error: err as Error })
    }
  }

  /**
   * The record that removed this account from a chat (a relay sends it to the accounts it
   * dropped, at once and at each session after: it no longer names them). Kept when this
   * account is a member of the record held and it verifies: newer, signed by a listed device
   * of its signer account — a member of the record held, when it is the next version (one
   * further on comes from members this device never saw added). The chat stays, read-only,
   * with its history; a chat this account never knew is left unknown.
   */
  private async removal(chatId: string, record: SignedMembership, relay: string | null): Promise<void> {
    const held = this.shared.peopleDoc().membership(chatId)
    if (held === null || !held.members.includes(this.host.accountId()) || record.version <= held.version) return
    verifyMembership(record)
    if (record.version === held.version + 1) checkMembershipSuccessor(held, record)
    await this.checkSigner(record, relay)
    this.shared.adopt(chatId, record, '')
  }

  private async checkSigner(record: SignedMembership, relay: string | null): Promise<void> {
    const peerId = peerIdFromSigningKey(record.signerKey)
    const account = record.signerAccount
    if (account === this.host.accountId()) {
      if (this.host.ownDeviceStatus(peerId) === 'unlisted') throw new NotChatMemberError(`a record of ${record.docId} is signed by ${peerId}, no device of this account`)
      return
    }
    if (this.host.chains.deviceStatus(account, peerId) === 'listed') return
    await this.host.chains.fetch(account, relay ?? this.shared.chatRelay(chatIdOfDoc(record.docId) ?? ''))
    if (this.host.chains.deviceStatus(account, peerId) !== 'listed')
      throw new NotChatMemberError(`a record of ${record.docId} is signed by ${peerId}, not a listed device of account ${account}`)
  }
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
