import {
  DeviceRevokedError,
  accountIdFromPublicKey,
  accountKeyFromSecret,
  decodeAccountCredentials,
  encodeAccountCredentials,
  encodeDeviceCertificate,
  generateAccountKey,
  signDeviceCertificate,
  type SignedDeviceList
} from '@tandem/protocol'
import type * as Y from 'yjs'
import { EngineStateError, InvalidArgumentError } from '../errors.js'
import type { EventHub } from '../core/event-hub.js'
import { saveAccount, type AccountIdentity } from '../identity-store.js'
import { AccountDoc, accountDocId, type DeviceEntry } from '../model/account-doc.js'
import { chatDocId, chatIdOfDoc } from '../model/chat-doc.js'
import type { Runtime } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import type { DocStore } from '../store/doc-store.js'
import { DeviceListKeeper } from './device-list-keeper.js'

/** What the account service asks of the sync side when the device list changes. */
export interface AccountHooks {
  /** A device appeared in the account doc: reach it through the relays. */
  deviceListed(peerId: string): void
  /** A device was revoked (here or on another device): close its sessions. */
  deviceRevoked(peerId: string): void
  /** This device revoked one: push the new signed list to the relays now. */
  deviceListSigned(list: SignedDeviceList): void
  /** This device just became part of an account: start syncing it. */
  accountAdopted(): Promise<void>
}

export interface AccountInfo {
  accountId: string
  /** `null` until this device holds the account's profile: a new device still syncing, or a damaged store under repair. */
  name: string | null
}

/**
 * The account this device belongs to: its identity (account key and this device's
 * certificate), the account doc (profile, devices, revocations, chat list), the signed
 * device list relays check, and the `account` events.
 */
export class AccountService {
  private identityOrNull: AccountIdentity | null
  private accountDoc: AccountDoc | null = null
  private keeper: DeviceListKeeper | null = null

  constructor(
    private readonly store: DocStore,
    private readonly docs: DocHost,
    private readonly runtime: Runtime,
    private readonly events: EventHub,
    private readonly peerId: string,
    private readonly deviceName: string,
    private readonly hooks: AccountHooks,
    identity: AccountIdentity | null,
    /** Transaction origin of changes made through the API. */
    private readonly local: unknown
  ) {
    this.identityOrNull = identity
  }

  get accountId(): string | null {
    return this.identityOrNull?.accountId ?? null
  }

  get info(): AccountInfo | null {
    if (this.identityOrNull === null) return null
    return { accountId: this.identityOrNull.accountId, name: this.accountDoc?.name ?? null }
  }

  /** The account, or a typed error if this device has none yet. */
  identity(): AccountIdentity {
    if (this.identityOrNull === null) throw new EngineStateError('this device has no account yet: create or join one')
    return this.identityOrNull
  }

  /** The account doc, or a typed error while it is not open. */
  doc(): AccountDoc {
    this.identity()
    // between createAccount/joinAccount starting and its docs being open
    if (this.accountDoc === null) throw new EngineStateError('the account is still being set up on this device')
    return this.accountDoc
  }

  docIfOpen(): AccountDoc | null {
    return this.accountDoc
  }

  /** The signed device list (loaded from the store by {@link loadDeviceList}). */
  get deviceLists(): DeviceListKeeper {
    if (this.keeper === null) throw new EngineStateError('the device list is not loaded')
    return this.keeper
  }

  async loadDeviceList(): Promise<DeviceListKeeper> {
    this.keeper = new DeviceListKeeper(this.store, this.identity(), () => this.accountDoc!, this.runtime.now)
    await this.keeper.load()
    return this.keeper
  }

  /** Creates a new account with this device as its first device. */
  async createAccount(init: { name: string }): Promise<AccountInfo> {
    if (typeof init?.name !== 'string') throw new InvalidArgumentError('account name must be a string')
    const keys = generateAccountKey(this.runtime.randomBytes)
    await this.adopt(keys.secretKey)
    this.accountDoc!.setName(init.name)
    await this.docs.written(accountDocId(this.identityOrNull!.accountId))
    return this.info!
  }

  /** Joins an existing account from its exported credentials (see {@link exportCredentials}). */
  async joinAccount(credentials: string): Promise<AccountInfo> {
    await this.adopt(decodeAccountCredentials(credentials).secretKey)
    return this.info!
  }

  /** The account's credentials as text, for joining another device. Keep it secret. */
  exportCredentials(): string {
    return encodeAccountCredentials({ secretKey: this.identity().keys.secretKey })
  }

  async setProfileName(name: string): Promise<void> {
    if (typeof name !== 'string') throw new InvalidArgumentError('profile name must be a string')
    const doc = this.doc()
    doc.doc.transact(() => {
      doc.setName(name)
    }, this.local)
    await this.docs.committed(doc.doc)
  }

  listDevices(): DeviceEntry[] {
    return this.doc().listDevices()
  }

  /**
   * Revokes a device: other devices refuse it from now on, and relays refuse it as
   * soon as they get the new signed device list (pushed now to connected relays).
   */
  async revokeDevice(peerId: string): Promise<void> {
    const account = this.doc()
    if (typeof peerId !== 'string') throw new InvalidArgumentError('revokeDevice takes a peer id')
    if (peerId === this.peerId) throw new InvalidArgumentError('a device cannot revoke itself')
    // revocation is for good: a typo must not revoke a peer id nobody listed
    if (!account.devices.has(peerId)) throw new InvalidArgumentError(`no device ${peerId} in this account's device list`)
    account.doc.transact(() => {
      account.revoked.set(peerId, this.runtime.now())
    }, this.local)
    await this.docs.committed(account.doc)
    // (not started yet: the list is signed anew when sync starts)
    if (this.keeper !== null) this.hooks.deviceListSigned(this.keeper.current())
    this.hooks.deviceRevoked(peerId)
  }

  /** Revoked peer ids of this account. */
  listRevokedDevices(): string[] {
    return [...this.doc().revoked.keys()]
  }

  /** Opens the account doc and every chat doc (stored or listed). */
  async openDocs(): Promise<void> {
    await this.docs.open(accountDocId(this.identity().accountId))
    for (const docId of await this.store.listDocs()) if (chatIdOfDoc(docId) !== null) await this.docs.open(docId)
    for (const chatId of this.accountDoc!.chatIds()) await this.docs.open(chatDocId(chatId))
  }

  /** Wires the account doc as it opens; false for any other doc. */
  attach(docId: string, doc: Y.Doc): boolean {
    if (this.identityOrNull === null || docId !== accountDocId(this.identityOrNull.accountId)) return false
    const account = new AccountDoc(doc)
    this.accountDoc = account
    account.chats.observe(event => {
      for (const [key, change] of event.keys) {
        if (change.action === 'add')
          void this.docs.open(chatDocId(key)).catch(err => {
            this.events.emit({ type: 'error', error: err as Error })
          })
      }
    })
    account.chats.observeDeep(() => {
      this.events.emit({ type: 'chats' })
    })
    account.profile.observe(() => {
      this.events.emit({ type: 'account' })
    })
    account.devices.observe(event => {
      for (const key of event.keysChanged) this.hooks.deviceListed(key)
      this.events.emit({ type: 'account' })
    })
    account.revoked.observe(event => {
      for (const key of event.keysChanged) this.hooks.deviceRevoked(key)
      this.events.emit({ type: 'account' })
    })
    return true
  }

  /** Makes this device part of the account whose secret key this is. */
  private async adopt(secretKey: Uint8Array): Promise<void> {
    if (this.identityOrNull !== null) throw new EngineStateError('this device already belongs to an account')
    const keys = accountKeyFromSecret(secretKey)
    const accountId = accountIdFromPublicKey(keys.publicKey)
    const certificate = signDeviceCertificate(keys, { peerId: this.peerId, name: this.deviceName, createdAt: this.runtime.now() })
    this.identityOrNull = { accountId, keys, certificate }
    await saveAccount(this.store, this.identityOrNull)
    await this.openDocs()
    const doc = this.accountDoc!
    doc.doc.transact(() => {
      doc.putDevice({ peerId: this.peerId, name: this.deviceName, createdAt: certificate.createdAt, certificate: encodeDeviceCertificate(certificate) })
    }, this.local)
    await this.docs.committed(doc.doc)
    await this.hooks.accountAdopted()
  }
}

/** The error a revoked device's session is closed with. */
export const revokedError = (peerId: string): DeviceRevokedError => new DeviceRevokedError(`device ${peerId} was revoked`)
