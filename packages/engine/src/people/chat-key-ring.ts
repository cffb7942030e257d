import { chatDocId, docKey, openChatKeys, type SignedMembership, type TandemError, UnknownEpochError } from '@tandem/protocol'
import type { KeyRing } from '../keys/key-ring.js'

interface SharedChat {
  record: SignedMembership
  /** K_1 … K_e once opened with the account's keys; null while this device lacks the generation the box is sealed to. */
  keys: Uint8Array[] | null
}

/**
 * The keys of the chats between accounts this account is in: each one's newest membership
 * record, and its epoch keys opened with the account's X25519 key of the generation its box
 * names (chat-keys.ts). Nothing is stored here: the records live in the account doc, and the
 * keys are opened again at each start (one X25519 per chat).
 */
export class ChatKeyRing {
  private readonly chats = new Map<string, SharedChat>()
  private readonly docKeys = new Map<string, Uint8Array>()

  constructor(
    private readonly accountId: () => string,
    private readonly ring: () => KeyRing | null,
    private readonly problem: (error: TandemError) => void
  ) {}

  /** Takes `record` as the chat's newest (when it is newer than the one held). True when it changed anything. */
  update(chatId: string, record: SignedMembership): boolean {
    const held = this.chats.get(chatId)
    if (held !== undefined && (held.record.version > record.version || held.record.signature.every((x, i) => x === record.signature[i]))) return false
    // a record that removed this account seals nothing to it: the keys held stay, so the
    // history this device holds still reads (nothing new comes: the relay serves it no more)
    const removed = !record.members.includes(this.accountId())
    this.chats.set(chatId, { record, keys: removed ? (held?.keys ?? null) : null })
    // a record of the same version can replace the one held (two members started the next epoch
    // at once, and the relay kept the other's): its epoch key is another, and so is every doc key
    // derived from it. Kept, this device sealed with the losing key and could open nothing the
    // others wrote in that epoch (simulator seeds 20261163 and 20261204 with --people)
    if (!removed) for (const id of [...this.docKeys.keys()]) if (id.startsWith(`${chatId}:`)) this.docKeys.delete(id)
    if (!removed) this.open(chatId)
    return true
  }

  /** Whether this account is no longer a member of the chat (the newest record held leaves it out). */
  isRemoved(chatId: string): boolean {
    const record = this.chats.get(chatId)?.record
    return record !== undefined && !record.members.includes(this.accountId())
  }

  /** Opens the keys of chats whose box this device could not open before (the account's ring gained a generation). True when any opened. */
  retry(): boolean {
    let opened = false
    for (const [chatId, chat] of this.chats) if (chat.keys === null && this.open(chatId)) opened = true
    return opened
  }

  isShared(chatId: string): boolean {
    return this.chats.has(chatId)
  }

  record(chatId: string): SignedMembership | null {
    return this.chats.get(chatId)?.record ?? null
  }

  /** Every epoch key of the chat held (K_1 … K_e), or null. */
  keys(chatId: string): Uint8Array[] | null {
    return this.chats.get(chatId)?.keys ?? null
  }

  /** The epoch this device writes the chat in: its newest, once opened. */
  writeEpoch(chatId: string): number | null {
    const keys = this.keys(chatId)
    return keys === null ? null : keys.length
  }

  /** The key of `docId`'s blobs (the chat doc or one of its segments) in `epoch`, or null when not held. */
  docKey(chatId: string, epoch: number, docId: string): Uint8Array | null {
    const k = this.keys(chatId)?.[epoch - 1]
    if (k === undefined) return null
    const id = `${chatId}:${epoch}:${docId}`
    let key = this.docKeys.get(id)
    if (key === undefined) {
      if (this.docKeys.size >= 4096) this.docKeys.delete(this.docKeys.keys().next().value!)
      key = docKey(k, docId)
      this.docKeys.set(id, key)
    }
    return key
  }

  private open(chatId: string): boolean {
    const chat = this.chats.get(chatId)!
    const ring = this.ring()
    if (chat.record.keys == null || ring === null || !chat.record.members.includes(this.accountId())) return false
    try {
      chat.keys = openChatKeys(chatDocId(chatId), chat.record.keys, this.accountId(), g => ring.accountAgreement(g))
      return true
    } catch (err) {
      // a generation not held yet waits (retry); anything else is a record this device cannot read: said, not thrown
      if (!(err instanceof UnknownEpochError)) this.problem(err as TandemError)
      return false
    }
  }
}
