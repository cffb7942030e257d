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
  private readonly held = new Map<string, { signature: string; record: SignedMembership }>()

  /**
   * The relay holds `record` for `chatId`; true when that is news. Never an older version than
   * the one held: a relay's record only moves on, and the checks of two records it sent run
   * side by side, so an older one's may end last (its signer's chain read from the relay): it
   * took the confirmation back, and the device held the chat's writes for good under a record
   * the relay did hold (simulator seed 20261204 --people, with one message's update sent raw).
   */
  confirm(chatId: string, record: SignedMembership): boolean {
    const signature = toHex(record.signature)
    const held = this.held.get(chatId)
    if (held?.signature === signature || (held !== undefined && held.record.version > record.version)) return false
    this.held.set(chatId, { signature, record })
    return true
  }

  /** Whether `record` is the one the chat's relay said it holds. */
  has(chatId: string, record: SignedMembership): boolean {
    return this.held.get(chatId)?.signature === toHex(record.signature)
  }

  /**
   * The record the relay holds when `record` lost to it: another of the same version (two
   * devices changed the chat at once, and the relay kept the other). The account doc may bring
   * the loser back after this device took the relay's (devices of one account that each signed
   * one and each took the relay's merge their writes, and Yjs may keep a loser): simulator seed
   * 20261204: two of an account's devices and another account started the same epoch at once.
   */
  winnerOver(chatId: string, record: SignedMembership): SignedMembership | null {
    const held = this.held.get(chatId)
    return held !== undefined && held.record.version === record.version && held.signature !== toHex(record.signature) ? held.record : null
  }
}
