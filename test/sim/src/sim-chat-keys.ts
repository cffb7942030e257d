import type { DocSealing, KeyRing } from '@tandem/engine/internal'
import { type ChainLink, chatIdOfDoc, docKey, membershipDocOf, openChatKeys, type SignedMembership, UnknownEpochError } from '@tandem/protocol'

/** What the simulator reads of a shared chat from the relay's disk: its newest record, and each member account's chain. */
export interface ChatOnRelay {
  record: SignedMembership
  chains: ReadonlyMap<string, readonly ChainLink[]>
}

/**
 * The shared chats' sealing as an account's keys open it, for the simulator's opener (issue 16):
 * a chat's docs are sealed under its epoch keys, not the account's generations, so a BlobCodec
 * with only the account's ring opens none of them. The epoch keys come out of the relay's
 * newest record of the chat with the account's X25519 keys (the engine's own `openChatKeys`,
 * as ChatKeyRing opens them); an author stands when any member account's chain on the relay
 * ever listed it (the relay serves only such devices; which epoch a device may write is the
 * relay's and the engine's concern, checked by other invariants).
 */
export class SimChatKeys {
  private readonly opened = new Map<string, { sealing: DocSealing } | { outside: true }>()

  constructor(
    private readonly accountId: string,
    private readonly ring: KeyRing | null,
    private readonly memberRing: (links: readonly ChainLink[]) => KeyRing
  ) {}

  /** Takes a chat the relay holds a record of. A chat of this account alone (a record without keys) is sealed in the account's generations. */
  add(chatDocId: string, chat: ChatOnRelay): void {
    const { record } = chat
    if (record.keys == null && record.members.includes(this.accountId)) return
    if (record.keys == null || !record.members.includes(this.accountId) || this.ring === null) {
      // a chat the account was removed from, or holds no generation of yet: its docs are not the account's to open
      this.opened.set(chatDocId, { outside: true })
      return
    }
    const ring = this.ring
    let keys: Uint8Array[] | null
    try {
      keys = openChatKeys(chatDocId, record.keys, this.accountId, g => ring.accountAgreement(g))
    } catch (err) {
      if (!(err instanceof UnknownEpochError)) throw err
      keys = null
    }
    if (keys === null) {
      this.opened.set(chatDocId, { outside: true })
      return
    }
    const rings = [...chat.chains.values()].map(links => this.memberRing(links))
    const held = keys
    this.opened.set(chatDocId, {
      sealing: {
        writeEpoch: () => null,
        keyFor: (epoch: number) => held[epoch - 1] ?? null,
        standing: author => (rings.some(r => r.standing(author, 0) !== 'unknown') ? 'listed' : 'unknown'),
        // (it reads, never writes: no epoch to seal in, nothing to learn)
        latestEpoch: () => 0,
        // (the record is the relay's own: no key of it can be replaced)
        provisional: () => false,
        refresh: async () => {}
      }
    })
  }

  /** How a doc is sealed: a shared chat's epochs (each doc keyed as the engine keys it), or null (the account's own generations). */
  sealing(docId: string): DocSealing | null {
    const held = this.opened.get(membershipDocOf(docId))
    if (held === undefined || !('sealing' in held)) return null
    const chat = held.sealing
    return {
      ...chat,
      keyFor: epoch => {
        const k = chat.keyFor(epoch)
        return k === null ? null : docKey(k, docId)
      }
    }
  }

  /** Whether the account reads `docId`: false for a shared chat it is no longer in (or whose keys it holds no generation of). */
  reads(docId: string): boolean {
    if (chatIdOfDoc(docId) === null) return true
    const held = this.opened.get(membershipDocOf(docId))
    return held === undefined || 'sealing' in held
  }
}
