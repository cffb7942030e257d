import { chatIdOfDoc, type SignedMembership } from '@tandem/protocol'

/**
 * The subscriptions a relay refused on the current connection for a state this device can
 * repair, and when each is asked for again:
 * - **links**: refused for a state a chain link can repair (this device not listed yet, say: a
 *   link that listed it lost a fork at the relay, and the rebased one is on its way): asked
 *   again when the relay sends links, on the same connection. (Before, only a refused upload
 *   reconnected: a refused subscription stayed refused for as long as the connection lasted,
 *   and the device never got what others wrote: found by the simulator, seed 20261425.)
 * - **a record**: a chat doc subscribed with no membership record, because this device did not
 *   know the chat yet (ChatMemberships.of), which the relay refused (it holds no record of the
 *   chat naming this account): asked again, offering its record, once this device holds one (its
 *   account doc brought it, or a relay's `member-of`) or knows the chat is its account's alone.
 */
export class RefusedSubscriptions {
  private readonly refused = new Set<string>()
  /** Chat docs last subscribed with no membership record offered. */
  private readonly unrecorded = new Set<string>()

  constructor(
    /** The record a chat doc is served under, as the subscription offers it (null: none). */
    private readonly membership: (docId: string) => SignedMembership | null
  ) {}

  /** A subscription of the doc goes now (with the record `membership` gives, if any). */
  asked(docId: string): void {
    if (chatIdOfDoc(docId) !== null && this.membership(docId) === null) this.unrecorded.add(docId)
    else this.unrecorded.delete(docId)
  }

  /** The relay refused the doc's subscription for a state a link, or the chat's record, can repair. */
  refuse(docId: string): void {
    this.refused.add(docId)
  }

  /** A new connection: every doc is subscribed anew on it. */
  clear(): void {
    this.refused.clear()
    this.unrecorded.clear()
  }

  /** Links came: every refused doc, to ask for again (taken). */
  takeAll(): string[] {
    const docIds = [...this.refused]
    this.refused.clear()
    return docIds
  }

  /** The refused docs that were offered no record and have one now, to ask for again (taken). */
  takeRecorded(): string[] {
    const docIds = [...this.refused].filter(docId => this.unrecorded.has(docId) && this.membership(docId) !== null)
    for (const docId of docIds) this.refused.delete(docId)
    return docIds
  }
}
