import { decodeSignedMembership, encodeSignedMembership, type SignedMembership } from '@tandem/protocol'
import * as Y from 'yjs'

/** Another account this one talks to (issue 16). */
export interface Contact {
  accountId: string
  /** Their display name as they gave it (an invite, or their entry in a chat); '' when not known. */
  name: string
  /** The relay their invite named ('' when they came from a chat, not an invite). */
  relay: string
  addedAt: number
  /** The 1:1 chat with them, or '' when none. */
  chatId: string
}

/**
 * The account doc's part for chats between accounts: contacts, and each shared chat's
 * signed membership records (the newest one holds the chat's keys, sealed to member
 * accounts). Records are kept per version so that two devices storing different versions
 * at once both stay, and every device reads the newest; they are ciphertext as far as
 * anyone without the account's keys goes (the account doc is sealed like any doc).
 */
export class PeopleDoc {
  readonly contacts: Y.Map<Y.Map<unknown>>
  readonly memberships: Y.Map<Y.Map<Uint8Array>>
  /**
   * The relay each shared chat lives on (chat id → its multiaddr with /p2p/<id>), so that every
   * device of the account reaches it, across restarts too: the one an invite named, the
   * creator's own for a group, the one that told of a record. The first one written stays.
   */
  readonly relays: Y.Map<string>

  constructor(readonly doc: Y.Doc) {
    this.contacts = doc.getMap('contacts')
    this.memberships = doc.getMap('memberships')
    this.relays = doc.getMap('chat-relays')
  }

  /** The relay a shared chat lives on, or null when none is recorded. */
  chatRelay(chatId: string): string | null {
    const relay = this.relays.get(chatId)
    return typeof relay === 'string' && relay !== '' ? relay : null
  }

  /** Records the relay a shared chat lives on, unless one is recorded already. */
  putChatRelay(chatId: string, relay: string): void {
    if (relay !== '' && this.chatRelay(chatId) === null) this.relays.set(chatId, relay)
  }

  /** Every relay a shared chat of this account lives on. */
  chatRelayAddresses(): string[] {
    const out = new Set<string>()
    for (const chatId of this.relays.keys()) {
      const relay = this.chatRelay(chatId)
      if (relay !== null) out.add(relay)
    }
    return [...out]
  }

  contact(accountId: string): Contact | null {
    const map = this.contacts.get(accountId)
    if (!(map instanceof Y.Map)) return null
    return {
      accountId,
      name: String(map.get('name') ?? ''),
      relay: String(map.get('relay') ?? ''),
      addedAt: Number(map.get('addedAt') ?? 0),
      chatId: String(map.get('chatId') ?? '')
    }
  }

  listContacts(): Contact[] {
    const out: Contact[] = []
    for (const id of this.contacts.keys()) {
      const c = this.contact(id)
      if (c !== null) out.push(c)
    }
    return out.sort((a, b) => a.addedAt - b.addedAt || (a.accountId < b.accountId ? -1 : 1))
  }

  /** Adds a contact, or fills in what an existing one lacks (a name, a relay, a chat). */
  putContact(contact: Contact): void {
    let map = this.contacts.get(contact.accountId)
    if (!(map instanceof Y.Map)) {
      map = new Y.Map<unknown>()
      this.contacts.set(contact.accountId, map)
    }
    for (const [k, v] of Object.entries(contact)) {
      if (k === 'accountId') continue
      if (map.get(k) === undefined || (v !== '' && map.get(k) === '')) map.set(k, v)
    }
  }

  /** Stores a record under its version (kept beside the older ones); `replace`: the relay's record of a version this doc holds another of. */
  putMembership(chatId: string, record: SignedMembership, replace = false): void {
    let map = this.memberships.get(chatId)
    if (!(map instanceof Y.Map)) {
      map = new Y.Map<Uint8Array>()
      this.memberships.set(chatId, map)
    }
    if (replace || !map.has(String(record.version))) map.set(String(record.version), encodeSignedMembership(record))
  }

  /** The newest record of a chat this doc holds that decodes (older ones are kept, and read when a newer is damaged). */
  membership(chatId: string): SignedMembership | null {
    const map = this.memberships.get(chatId)
    if (!(map instanceof Y.Map)) return null
    const versions = [...map.keys()]
      .map(Number)
      .filter(Number.isSafeInteger)
      .sort((a, b) => b - a)
    for (const v of versions) {
      try {
        return decodeSignedMembership(map.get(String(v))!)
      } catch {
        // a damaged copy: the one before it still says who the members were
      }
    }
    return null
  }

  /** Every record of a chat this doc holds that decodes, any version (who was a member when). */
  allMemberships(chatId: string): SignedMembership[] {
    const map = this.memberships.get(chatId)
    if (!(map instanceof Y.Map)) return []
    const out: SignedMembership[] = []
    for (const bytes of map.values()) {
      try {
        out.push(decodeSignedMembership(bytes as Uint8Array))
      } catch {
        // a damaged copy: the others still say who the members were
      }
    }
    return out
  }

  sharedChatIds(): string[] {
    return [...this.memberships.keys()]
  }
}
