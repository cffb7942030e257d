import type { SignedMembership } from '@tandem/protocol'
import { toHex } from '../util/hex.js'

/**
 * Per shared chat, the record its relay last said it holds (`member-of`: at each session's
 * start, and whenever it stores a new one). A device seals the chat's blobs only under a
 * record its relay holds: two devices that start an epoch at once (each its own random key,
 * each its own record of the same version) would otherwise each seal in its own key, and the
 * loser's blobs would open for no one once the relay's record stands (simulator seed 20261141).
 * Held in memory: every session's start tells the relay's records again.
 */
export class RelayConfirmed {
  private readonly held = new Map<string, string>()

  /** The relay holds `record` for `chatId`; true when that is news. */
  confirm(chatId: string, record: SignedMembership): boolean {
    const signature = toHex(record.signature)
    if (this.held.get(chatId) === signature) return false
    this.held.set(chatId, signature)
    return true
  }

  /** Whether `record` is the one the chat's relay said it holds. */
  has(chatId: string, record: SignedMembership): boolean {
    return this.held.get(chatId) === toHex(record.signature)
  }
}
