import { membershipDocOf, type SignedMembership } from '@tandem/protocol'
import { toHex } from '../util/hex.js'

/**
 * Which membership record each chat was offered under on this connection. A doc's subscription
 * offers the record it is served under, and a chat's segments share their chat doc's record: a
 * new device of a chat of 100 segments sent the same record 100 times, and the relay checked it
 * 100 times, each subscription waiting on the check before it (bench `history`, 100k). The relay
 * handles a session's frames in order, so a record offered once on a connection stands for the
 * subscriptions after it; a new record (the chat changed, or the relay's came back instead) is
 * offered again, and so is any record the relay answered with an error for the chat.
 */
export class RecordOffers {
  /** Chat doc id → the signature (hex) of the record offered for it on this connection. */
  private readonly offered = new Map<string, string>()

  /** True (and remembered) when `record` is not yet offered for `docId`'s chat on this connection. */
  due(docId: string, record: SignedMembership): boolean {
    const chat = membershipDocOf(docId)
    const signature = toHex(record.signature)
    if (this.offered.get(chat) === signature) return false
    this.offered.set(chat, signature)
    return true
  }

  /** The relay answered something of `docId`'s chat with an error: its next subscription offers the record again. */
  answered(docId: string): void {
    this.offered.delete(membershipDocOf(docId))
  }

  /** A new connection: nothing is offered on it yet. */
  clear(): void {
    this.offered.clear()
  }
}
