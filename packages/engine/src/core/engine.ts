import type { PrivateKey } from '@libp2p/interface'
import type { KeyValueStore } from '@tandem/storage'
import type { Link } from '@tandem/transport'
import * as Y from 'yjs'
import type { AccountService, AccountInfo, ThisDevice } from '../account/account-service.js'
import type { ChainKeeper } from '../account/chain-keeper.js'
import type { DeviceManager } from '../account/device-manager.js'
import type { DeviceLinking } from '../linking/device-linking.js'
import type { ChatService } from '../chat/chat-service.js'
import type { ReceiptService } from '../receipts/receipt-service.js'
import type { ChatList } from '../chat-list/chat-list.js'
import type { PresenceService } from '../presence/presence-service.js'
import type { EngineListener } from '../events.js'
import type { Platform } from '../platform/platform.js'
import type { Replication } from '../replication/replication.js'
import type { Runtime } from '../runtime.js'
import { DocHost } from '../store/doc-host.js'
import type { DocStore } from '../store/doc-store.js'
import type { StoreRepair, StoreDamageReport } from '../store/store-repair.js'
import { DeviceRevokedError } from '@tandem/protocol'
import { EngineStateError, StoreUnavailableError } from '../errors.js'
import type { KeyExchange } from '../keys/key-exchange.js'
import { chatDocId } from '@tandem/protocol'
import type { SegmentLoader } from '../chat/segment-loader.js'
import type { SegmentCounts } from '../chat/segment-counts.js'
import { type RecoverOptions, recoverAccount } from '../account/recovery.js'
import { EventHub } from './event-hub.js'
import type { EngineCoreOptions } from './options.js'
import { checkAccountOptions, openDevice, openWithRepair } from './open-device.js'
import { wireServices } from './services.js'
import { ChatsFacade } from './chats-facade.js'
import type { Invites } from '../people/invites.js'
import type { Groups } from '../people/groups.js'
import type { SharedChats } from '../people/shared-chats.js'
import type { SearchService } from '../search/search-service.js'
import type { ExportNames } from '../export/chat-export.js'

const LOCAL = Symbol('tandem:local') // origin of changes made through this API

/** How long `stop()` waits for uploads in flight to a relay (a snapshot, say) to be acknowledged. */
const STOP_SETTLE_MS = 2_000

/**
 * One device's Tandem engine: its account's Yjs docs on a level store, kept in sync with
 * the account's other devices. A facade over services with one job each — the account
 * and its devices (AccountService), chats and messages (ChatService), "sent" tracking
 * (SentTracker), moving docs between devices and relays (Replication) — on one doc host.
 * Create with the `createEngine` of the platform's assembly (`@tandem/engine` picks it).
 */
export class Engine extends ChatsFacade {
  private readonly events = new EventHub()
  protected readonly account: AccountService
  protected readonly devices: DeviceManager
  protected readonly chats: ChatService
  protected readonly receipts: ReceiptService
  protected readonly chatList: ChatList
  protected readonly presenceService: PresenceService
  private readonly segments: SegmentLoader
  private readonly segmentCounts: SegmentCounts
  private readonly replication: Replication
  private readonly keyExchange: KeyExchange
  private readonly repair: StoreRepair
  protected readonly linking: DeviceLinking
  protected readonly groups: Groups
  /** (tests read a device's chat keys here) */
  protected readonly shared: SharedChats
  protected readonly invites: Invites
  protected readonly search: SearchService
  private started = false
  /** `stop()` was called: the store is closed (or closing), and every call is refused. */
  private closed = false

  private constructor(
    private readonly store: DocStore,
    private readonly docs: DocHost,
    peerKey: PrivateKey,
    private readonly device: ThisDevice,
    private readonly runtime: Runtime,
    platform: Platform,
    keeper: ChainKeeper | null,
    options: EngineCoreOptions
  ) {
    super()
    const services = wireServices({
      store,
      docs,
      peerKey,
      device,
      runtime,
      platform,
      keeper,
      options,
      events: this.events,
      local: LOCAL,
      started: () => this.started,
      revoked: () => {
        void this.revokedHere()
      }
    })
    this.account = services.account
    this.devices = services.devices
    this.chats = services.chats
    this.receipts = services.receipts
    this.chatList = services.chatList
    this.presenceService = services.presence
    this.segments = services.segments
    this.segmentCounts = services.segmentCounts
    this.replication = services.replication
    this.repair = services.repair
    this.linking = services.linking
    this.keyExchange = services.keyExchange
    this.shared = services.shared
    this.groups = services.groups
    this.invites = services.invites
    this.search = services.search
  }

  /** @internal use the assembly's `createEngine` */
  static async open(db: KeyValueStore, platform: Platform, options: EngineCoreOptions): Promise<Engine> {
    const runtime: Runtime = { ...platform.runtime, ...options.runtime }
    checkAccountOptions(options)
    return await openWithRepair(db, async () => {
      const opened = await openDevice(db, platform, options, runtime)
      const engine = new Engine(opened.store, new DocHost(opened.store, runtime), opened.peerKey, opened.device, runtime, platform, opened.keeper, options)
      if (engine.account.removedForGood()) {
        // out of the account for good while it was shut down (the link came, the erase did not finish): finish it
        await engine.revokedHere()
        throw new DeviceRevokedError(`this device was revoked from account ${opened.keeper!.accountId}: its data is erased`)
      }
      await engine.repair.load()
      await engine.segmentCounts.load()
      if (opened.keeper !== null) {
        await engine.account.openDocs()
        await engine.chats.openStoredSegments()
      }
      return engine
    })
  }

  /** This device's libp2p peer id. */
  get peerId(): string {
    return this.device.peerId
  }

  get accountId(): string | null {
    return this.account.accountId
  }

  get accountInfo(): AccountInfo | null {
    return this.account.info
  }

  // ── lifecycle ────────────────────────────────────────────────────────────

  /** Joins the network: syncs with devices and relays. Also brings a device back after {@link goOffline}. */
  async start(): Promise<void> {
    this.ensureOpen()
    if (this.started) return
    this.started = true
    await this.replication.start()
    await this.linking.start()
  }

  /**
   * Leaves the network (what a phone app does going to the background) and keeps the store
   * open: everything still works locally, and `start()` brings the device back. Uploads on
   * their way are given up to 2 s to be acknowledged first.
   */
  async goOffline(): Promise<void> {
    this.ensureOpen()
    await this.leaveNetwork(STOP_SETTLE_MS)
  }

  /** Stops linking and replication (uploads on their way get `settleMs` to be acknowledged). */
  private async leaveNetwork(settleMs: number): Promise<void> {
    if (!this.started) return
    // the other devices see this one leave its chats at once, not after the timeout
    await this.presenceService.stop()
    this.started = false
    await this.linking.stop()
    this.keyExchange.pause()
    await this.replication.stop(settleMs)
  }

  /**
   * Leaves the network and closes the store, for good: it resolves once everything this
   * engine started is finished and on disk, and every call after it is ERR_ENGINE_STATE
   * (open the store again with a new `createEngine`).
   */
  async stop(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.segments.stop()
    this.receipts.stop()
    await this.leaveNetwork(STOP_SETTLE_MS)
    await this.search.close()
    this.docs.destroy()
    await this.repair.stopped()
    await this.store.close()
  }

  /**
   * This device was revoked: it stops, erases the account's data (the store's own files
   * where the platform can, every record otherwise), and says so with a `revoked` event.
   * The engine is stopped afterwards; a new account or link needs a new `createEngine`.
   */
  private async revokedHere(): Promise<void> {
    if (this.closed) return
    const accountId = this.account.accountId
    this.closed = true
    this.segments.stop()
    this.receipts.stop()
    void this.search.close()
    await this.leaveNetwork(0)
    this.docs.destroy()
    try {
      await this.store.erase()
    } catch (err) {
      this.events.emit({ type: 'error', error: new StoreUnavailableError(`this device was revoked, and erasing the account's data failed: ${String(err)}`, { cause: err }) })
    }
    this.events.emit({ type: 'revoked', accountId: accountId ?? '' })
  }

  protected exportContext(): { names: ExportNames; now: number } {
    const own = this.account.info
    const devices = own === null ? [] : this.devices.listDevices()
    return {
      now: this.runtime.now(),
      names: { account: id => (id === own?.accountId ? own.name : null), device: peerId => devices.find(d => d.peerId === peerId)?.name ?? null }
    }
  }

  protected ensureOpen(): void {
    if (this.closed) throw new EngineStateError('this engine is stopped: its store is closed (open it again with createEngine)')
  }

  // ── account ──────────────────────────────────────────────────────────────

  /**
   * Brings the account back on this device (no account yet, started with a relay) when every
   * device of it is lost: the account id and the recovery phrase shown at its creation. The
   * relay's copy of the device chain is checked, the phrase's key signs this device in (and
   * revokes the lost devices unless `revokeOtherDevices: false`), and the history comes from
   * the relay. Typed errors: ERR_INVALID_CREDENTIALS (a phrase that does not check out, or
   * not this account's), ERR_UNKNOWN_ACCOUNT, ERR_RELAY_UNAVAILABLE.
   */
  async recoverAccount(options: RecoverOptions): Promise<AccountInfo> {
    this.ensureOpen()
    if (!this.started) throw new EngineStateError('start the engine with a relay first: recovery reads the account from it')
    return await recoverAccount(this.account, () => this.replication.openRelayStreams(), this.runtime, options)
  }

  /** The app's own ephemeral data: sealed end to end, through the relays and the LAN, to the chat's other devices (an `ephemeral` event); never stored. False with no relay or device connected. */
  async sendEphemeral(chatId: string, payload: Uint8Array): Promise<boolean> {
    this.ensureOpen()
    return await this.replication.ephemeral.send(chatDocId(chatId), payload)
  }

  /**
   * What was found damaged in this device's store since it opened, and which docs are still
   * waiting to be fetched whole from a relay. Damaged records are never shown: a message in
   * one is missing until the repair brings it back (a `repaired` event says when).
   */
  storeDamage(): StoreDamageReport {
    this.ensureOpen()
    return this.repair.report()
  }

  /** Relay connection and catch-up state, for a status line. */
  relayStatus(): Array<{ relay: string; connected: boolean; pendingUploads: number }> {
    return this.replication.relayStatus()
  }

  /** Yjs state vectors of every open doc, for convergence checks and diagnostics. */
  stateVectors(): Record<string, Uint8Array> {
    this.ensureOpen()
    const out: Record<string, Uint8Array> = {}
    for (const id of this.docs.ids()) out[id] = Y.encodeStateVector(this.docs.get(id)!)
    return out
  }

  subscribe(listener: EngineListener): () => void {
    return this.events.subscribe(listener)
  }

  // ── network ──────────────────────────────────────────────────────────────

  /** Multiaddrs this device listens on (with its /p2p/ id); empty before start or without network. */
  multiaddrs(): string[] {
    return this.replication.multiaddrs()
  }

  /** Dials another device of the account and keeps it connected. */
  dial(multiaddr: string): void {
    this.ensureOpen()
    this.replication.dial(multiaddr)
  }

  connectedPeers(): string[] {
    return this.replication.connectedPeers()
  }

  /** Hands the sync core a link from any transport (the libp2p one calls this too). */
  addLink(link: Link): void {
    this.replication.addLink(link)
  }

  /** Hands a relay client a /tandem/store link to relay `relayId` (the libp2p one calls this too). */
  addRelayLink(relayId: string, link: Link): void {
    this.replication.addRelayLink(relayId, link)
  }
}
