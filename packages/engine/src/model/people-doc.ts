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
  /** Contacts as written before `contactFields`: a map per contact (read, never written now). */
  readonly contacts: Y.Map<Y.Map<unknown>>
  /**
   * Each contact's fields, one key per contact and field (`<account id> <field>`): a map per
   * contact made on demand by two devices at once keeps one of them (see `records`), and with it
   * only what that device knew of the contact.
   */
  readonly contactFields: Y.Map<unknown>
  /** Records as written before `records`: a map per chat (read, never written now). */
  readonly memberships: Y.Map<Y.Map<Uint8Array>>
  /**
   * Each shared chat's records, one key per chat and version (`<chat id>:<version>`). Not a map
   * per chat made when first needed: two devices making one at once each set their own under
   * the chat's key, and Yjs keeps one of them, with only what its device wrote. A new device
   * that adopted the relay's newest record before its account doc came made such a map, and
   * the account lost every earlier version of the chat on all its devices: who the members
   * were when, which a blob of a member removed since is checked against (simulator seed 20261138).
   */
  readonly records: Y.Map<Uint8Array>
  /**
   * The relay each shared chat lives on (chat id → its multiaddr with /p2p/<id>), so that every
   * device of the account reaches it, across restarts too: the one an invite named, the
   * creator's own for a group, the one that told of a record. The first one written stays.
   */
  readonly relays: Y.Map<string>

  constructor(readonly doc: Y.Doc) {
    this.contacts = doc.getMap('contacts')
    this.contactFields = doc.getMap('contact-fields')
    this.memberships = doc.getMap('memberships')
    this.records = doc.getMap('membership-records')
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
    const legacy = this.contacts.get(accountId)
    const field = (name: string): unknown => {
      const value = this.contactFields.get(`${accountId} ${name}`)
      return value !== undefined ? value : legacy instanceof Y.Map ? legacy.get(name) : undefined
    }
    if (!(legacy instanceof Y.Map) && field('addedAt') === undefined) return null
    return {
      accountId,
      name: String(field('name') ?? ''),
      relay: String(field('relay') ?? ''),
      addedAt: Number(field('addedAt') ?? 0),
      chatId: String(field('chatId') ?? '')
    }
  }

  listContacts(): Contact[] {
    const ids = new Set(this.contacts.keys())
    for (const key of this.contactFields.keys()) ids.add(key.slice(0, key.indexOf(' ')))
    const out: Contact[] = []
    for (const id of ids) {
      const c = this.contact(id)
      if (c !== null) out.push(c)
    }
    return out.sort((a, b) => a.addedAt - b.addedAt || (a.accountId < b.accountId ? -1 : 1))
  }

  /** Adds a contact, or fills in what an existing one lacks (a name, a relay, a chat). */
  putContact(contact: Contact): void {
    const held = this.contact(contact.accountId)
    for (const [k, v] of Object.entries(contact)) {
      // (an empty field is not written: it reads as '' anyway, and written by a device that knew nothing it could win
      // over another device's value set at the same time)
      if (k === 'accountId' || v === '') continue
      const now = held === null ? undefined : held[k as keyof Contact]
      if (now === undefined || now === '') this.contactFields.set(`${contact.accountId} ${k}`, v)
    }
  }

  /** Stores a record under its version (kept beside the older ones); `replace`: the relay's record of a version this doc holds another of. */
  putMembership(chatId: string, record: SignedMembership, replace = false): void {
    if (replace || !this.versions(chatId).has(record.version)) this.records.set(`${chatId}:${record.version}`, encodeSignedMembership(record))
  }

  /** The newest record of a chat this doc holds that decodes (older ones are kept, and read when a newer is damaged). */
  membership(chatId: string): SignedMembership | null {
    const versions = this.versions(chatId)
    for (const v of [...versions.keys()].sort((a, b) => b - a)) {
      // (a damaged copy: the one before it still says who the members were)
      const record = decodeStored(versions.get(v)!)
      if (record !== null) return record
    }
    return null
  }

  /** Every record of a chat this doc holds that decodes, any version (who was a member when). */
  allMemberships(chatId: string): SignedMembership[] {
    const out: SignedMembership[] = []
    for (const bytes of this.versions(chatId).values()) {
      // (a damaged copy: the others still say who the members were)
      const record = decodeStored(bytes)
      if (record !== null) out.push(record)
    }
    return out
  }

  sharedChatIds(): string[] {
    const ids = new Set(this.memberships.keys())
    for (const key of this.records.keys()) ids.add(key.slice(0, key.lastIndexOf(':')))
    return [...ids]
  }

  /** A chat's records by version, as stored (the per-version keys over the older per-chat map). */
  private versions(chatId: string): Map<number, Uint8Array> {
    const out = new Map<number, Uint8Array>()
    const legacy = this.memberships.get(chatId)
    if (legacy instanceof Y.Map) for (const [v, bytes] of legacy) if (bytes instanceof Uint8Array) out.set(Number(v), bytes)
    const prefix = `${chatId}:`
    for (const [key, bytes] of this.records) if (key.startsWith(prefix) && bytes instanceof Uint8Array) out.set(Number(key.slice(prefix.length)), bytes)
    for (const v of out.keys()) if (!Number.isSafeInteger(v)) out.delete(v)
    return out
  }
}

/**
 * Records decoded, by the stored bytes (a Y.Map hands back the same array at each read). A
 * record carries its chat key sealed to every member: a 50-account group's decodes to 50
 * boxes, and a device read it at each blob of the chat it checked (the bench's group of 50:
 * 37% of a device's time, 2026-12-07). Null: the bytes do not decode.
 */
const decoded = new WeakMap<Uint8Array, SignedMembership | null>()

function decodeStored(bytes: Uint8Array): SignedMembership | null {
  let record = decoded.get(bytes)
  if (record === undefined) {
    try {
      record = decodeSignedMembership(bytes)
    } catch {
      record = null
    }
    decoded.set(bytes, record)
  }
  return record
}
