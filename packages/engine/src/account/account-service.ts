import {
  truncateUtf8,
  type AgreementKeyPair,
  accountIdFromGenesis,
  type ChatHint,
  type ChainIntent,
  type ChainLink,
  createGenesis,
  DEFAULT_MAX_DEVICES,
  createPassphraseVerifier,
  decodePassphraseVerifier,
  encodePassphraseVerifier,
  type PassphraseVerifier,
  DeviceNotListedError,
  DeviceRevokedError,
  decodeChain,
  generateRecoveryPhrase,
  listChainDevices,
  MAX_DEVICE_NAME_BYTES,
  MAX_PLATFORM_BYTES,
  proposeLink,
  recoveryKeyFromPhrase,
  type SigningKeyPair,
  signingKeyFromSeed,
  preverifyLinks,
  type RecoveryKeys,
  verifyChain,
  WrongAccountError
} from '@tandem/protocol'
import type * as Y from 'yjs'
import type { EventHub } from '../core/event-hub.js'
import { EngineStateError, InvalidArgumentError } from '../errors.js'
import { saveAccountId } from '../identity-store.js'
import { checkedHints } from './grant-hints.js'
import { AccountDoc, accountDocId } from '../model/account-doc.js'
import { chatDocId, parseDocId } from '@tandem/protocol'
import { KeyRing } from '../keys/key-ring.js'
import { type Runtime, signaturesOf } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import type { DocStore } from '../store/doc-store.js'
import { type ChainChange, ChainKeeper } from './chain-keeper.js'
import type { DeviceGrant, DeviceOffer } from './devices.js'

/** What the account service asks of the sync side when the device chain changes. */
export interface AccountHooks {
  /** A device was listed: reach it through the relays. */
  deviceListed(peerId: string): void
  /** A device was revoked (here or on another device): close its sessions. */
  deviceRevoked(peerId: string): void
  /** This device signed a link (a change asked for here, or a rebase): publish it to relays and peers now. */
  chainSigned(): void
  /** This device itself was revoked: stop, and erase the account's data. */
  selfRevoked(): void
  /** This device just became part of an account: start syncing it. */
  accountAdopted(): Promise<void>
  /** The grant named chats to open first (checked): open them, and their newest segments, now. */
  hinted(hints: ChatHint[]): void
}

export interface AccountInfo {
  accountId: string
  /** `null` until this device holds the account's profile: a new device still syncing, or a damaged store under repair. */
  name: string | null
}

/** The account's rules this device applies. */
export interface AccountPolicy {
  /** Most devices listed at once (a link adding one more is ERR_DEVICE_LIMIT); the relay has its own. */
  maxDevices: number
  /** Another device not seen for this long is revoked by this one; null never. */
  revokeInactiveAfterMs: number | null
  /** This device has relays: a fork is settled by what a relay holds (see checkSelf). */
  relayArbitrates: boolean
}

export const DEFAULT_ACCOUNT_POLICY: Readonly<AccountPolicy> = Object.freeze({
  maxDevices: DEFAULT_MAX_DEVICES,
  revokeInactiveAfterMs: 30 * 24 * 60 * 60_000,
  relayArbitrates: false
})

/** What this device is, for the chain link that lists it. */
export interface ThisDevice {
  peerId: string
  signing: SigningKeyPair
  agreement: AgreementKeyPair
  name: string
  platform: string
}

/**
 * The account this device belongs to: its device chain (who the account's devices are,
 * signed by them: ChainKeeper), the account doc (profile and chat list), and the `account`
 * events. Linking, revoking and renaming are chain links this device signs with its own key.
 */
export class AccountService {
  private accountDoc: AccountDoc | null = null
  private keeperOrNull: ChainKeeper | null
  private readonly keyListeners: Array<() => void> = []
  /** This device learned, for good, that it was revoked (the erase is under way). */
  private revokedHere = false

  constructor(
    private readonly store: DocStore,
    private readonly docs: DocHost,
    private readonly runtime: Runtime,
    private readonly events: EventHub,
    private readonly device: ThisDevice,
    private readonly hooks: AccountHooks,
    keeper: ChainKeeper | null,
    /** Transaction origin of changes made through the API. */
    private readonly local: unknown,
    private readonly policy: AccountPolicy = DEFAULT_ACCOUNT_POLICY
  ) {
    this.keeperOrNull = keeper
    if (keeper !== null) this.watch(keeper)
  }

  get accountId(): string | null {
    return this.keeperOrNull?.accountId ?? null
  }

  get info(): AccountInfo | null {
    if (this.keeperOrNull === null) return null
    return { accountId: this.keeperOrNull.accountId, name: this.accountDoc?.name ?? null }
  }

  /** The account's device chain, or a typed error if this device has no account yet. */
  /** The account's content keys on this device; null while it has no account. */
  keys(): KeyRing | null {
    return this.keeperOrNull?.keys ?? null
  }

  /** Called whenever this device comes to hold more of the account's keys (and once an account is adopted or loaded). */
  onKeys(listener: () => void): void {
    this.keyListeners.push(listener)
    if (this.keeperOrNull !== null) this.keeperOrNull.keys.onChange(listener)
  }

  chain(): ChainKeeper {
    if (this.keeperOrNull === null) throw new EngineStateError('this device has no account yet: create one, or link it to one')
    return this.keeperOrNull
  }

  /** The account doc, or a typed error while it is not open. */
  doc(): AccountDoc {
    this.chain()
    // between createAccount/acceptGrant starting and its docs being open
    if (this.accountDoc === null) throw new EngineStateError('the account is still being set up on this device')
    return this.accountDoc
  }

  docIfOpen(): AccountDoc | null {
    return this.accountDoc
  }

  /**
   * Creates a new account with this device as its first device. With `recovery` (the
   * default) the result carries the recovery phrase: show it once, it is never stored. With
   * `recovery: false` the account has no way back once every device is lost, until
   * `setRecoveryPhrase` (the chain still names a recovery key: a random one nobody holds).
   */
  async createAccount(init: { name: string; recovery?: boolean }): Promise<AccountInfo & { recoveryPhrase: string | null }> {
    if (typeof init?.name !== 'string') throw new InvalidArgumentError('account name must be a string')
    this.ensureNoAccount()
    const phrase = init.recovery === false ? null : generateRecoveryPhrase(this.runtime.randomBytes)
    const recovery = phrase === null ? null : await recoveryKeyFromPhrase(phrase)
    const recoveryKey = recovery ?? signingKeyFromSeed(this.runtime.randomBytes(32))
    // generation 1 of the content keys, sealed to this device and to the recovery key
    const extensions = new KeyRing([], this.runtime.randomBytes).genesisExtensions(this.device.agreement.publicKey, recovery?.agreement.publicKey ?? null)
    const genesis = createGenesis({ device: this.chainDevice(), signer: this.device.signing, recoveryKey: recoveryKey.publicKey, issuedAt: this.runtime.now(), extensions })
    await this.adopt(accountIdFromGenesis(genesis), [genesis])
    this.accountDoc!.setName(init.name)
    await this.docs.written(accountDocId(this.accountId!))
    return { ...this.info!, recoveryPhrase: phrase }
  }

  /** This device's public description, for an existing device to list it (`addDevice`). */
  deviceOffer(): DeviceOffer {
    const { peerId, agreement, name, platform } = this.device
    return { peerId, agreementKey: agreement.publicKey.slice(), name, platform }
  }

  /** The account's two-step verification, or null when it has none. */
  passphraseVerifier(): PassphraseVerifier | null {
    const bytes = this.accountDoc?.passphraseVerifier() ?? null
    if (bytes === null) return null
    try {
      return decodePassphraseVerifier(bytes)
    } catch {
      return null // (damaged or from a newer build: linking then asks nothing more than the code; say so?)
    }
  }

  /**
   * Sets the passphrase a new device must also know to be linked (Argon2id verifier, in the
   * account doc so every device can check it); null removes it.
   */
  async setPassphrase(passphrase: string | null): Promise<void> {
    const doc = this.doc()
    if (passphrase !== null && (typeof passphrase !== 'string' || passphrase.length === 0))
      throw new InvalidArgumentError('a passphrase is a non-empty string, or null to remove it')
    const verifier = passphrase === null ? null : encodePassphraseVerifier(await createPassphraseVerifier(passphrase, this.runtime.randomBytes))
    doc.doc.transact(() => {
      doc.setPassphraseVerifier(verifier)
    }, this.local)
    await this.docs.committed(doc.doc)
  }

  /** Becomes a device of the account a grant names: the chain must verify and list this device with its keys. */
  async acceptGrant(grant: DeviceGrant): Promise<AccountInfo> {
    this.ensureNoAccount()
    if (typeof grant?.accountId !== 'string' || !(grant.chain instanceof Uint8Array)) throw new InvalidArgumentError('acceptGrant takes the grant addDevice returned')
    const hints = checkedHints(grant.hints)
    const links = decodeChain(grant.chain)
    await preverifyLinks(links, await signaturesOf(this.runtime))
    const state = verifyChain(links, { accountId: grant.accountId })
    const listed = listChainDevices(state).find(d => d.peerId === this.device.peerId)
    if (listed === undefined) throw new DeviceNotListedError(`the grant's chain does not list this device (${this.device.peerId})`)
    if (!sameKey(listed.agreementKey, this.device.agreement.publicKey)) throw new WrongAccountError("the grant lists this device with another device's agreement key")
    await this.adopt(grant.accountId, links)
    this.hooks.hinted(hints)
    return this.info!
  }

  /**
   * Becomes a device of the account whose verified chain `links` is, by the link the recovery
   * key signs: it lists this device and, with `revokeOthers`, revokes every device listed now.
   */
  async recover(links: ChainLink[], recoveryKey: RecoveryKeys, revokeOthers: boolean): Promise<AccountInfo> {
    this.ensureNoAccount()
    await preverifyLinks(links, await signaturesOf(this.runtime))
    const state = verifyChain(links)
    const intents: ChainIntent[] = revokeOthers ? listChainDevices(state).map(d => ({ type: 'revoke-device', peerId: d.peerId })) : []
    intents.push({ type: 'add-device', device: this.chainDevice() })
    // the recovery key opens the current generation (its box), to seal it (or a new one) to this device
    const ring = new KeyRing([recoveryKey.agreement], this.runtime.randomBytes)
    ring.update(links, () => true)
    const link = proposeLink(
      state,
      intents,
      { kind: 'recovery', key: recoveryKey },
      { issuedAt: this.runtime.now(), policy: { maxDevices: this.policy.maxDevices }, extensions: (head, draft) => ring.extensionsFor(head, draft) }
    )
    await this.adopt(state.accountId, [...links, link])
    this.hooks.chainSigned()
    return this.info!
  }

  /** A new recovery phrase (the old one stops working once the link is published); returns it to show once. */
  async setRecoveryPhrase(): Promise<string> {
    const keeper = this.chain()
    const phrase = generateRecoveryPhrase(this.runtime.randomBytes)
    const key = await recoveryKeyFromPhrase(phrase)
    keeper.keys.noteRecovery(key.publicKey, key.agreement.publicKey)
    await keeper.propose([{ type: 'set-recovery-key', recoveryKey: key.publicKey }])
    this.hooks.chainSigned()
    return phrase
  }

  async setProfileName(name: string): Promise<void> {
    if (typeof name !== 'string') throw new InvalidArgumentError('profile name must be a string')
    const doc = this.doc()
    doc.doc.transact(() => {
      doc.setName(name)
    }, this.local)
    await this.docs.committed(doc.doc)
  }

  /** Opens the account doc and every chat doc (stored or listed). */
  async openDocs(): Promise<void> {
    await this.docs.open(accountDocId(this.chain().accountId))
    const stored = await this.store.listDocs()
    // a chat's segments stay on disk until its loader opens them (the newest first); their relays keep them up to date
    this.docs.noteStored(stored.filter(id => parseDocId(id)?.kind === 'segment'))
    for (const docId of stored) if (parseDocId(docId)?.kind === 'chat') await this.docs.open(docId)
    for (const chatId of this.accountDoc!.chatIds()) await this.docs.open(chatDocId(chatId))
  }

  /** Wires the account doc as it opens; false for any other doc. */
  attach(docId: string, doc: Y.Doc): boolean {
    if (this.keeperOrNull === null || docId !== accountDocId(this.keeperOrNull.accountId)) return false
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
    account.chatFields.observe(() => {
      this.events.emit({ type: 'chats' })
    })
    account.profile.observe(() => {
      this.events.emit({ type: 'account' })
    })
    return true
  }

  private watch(keeper: ChainKeeper): void {
    for (const l of this.keyListeners) {
      keeper.keys.onChange(l)
      l()
    }
    keeper.onKeyProblem(problem => {
      this.events.emit({ type: 'error', error: problem })
    })
    keeper.onChange(change => {
      this.chainChanged(change)
    })
    keeper.onConfirmed(() => {
      this.checkSelf()
    })
  }

  /**
   * This device is out of the account for good: revoked, or listed only by links that can no
   * longer stand (the device that signed one lost a fork to a link revoking it, so nobody
   * will sign it again). Final only once it is: with a relay, only the relay's word on a
   * fork is final (two devices that revoke each other at once each hear the other's link
   * first, and the one whose link the relay took must not erase itself meanwhile); without
   * relays, the chain's own rule decides.
   */
  removedForGood(): boolean {
    const keeper = this.keeperOrNull
    if (keeper === null) return false
    const status = keeper.status(this.device.peerId)
    if (status === 'listed') return false
    if (this.policy.relayArbitrates && !keeper.headConfirmed) return false
    return status === 'revoked' || !keeper.listerStillCurrent(this.device.peerId)
  }

  /** Out for good (see removedForGood): the engine stops and erases the account, once. */
  private checkSelf(): void {
    if (this.revokedHere || !this.removedForGood()) return
    this.revokedHere = true
    this.hooks.selfRevoked()
  }

  private chainChanged(change: ChainChange): void {
    for (const peerId of change.listed) if (peerId !== this.device.peerId) this.hooks.deviceListed(peerId)
    for (const peerId of change.revoked) if (peerId !== this.device.peerId) this.hooks.deviceRevoked(peerId)
    this.checkSelf()
    if (change.rebased.length > 0) this.hooks.chainSigned()
    this.events.emit({ type: 'account' })
  }

  private chainDevice() {
    const { signing, agreement, name, platform } = this.device
    return {
      signingKey: signing.publicKey,
      agreementKey: agreement.publicKey,
      name: truncateUtf8(String(name ?? ''), MAX_DEVICE_NAME_BYTES),
      platform: truncateUtf8(String(platform ?? ''), MAX_PLATFORM_BYTES),
      linkedAt: this.runtime.now()
    }
  }

  private ensureNoAccount(): void {
    if (this.keeperOrNull !== null) throw new EngineStateError('this device already belongs to an account')
  }

  /** Makes this device part of the account whose chain this is. */
  private async adopt(accountId: string, links: ChainLink[]): Promise<void> {
    const keeper = await ChainKeeper.adopt(this.store, accountId, links, this.device, this.runtime, { maxDevices: this.policy.maxDevices })
    this.watch(keeper)
    this.keeperOrNull = keeper
    await saveAccountId(this.store, accountId)
    await this.openDocs()
    await this.hooks.accountAdopted()
  }
}

/** The error a revoked device's session is closed with. */
export const revokedError = (peerId: string): DeviceRevokedError => new DeviceRevokedError(`device ${peerId} was revoked`)

const sameKey = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
