import {
  type ChatKeyRecipient,
  chatDocId,
  chatIdOfDoc,
  parseDocId,
  sealChatKeys,
  type SignedMembership,
  type SigningKeyPair,
  signMembership,
  type TandemError
} from '@tandem/protocol'
import type * as Y from 'yjs'
import type { EventHub } from '../core/event-hub.js'
import { EngineStateError, InvalidArgumentError, NotChatMemberError, UnknownChatError } from '../errors.js'
import type { KeyRing } from '../keys/key-ring.js'
import { AccountDoc, type ChatEntry } from '../model/account-doc.js'
import { type Contact, PeopleDoc } from '../model/people-doc.js'
import type { DocSealing } from '../relay/blob-codec.js'
import type { Runtime } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import { toHex } from '../util/hex.js'
import { ChatKeyRing } from './chat-key-ring.js'
import { MemberHistory } from '../receipts/member-history.js'
import { ChatAuthors } from './chat-authors.js'
import { ChatWriters } from './chat-writers.js'
import { ChatNames } from './chat-names.js'
import { EpochRotation } from './epoch-rotation.js'
import { RelayRecords } from './relay-records.js'
import type { MemberChains } from './member-chains.js'
import { RelayConfirmed } from './relay-confirmed.js'

/** Reads of the member chains one unknown author may cause before its blobs are refused. */

/** What the people service reads and tells of the rest of the engine. */
export interface PeopleHost {
  /** This account's id (a typed error while the device has none). */
  accountId(): string
  /** This account's display name ('' for none). */
  accountName(): string
  accountDoc(): AccountDoc
  ring(): KeyRing | null
  /** This device's standing in its own account's chain. */
  ownDeviceStatus(peerId: string): 'listed' | 'revoked' | 'unlisted'
  readonly signing: SigningKeyPair
  readonly docs: DocHost
  readonly runtime: Runtime
  readonly chains: MemberChains
  readonly events: EventHub
  /** Transaction origin of changes made through the API. */
  readonly local: unknown
  /** A new record of a shared chat: the relays get it now (a subscription sends it only when it starts). */
  membershipChanged(record: SignedMembership): void
  /** Keys came (a chat's, or another account's chain): blobs waiting for them are read now. */
  keysChanged(): void
  /** The relay a new group lives on: this device's first home relay's address (null: none, or not known by address). */
  homeRelay(): string | null
  /** A shared chat's relay was recorded: its docs go there now (see DocRoutes). */
  routesChanged(): void
  /** This account was removed from a chat: what waits to go of its docs leaves the relays' outboxes. */
  chatLeft(): void
}

/** A member of a chat between accounts, as `listMembers` shows it. */
export interface ChatMember {
  accountId: string
  /** This account. */
  self: boolean
  /** Their name as a contact ('' when not a contact or not known). */
  name: string
}

/**
 * Chats between accounts (issue 16): each one's signed membership record carries its key,
 * sealed to every member account (ChatKeyRing opens it); the records live in the account
 * doc (PeopleDoc) and at the chat's relay, which tells member accounts' devices of new ones
 * (`member-of`, checked by RelayRecords). Creating a group, adding and removing members
 * each sign a new record version with this device's key; removing one starts a new epoch
 * sealed to the accounts that stay. Invites and contacts are `Invites`' (invites.ts).
 */
export class SharedChats {
  private people: PeopleDoc | null = null
  readonly keys: ChatKeyRing
  private readonly names: ChatNames
  private readonly authors: ChatAuthors
  private readonly confirmed = new RelayConfirmed()
  /** (tests start an epoch here) */
  readonly epochs: EpochRotation
  private readonly fromRelays: RelayRecords
  private readonly chatWriters: ChatWriters

  constructor(private readonly host: PeopleHost) {
    this.keys = new ChatKeyRing(
      () => host.accountId(),
      () => host.ring(),
      error => {
        host.events.emit({ type: 'error', error })
      }
    )
    this.chatWriters = new ChatWriters(this.keys, () => this.people)
    this.authors = new ChatAuthors(host, this)
    this.epochs = new EpochRotation(host, this)
    this.names = new ChatNames(
      host,
      () => this.peopleDoc(),
      chatId => this.keys.record(chatId)
    )
    this.fromRelays = new RelayRecords(host, this, this.names, (chatId, record) => this.confirmed.confirm(chatId, record))
  }

  /** Wires the account doc's people part as it opens. */
  attach(doc: Y.Doc): void {
    const people = new PeopleDoc(doc)
    this.people = people
    this.loadRecords()
    people.memberships.observeDeep(() => {
      this.loadRecords()
    })
    people.records.observe(() => {
      this.loadRecords()
    })
    people.contacts.observeDeep(() => {
      this.host.events.emit({ type: 'contacts' })
    })
    people.contactFields.observe(() => {
      this.host.events.emit({ type: 'contacts' })
    })
    people.relays.observe(() => {
      this.host.routesChanged()
    })
    // a chat listed now is known to be this account's alone when it has no record: its docs may be sealed (see sealable)
    new AccountDoc(doc).chats.observe(() => {
      this.host.keysChanged()
    })
  }

  /**
   * Whether this device may seal a blob of `docId` now (BlobCodec waits otherwise). A shared
   * chat's: only under the record its relay holds, never one of its own the relay has not
   * taken yet (RelayConfirmed). A chat doc with no record: only once the account doc lists the
   * chat, which makes it this account's alone (a chat never becomes shared later). A new
   * device synced by a peer may hold a shared chat's doc before the account doc that holds its
   * record; sealed in the account's keys, what it wrote there opened for no other member, and
   * for the account's revoked devices (simulator seed 20261137).
   */
  sealable(docId: string): boolean {
    const chatId = chatIdOfDoc(docId)
    if (chatId === null) return true
    const record = this.keys.record(chatId)
    if (record === null) return this.alone(docId)
    if (!this.confirmed.has(chatId, record)) return false
    // a new epoch is due: started here, so that the uploader holds the doc back rather than wait in the codec (writeEpoch)
    return !this.epochs.due(chatId)
  }

  /**
   * Whether the chat `docId` belongs to is known to be this account's alone: the account doc
   * lists it, and holds no record of it (a shared chat's record comes with its entry in the
   * list, in one transaction). False for a chat doc that came before the account doc named it.
   */
  alone(docId: string): boolean {
    const chatId = chatIdOfDoc(docId)
    return chatId !== null && this.people !== null && this.keys.record(chatId) === null && this.host.accountDoc().getChat(chatId) !== null
  }

  /** The address of the relay a shared chat lives on; null when it names none (or the account doc is not open). */
  chatRelay(chatId: string): string | null {
    return this.people?.chatRelay(chatId) ?? null
  }

  /** Every relay this account's shared chats live on. */
  chatRelays(): string[] {
    return this.people?.chatRelayAddresses() ?? []
  }

  /** The account's ring gained a generation: chat keys sealed to it open now. */
  accountKeysChanged(): void {
    if (this.keys.retry()) this.host.keysChanged()
  }

  peopleDoc(): PeopleDoc {
    if (this.people === null) throw new EngineStateError('the account doc is not open yet')
    return this.people
  }

  /** The record a shared chat's docs are served under (null: not a chat between accounts). */
  membership(docId: string): SignedMembership | null {
    const chatId = chatIdOfDoc(docId)
    return chatId === null ? null : this.keys.record(chatId)
  }

  /** How a doc of a shared chat is sealed and opened: the chat's epoch keys, its member accounts' devices (null: not shared). */
  sealing(docId: string): DocSealing | null {
    const chatId = chatIdOfDoc(docId)
    if (chatId === null || !this.keys.isShared(chatId)) return null
    return {
      writeEpoch: () => {
        // a member account started a new key generation (it revoked a device): this writer starts a new epoch first
        return this.epochs.due(chatId) ? null : this.keys.writeEpoch(chatId)
      },
      keyFor: epoch => this.keys.docKey(chatId, epoch, docId),
      standing: (author, epoch) => this.authors.standing(chatId, author, epoch),
      latestEpoch: () => (this.keys.record(chatId)?.keys?.epoch ?? 0) + (this.epochs.behind(chatId) ? 1 : 0),
      provisional: epoch => {
        const record = this.keys.record(chatId)
        return record !== null && record.keys?.epoch === epoch && !this.confirmed.has(chatId, record)
      },
      refresh: () => this.refresh(chatId)
    }
  }

  /**
   * The chat's relay refused a blob as stale (ERR_STALE_EPOCH): learns what it knows. The
   * records it sent before the refusal (`member-of`, a newer epoch another member started) are
   * checked first; then every other member's chain is read again from it, since a member that
   * revoked a device started a new key generation there and nothing told this device (the
   * relay tells an account's own devices of its own chain alone). Never throws: a chain that
   * cannot be read now leaves the blob to be refused again.
   */
  private async refresh(chatId: string): Promise<void> {
    await this.fromRelays.settled()
    const record = this.keys.record(chatId)
    if (record === null) return
    const me = this.host.accountId()
    const relay = this.chatRelay(chatId)
    await Promise.allSettled(record.members.filter(m => m !== me).map(m => this.host.chains.fetch(m, relay)))
  }

  /** The accounts whose devices may have written blobs of the chat sealed in `epoch` (see ChatWriters). */
  writers(chatId: string, epoch = 0): readonly string[] {
    return this.chatWriters.writers(chatId, epoch)
  }

  // ── records from relays ──────────────────────────────────────────────────

  /** A record a relay says names this account, or removed it (`member-of`): checked and kept by {@link RelayRecords}. */
  async received(record: SignedMembership, relay: string | null = null): Promise<void> {
    await this.fromRelays.received(record, relay)
  }

  /** Stores a record in the account doc (and the chat in its list when new); every device of the account reads it from there. */
  adopt(chatId: string, record: SignedMembership, title: string, contact?: Omit<Contact, 'chatId' | 'addedAt'>, replace = false, relay: string | null = null): void {
    const account = this.host.accountDoc()
    const people = this.peopleDoc()
    const now = this.host.runtime.now()
    const me = this.host.accountId()
    account.doc.transact(() => {
      people.putMembership(chatId, record, replace)
      if (relay !== null) people.putChatRelay(chatId, relay)
      if (account.getChat(chatId) === null) account.addChat({ chatId, title, createdAt: now, archived: false, muted: false, pinned: false })
      if (contact !== undefined) people.putContact({ ...contact, chatId, addedAt: now })
      else if (record.members.length === 2 && record.version === 1 && record.signerAccount !== me) {
        // a 1:1 chat another account opened with this one (it accepted our invite): they are a contact now
        people.putContact({ accountId: record.signerAccount, name: '', relay: '', chatId, addedAt: now })
      }
    }, this.host.local)
    this.loadRecords()
    // who the members are at this version, in the chat doc, where every member's devices read it (MemberHistory)
    void this.host.docs.open(record.docId).then(
      doc => doc.transact(() => new MemberHistory(doc).record(record.version, record.members, replace), this.host.local),
      (error: Error) => this.host.events.emit({ type: 'error', error })
    )
  }

  private loadRecords(): void {
    const people = this.people
    if (people === null) return
    this.chatWriters.recordsChanged()
    let changed = false
    let left = false
    const lost: Array<[string, SignedMembership]> = []
    const me = this.host.accountId()
    for (const chatId of people.sharedChatIds()) {
      const record = people.membership(chatId)
      const winner = record === null ? null : this.confirmed.winnerOver(chatId, record)
      if (winner !== null) lost.push([chatId, winner])
      const before = this.keys.record(chatId)
      if (record !== null && this.keys.update(chatId, record)) {
        changed = true
        this.host.events.emit({ type: 'members', chatId })
        // (learnt here, from a relay or from another device of the account through the account doc)
        if (before?.members.includes(me) === true && !record.members.includes(me)) {
          left = true
          this.host.events.emit({ type: 'removed', chatId, by: record.signerAccount })
        }
      }
    }
    if (changed) this.host.keysChanged()
    if (left) this.host.chatLeft()
    // (the relay's record goes back in place of one that lost to it: see RelayConfirmed.winnerOver)
    for (const [chatId, winner] of lost) this.adopt(chatId, winner, '', undefined, true)
  }

  /** Whether this account was removed from the chat (a record it holds leaves it out): the chat is read-only here. */
  isRemoved(chatId: string): boolean {
    return this.keys.isRemoved(chatId)
  }

  /** Throws ERR_NOT_A_MEMBER when this account was removed from the chat: nothing written to it would reach anyone. */
  checkWritable(chatId: string): void {
    if (this.keys.isRemoved(chatId)) throw new NotChatMemberError(`this account was removed from chat ${chatId}: it is read-only`)
  }

  // ── making and changing chats ────────────────────────────────────────────

  /**
   * A new chat between this account and `others` (each with the account key its box is sealed
   * to): epoch 1, record version 1 signed by this device, stored in the account doc before the
   * chat doc opens (so the relay gets this record, never a one-account one).
   */
  async openChat(
    others: readonly ChatKeyRecipient[],
    title: string,
    chatTitle: string,
    contact?: Omit<Contact, 'chatId' | 'addedAt'>,
    relay: string | null = this.host.homeRelay()
  ): Promise<ChatEntry> {
    const me = this.host.accountId()
    const chatId = toHex(this.host.runtime.randomBytes(12))
    const docId = chatDocId(chatId)
    const recipients = [this.selfRecipient(), ...others]
    const key = this.host.runtime.randomBytes(32)
    const keys = sealChatKeys(docId, 1, key, recipients, [], n => this.host.runtime.randomBytes(n))
    const record = signMembership(
      { accountId: me, key: this.host.signing },
      { docId, version: 1, members: recipients.map(r => r.account), issuedAt: this.host.runtime.now(), keys }
    )
    this.adopt(chatId, record, title, contact, false, relay)
    const doc = await this.host.docs.open(docId)
    doc.transact(() => {
      const meta = doc.getMap('meta')
      meta.set('title', chatTitle)
      meta.set('createdAt', this.host.runtime.now())
      meta.set('createdBy', me)
    }, this.host.local)
    this.names.writeOwn(doc)
    await Promise.all([this.host.docs.committed(doc), this.host.docs.committed(this.host.accountDoc().doc)])
    return this.host.accountDoc().getChat(chatId)!
  }

  /** A chat doc opened: a shared chat's title and its other member's name are followed into this account's list (ChatNames). */
  chatOpened(docId: string, doc: Y.Doc): void {
    const ref = parseDocId(docId)
    if (ref?.kind === 'chat') this.names.follow(ref.chatId, doc)
  }

  async sign(chatId: string, previous: SignedMembership, recipients: ChatKeyRecipient[], epoch: number, key: Uint8Array, older: Uint8Array[]): Promise<void> {
    const docId = chatDocId(chatId)
    const keys = sealChatKeys(docId, epoch, key, recipients, older, n => this.host.runtime.randomBytes(n))
    const members = recipients.map(r => r.account)
    const record = signMembership(
      { accountId: this.host.accountId(), key: this.host.signing },
      { docId, version: previous.version + 1, members, issuedAt: this.host.runtime.now(), keys }
    )
    this.adopt(chatId, record, '')
    this.host.membershipChanged(record)
    await this.host.docs.committed(this.host.accountDoc().doc)
  }

  /** The chat's record, when this account is a member and holds its keys; typed errors otherwise. */
  ownRecord(chatId: string): SignedMembership {
    const record = this.sharedRecord(chatId)
    if (!record.members.includes(this.host.accountId())) throw new NotChatMemberError(`this account is no longer a member of chat ${chatId}`)
    if (this.keys.keys(chatId) === null) throw new EngineStateError(`this device does not hold the keys of chat ${chatId} yet`)
    return record
  }

  sharedRecord(chatId: string): SignedMembership {
    if (typeof chatId !== 'string') throw new InvalidArgumentError('a chat id is a string')
    const record = this.keys.record(chatId)
    if (record !== null) return record
    if (this.host.accountDoc().getChat(chatId) !== null) throw new InvalidArgumentError(`chat ${chatId} is this account's alone: make a group to chat with others`)
    throw new UnknownChatError(chatId)
  }

  /** The members' keys as the record seals to them, this account's own at its newest generation. */
  currentRecipients(record: SignedMembership): ChatKeyRecipient[] {
    const me = this.host.accountId()
    return record.keys!.boxes.map(b => (b.account === me ? this.selfRecipient() : { account: b.account, generation: b.generation, accountKey: b.recipient }))
  }

  /** This account's account key of the newest generation this device writes in. */
  selfRecipient(): ChatKeyRecipient {
    const ring = this.host.ring()
    const generation = ring?.writeEpoch() ?? null
    const pair = generation === null ? null : ring!.accountAgreement(generation)
    if (pair === null) throw new EngineStateError('this device holds no key generation of its account yet')
    return { account: this.host.accountId(), generation: generation!, accountKey: pair.publicKey }
  }

  problem(error: TandemError): void {
    this.host.events.emit({ type: 'error', error })
  }
}
