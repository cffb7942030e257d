import './polyfill.js'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { hostname } from 'node:os'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  DeviceRevokedError, accountIdFromPublicKey, accountKeyFromSecret, decodeAccountCredentials, encodeAccountCredentials,
  encodeDeviceCertificate, generateAccountKey, signDeviceCertificate, signMembership, type SignedMembership, type TandemError
} from '@tandem/protocol'
import { Level } from 'level'
import * as Y from 'yjs'
import { EngineStateError, InvalidArgumentError, UnknownChatError } from './errors.js'
import type { EngineEvent, EngineListener } from './events.js'
import { HybridLogicalClock, type Hlc } from './hlc.js'
import { loadAccount, loadPeerKey, saveAccount, type AccountIdentity } from './identity-store.js'
import { AccountDoc, accountDocId, type ChatEntry, type DeviceEntry } from './model/account-doc.js'
import { ChatDoc, chatDocId, chatIdOfDoc } from './model/chat-doc.js'
import { MAX_MESSAGE_TEXT, toMessage, type Message, type MessageRecord, type MessageStatus } from './model/message.js'
import { DeviceListKeeper } from './account/device-list-keeper.js'
import { RelayClient, RelayOrigin, type ChangeSource, type RelayProgress } from './relay/relay-client.js'
import { RelayState } from './relay/relay-state.js'
import { BlobCodec } from './relay/blob-codec.js'
import { nodeCompression } from './node/compression.js'
import type { StateVector } from './relay/state-vector.js'
import { Libp2pNetwork, type NetworkOptions } from './net/libp2p-network.js'
import { systemRuntime, type Runtime } from './runtime.js'
import { DocHost } from './store/doc-host.js'
import { DocStore, type DocStoreOptions } from './store/doc-store.js'
import type { KeyValueStore } from './store/kv.js'
import type { Link } from '@tandem/transport'
import { SyncSession, type SessionHost } from './sync/session.js'
import { PERMANENT_REFUSALS } from './sync/refusals.js'
import { SyncManager } from './sync/sync-manager.js'

export interface EngineOptions {
  /** Directory for the on-disk store (classic-level). Either this or `store`. */
  dataDir?: string
  /** An injected abstract-level store (memory-level in tests). The engine opens and closes it. */
  store?: KeyValueStore
  storeOptions?: DocStoreOptions
  /** Clock, timers and randomness; defaults to the system's. */
  runtime?: Partial<Runtime>
  /** Name this device shows in the device list (default: the host name). */
  deviceName?: string
  /** libp2p networking; `false` runs without it (links can still be added with `addLink`). */
  network?: NetworkOptions | false
  /**
   * Relays reached over another transport (`addRelayLink`), by id — the simulator's network.
   * With libp2p, relays come from `network.relays`.
   */
  relayIds?: string[]
}

export interface AccountInfo {
  accountId: string
  name: string
}

/** Origin of changes made through this API. */
const LOCAL = Symbol('tandem:local')

/** How long `stop()` waits for uploads in flight to a relay (a snapshot, say) to be acknowledged. */
const STOP_SETTLE_MS = 2_000

/**
 * One device's Tandem engine: its account's Yjs docs on a level store, kept in
 * sync with the account's other devices. Create with {@link createEngine}.
 */
export class Engine {
  private account: AccountIdentity | null
  private accountDoc: AccountDoc | null = null
  private readonly chats = new Map<string, ChatDoc>()
  private sync: SyncManager | null = null
  private network: Libp2pNetwork | null = null
  private deviceLists: DeviceListKeeper | null = null
  private readonly relays = new Map<string, RelayClient>()
  private readonly memberships = new Map<string, SignedMembership>()
  /** Messages sent from this device that no relay has acknowledged yet: chat id → message ids. */
  private readonly unsent = new Map<string, Set<string>>()
  /** Newest clocks of bulk adds (a backfill) not yet observed: read when idle, or before our next stamp. */
  private readonly clocksPending: Array<() => Hlc | null> = []
  /** Per chat, messages sent in this burst: one transaction (one update, one log entry) for all. */
  private readonly outgoing = new Map<string, { records: MessageRecord[]; appended: PromiseWithResolvers<void> }>()
  private readonly listeners = new Set<EngineListener>()
  private readonly hlc: HybridLogicalClock
  private readonly codec = new BlobCodec(nodeCompression)
  private started = false

  private peerIdText: string | undefined

  private constructor (
    private readonly store: DocStore,
    private readonly docs: DocHost,
    private readonly runtime: Runtime,
    private readonly peerKey: PrivateKey,
    account: AccountIdentity | null,
    private readonly options: EngineOptions
  ) {
    this.account = account
    this.hlc = new HybridLogicalClock(runtime.now)
    docs.onOpen((docId, doc) => { this.attach(docId, doc) })
  }

  /** @internal use {@link createEngine} */
  static async open (options: EngineOptions): Promise<Engine> {
    const runtime: Runtime = { ...systemRuntime, ...options.runtime }
    const db = options.store ?? await openLevel(options.dataDir)
    await db.open()
    const store = new DocStore(db, options.storeOptions)
    const docs = new DocHost(store, runtime)
    const peerKey = await loadPeerKey(store, runtime.randomBytes)
    const account = await loadAccount(store)
    const engine = new Engine(store, docs, runtime, peerKey, account, options)
    if (account !== null) await engine.openAccountDocs()
    return engine
  }

  /** This device's libp2p peer id. */
  get peerId (): string {
    this.peerIdText ??= peerIdFromPrivateKey(this.peerKey).toString()
    return this.peerIdText
  }

  get accountId (): string | null { return this.account?.accountId ?? null }

  get accountInfo (): AccountInfo | null {
    if (this.account === null) return null
    return { accountId: this.account.accountId, name: this.accountDoc?.name ?? '' }
  }

  // ── lifecycle ────────────────────────────────────────────────────────────

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    if (this.options.network !== false) {
      this.network = await Libp2pNetwork.create(this.peerKey, this.options.network ?? {}, this.runtime,
        link => { this.addLink(link) }, peer => this.sync?.isConnected(peer) ?? false)
      this.network.onRelayLink = (relayId, link) => { this.addRelayLink(relayId, link) }
    }
    if (this.account !== null) await this.startSync()
    await this.network?.start()
  }

  async stop (): Promise<void> {
    if (!this.started) { await this.closeStore(); return }
    this.started = false
    // a device that quits finishes what it was sending to its relays first (bounded)
    await Promise.all([...this.relays.values()].map(r => r.settle(STOP_SETTLE_MS)))
    this.sync?.stop()
    this.sync = null
    for (const r of this.relays.values()) r.stop()
    this.relays.clear()
    await this.network?.stop()
    this.network = null
    await this.closeStore()
  }

  // ── account ──────────────────────────────────────────────────────────────

  /** Creates a new account with this device as its first device. */
  async createAccount (init: { name: string }): Promise<AccountInfo> {
    const keys = generateAccountKey(this.runtime.randomBytes)
    await this.adoptAccount(keys.secretKey)
    this.accountDoc!.setName(init.name)
    await this.docs.written(accountDocId(this.account!.accountId))
    return this.accountInfo!
  }

  /** Joins an existing account from its exported credentials (see {@link exportAccountCredentials}). */
  async joinAccount (credentials: string): Promise<AccountInfo> {
    await this.adoptAccount(decodeAccountCredentials(credentials).secretKey)
    return this.accountInfo!
  }

  /** The account's credentials as text, for joining another device. Keep it secret. */
  exportAccountCredentials (): string {
    return encodeAccountCredentials({ secretKey: this.requireAccount().keys.secretKey })
  }

  async setProfileName (name: string): Promise<void> {
    const doc = this.requireAccountDoc()
    doc.doc.transact(() => { doc.setName(name) }, LOCAL)
    await this.written(doc.doc)
  }

  listDevices (): DeviceEntry[] { return this.requireAccountDoc().listDevices() }

  /**
   * Revokes a device: other devices refuse it from now on, and relays refuse it as
   * soon as they get the new signed device list (pushed now to connected relays).
   */
  async revokeDevice (peerId: string): Promise<void> {
    const account = this.requireAccountDoc()
    if (peerId === this.peerId) throw new InvalidArgumentError('a device cannot revoke itself')
    account.doc.transact(() => { account.revoked.set(peerId, this.runtime.now()) }, LOCAL)
    await this.written(account.doc)
    const list = this.deviceLists!.current()
    for (const r of this.relays.values()) r.pushDeviceList(list)
    this.sync?.closePeer(peerId, new DeviceRevokedError(`device ${peerId} was revoked`))
  }

  /** Revoked peer ids of this account. */
  listRevokedDevices (): string[] { return [...this.requireAccountDoc().revoked.keys()] }

  // ── chats and messages ───────────────────────────────────────────────────

  async createChat (init: { title: string }): Promise<ChatEntry> {
    const account = this.requireAccountDoc()
    if (init.title.length > 256) throw new InvalidArgumentError('chat title is longer than 256 characters')
    const chatId = Buffer.from(this.runtime.randomBytes(12)).toString('hex')
    const doc = await this.docs.open(chatDocId(chatId))
    const now = this.runtime.now()
    const chat = this.chats.get(chatId)!
    doc.transact(() => { chat.setMeta({ title: init.title, createdAt: now, createdBy: this.account!.accountId }) }, LOCAL)
    account.doc.transact(() => {
      account.addChat({ chatId, title: init.title, createdAt: now, archived: false, muted: false, pinned: false })
    }, LOCAL)
    await Promise.all([this.written(doc), this.written(account.doc)])
    return account.getChat(chatId)!
  }

  listChats (): ChatEntry[] { return this.requireAccountDoc().listChats() }

  async updateChat (chatId: string, patch: Partial<Pick<ChatEntry, 'title' | 'archived' | 'muted' | 'pinned'>>): Promise<ChatEntry> {
    const account = this.requireAccountDoc()
    let ok = false
    account.doc.transact(() => { ok = account.updateChat(chatId, patch) }, LOCAL)
    if (!ok) throw new UnknownChatError(chatId)
    await this.written(account.doc)
    return account.getChat(chatId)!
  }

  /** Sends a message; resolves once it is stored on this device's disk. */
  async sendMessage (chatId: string, body: string): Promise<Message> {
    const account = this.requireAccount()
    if (typeof body !== 'string' || body.length === 0) throw new InvalidArgumentError('message text is empty')
    if (body.length * 3 > MAX_MESSAGE_TEXT && Buffer.byteLength(body, 'utf8') > MAX_MESSAGE_TEXT) throw new InvalidArgumentError(`message text is longer than ${MAX_MESSAGE_TEXT} bytes`)
    const chat = await this.chat(chatId)
    this.observePending()
    const ts = this.hlc.tick()
    const record: MessageRecord = {
      id: Buffer.from(this.runtime.randomBytes(12)).toString('hex'),
      author: account.accountId,
      device: this.peerId,
      text: body,
      wall: ts.wall,
      counter: ts.counter
    }
    let unsent = this.unsent.get(chatId)
    if (unsent === undefined) { unsent = new Set(); this.unsent.set(chatId, unsent) }
    unsent.add(record.id)
    await this.appendInBurst(chatId, chat, record)
    await this.written(chat.doc)
    return toMessage(chatId, record, this.statusOf(chatId, chat, record.id))
  }

  /**
   * The first message after a quiet spell is appended at once (latency); the rest of its
   * burst at the end of the burst, in one transaction: a transaction per message cost
   * more than the message itself.
   */
  private appendInBurst (chatId: string, chat: ChatDoc, record: MessageRecord): Promise<void> {
    const batch = this.outgoing.get(chatId)
    if (batch !== undefined) {
      batch.records.push(record)
      return batch.appended.promise
    }
    chat.doc.transact(() => { chat.append(record) }, LOCAL)
    const b = { records: [] as MessageRecord[], appended: Promise.withResolvers<void>() }
    this.outgoing.set(chatId, b)
    this.runtime.defer(() => {
      this.outgoing.delete(chatId)
      try {
        if (b.records.length > 0) chat.doc.transact(() => { for (const r of b.records) chat.append(r) }, LOCAL)
        b.appended.resolve()
      } catch (err) {
        b.appended.reject(err)
      }
    })
    return Promise.resolve()
  }

  /** A chat's messages in display order (the same on every device); `limit` keeps the newest. */
  listMessages (chatId: string, options: { limit?: number } = {}): Message[] {
    const chat = this.chats.get(chatId)
    if (chat === undefined) {
      // listed in the account but its doc is still being opened: nothing to show yet
      if (this.accountDoc?.getChat(chatId) != null) return []
      throw new UnknownChatError(chatId)
    }
    const ordered = chat.ordered()
    const from = options.limit === undefined ? 0 : Math.max(0, ordered.length - options.limit)
    const out: Message[] = []
    for (let i = from; i < ordered.length; i++) out.push(toMessage(chatId, ordered[i]!, this.statusOf(chatId, chat, ordered[i]!.id)))
    return out
  }

  /** Relay connection and catch-up state, for a status line. */
  relayStatus (): Array<{ relay: string; connected: boolean; pendingUploads: number }> {
    return [...this.relays.values()].map(r => ({ relay: r.relayId, connected: r.isConnected, pendingUploads: r.pending }))
  }

  messageCount (chatId: string): number {
    const chat = this.chats.get(chatId)
    if (chat === undefined) {
      if (this.accountDoc?.getChat(chatId) != null) return 0
      throw new UnknownChatError(chatId)
    }
    return chat.size
  }

  /** Yjs state vectors of every open doc, for convergence checks and diagnostics. */
  stateVectors (): Record<string, Uint8Array> {
    const out: Record<string, Uint8Array> = {}
    for (const id of this.docs.ids()) out[id] = Y.encodeStateVector(this.docs.get(id)!)
    return out
  }

  subscribe (listener: EngineListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  // ── network ──────────────────────────────────────────────────────────────

  /** Multiaddrs this device listens on (with its /p2p/ id); empty before start or without network. */
  multiaddrs (): string[] { return this.network?.multiaddrs() ?? [] }

  /** Dials another device of the account and keeps it connected. */
  dial (multiaddr: string): void {
    if (this.network === null) throw new EngineStateError('the network is not started')
    this.network.addPeer(multiaddr)
  }

  connectedPeers (): string[] { return this.sync?.connectedPeers() ?? [] }

  /** Hands the sync core a link from any transport (the libp2p one calls this too). */
  addLink (link: Link): void {
    if (this.sync === null) { link.close(); return }
    this.sync.addLink(link)
  }

  /** Hands a relay client a /tandem/store link to relay `relayId` (the libp2p one calls this too). */
  addRelayLink (relayId: string, link: Link): void {
    const client = this.relays.get(relayId)
    if (client === undefined) { link.close(); return }
    client.addLink(link)
  }

  // ── internals ────────────────────────────────────────────────────────────

  private async adoptAccount (secretKey: Uint8Array): Promise<void> {
    if (this.account !== null) throw new EngineStateError('this device already belongs to an account')
    const keys = accountKeyFromSecret(secretKey)
    const accountId = accountIdFromPublicKey(keys.publicKey)
    const name = this.options.deviceName ?? hostname()
    const certificate = signDeviceCertificate(keys, { peerId: this.peerId, name, createdAt: this.runtime.now() })
    this.account = { accountId, keys, certificate }
    await saveAccount(this.store, this.account)
    await this.openAccountDocs()
    const doc = this.accountDoc!
    doc.doc.transact(() => {
      doc.putDevice({ peerId: this.peerId, name, createdAt: certificate.createdAt, certificate: encodeDeviceCertificate(certificate) })
    }, LOCAL)
    await this.written(doc.doc)
    if (this.started) { await this.startSync(); this.network?.redialAll() }
  }

  private async openAccountDocs (): Promise<void> {
    await this.docs.open(accountDocId(this.account!.accountId))
    for (const docId of await this.store.listDocs()) if (chatIdOfDoc(docId) !== null) await this.docs.open(docId)
    for (const chatId of this.accountDoc!.chatIds()) await this.docs.open(chatDocId(chatId))
  }

  /** Wires typed views and events to a doc as it opens. */
  private attach (docId: string, doc: Y.Doc): void {
    const chatId = chatIdOfDoc(docId)
    if (chatId !== null) {
      const chat: ChatDoc = new ChatDoc(doc, LOCAL, (added, txOrigin) => {
        const origin = txOrigin === LOCAL ? 'local' : 'remote'
        if (origin === 'remote' && added.newest !== null) this.hlc.observe(added.newest)
        if (origin === 'remote' && added.newestLater !== undefined) this.observeLater(added.newestLater)
        if (added.records === null) {
          this.emit({ type: 'messages', chatId, count: added.count, origin: 'remote' })
          return
        }
        for (const m of added.records) {
          this.emit({ type: 'message', chatId, message: toMessage(chatId, m, this.statusOf(chatId, chat, m.id)), origin })
        }
      })
      this.chats.set(chatId, chat)
      queueMicrotask(() => { this.emit({ type: 'chats' }) }) // its messages can be listed now
      for (const m of chat.records()) this.hlc.observe(m)
      return
    }
    if (this.account !== null && docId === accountDocId(this.account.accountId)) {
      const account = new AccountDoc(doc)
      this.accountDoc = account
      account.chats.observe(event => {
        for (const [key, change] of event.keys) {
          if (change.action === 'add') void this.docs.open(chatDocId(key)).catch(err => { this.emit({ type: 'error', error: err as Error }) })
        }
      })
      account.chats.observeDeep(() => { this.emit({ type: 'chats' }) })
      account.profile.observe(() => { this.emit({ type: 'account' }) })
      account.devices.observe(event => {
        for (const key of event.keysChanged) this.network?.addPeerViaRelays(key)
        this.emit({ type: 'account' })
      })
      account.revoked.observe(event => {
        for (const key of event.keysChanged) this.sync?.closePeer(key, new DeviceRevokedError(`device ${key} was revoked`))
        this.emit({ type: 'account' })
      })
    }
  }

  private async startSync (): Promise<void> {
    const account = this.account!
    this.deviceLists = new DeviceListKeeper(this.store, account, () => this.accountDoc!, this.runtime.now)
    await this.deviceLists.load()
    const host: SessionHost = {
      certificate: account.certificate,
      accountId: account.accountId,
      sharedDocIds: peer => peer === account.accountId ? this.docs.ids() : [],
      canShare: (docId, peer) => peer === account.accountId && (docId === accountDocId(account.accountId) || chatIdOfDoc(docId) !== null),
      checkPeer: peerId => {
        if (this.deviceLists!.isRevoked(peerId)) throw new DeviceRevokedError(`device ${peerId} was revoked from this account`)
      },
      open: docId => this.docs.open(docId),
      get: docId => this.docs.get(docId),
      apply: (docId, doc, update, origin) => { this.docs.applyRemote(docId, doc, update, origin) },
      defer: fn => { this.runtime.defer(fn) }
    }
    this.sync = new SyncManager(this.peerId, host, this.docs, {
      onPeerOpen: peerId => { this.network?.peerFound(peerId); this.emit({ type: 'peer', peerId, status: 'connected' }) },
      onPeerClose: peerId => { this.network?.peerLost(peerId); this.emit({ type: 'peer', peerId, status: 'disconnected' }) },
      onPeerRefused: (peerId, error: TandemError) => {
        // stop redialing only a peer that cannot be ours; a garbled handshake is retried with backoff
        if (PERMANENT_REFUSALS.has(error.code)) this.network?.forget(peerId)
        this.emit({ type: 'refused', peerId, error })
      }
    }, {
      relayOf: origin => origin instanceof RelayOrigin ? origin.relayId : null,
      live: () => [...this.relays.values()].filter(r => r.isLive).map(r => r.relayId),
      carries: (relayId, docId) => this.relays.get(relayId)?.carries(docId) === true
    })
    await this.startRelays()
  }

  private async startRelays (): Promise<void> {
    const network = this.network
    for (const relayId of network?.relayIds() ?? this.options.relayIds ?? []) {
      const client = new RelayClient(relayId, {
        certificate: this.account!.certificate,
        codec: this.codec,
        deviceList: () => this.deviceLists!.current(),
        mergeDeviceList: remote => this.deviceLists!.merge(remote),
        membership: docId => this.membershipOf(docId),
        docIds: () => this.docs.ids(),
        open: docId => this.docs.open(docId),
        get: docId => this.docs.get(docId),
        apply: (docId, doc, update, origin) => { this.docs.applyRemote(docId, doc, update, origin) },
        awaitsAck: docId => {
          const chatId = chatIdOfDoc(docId)
          return chatId !== null && (this.unsent.get(chatId)?.size ?? 0) > 0
        }
      }, new RelayState(this.store, relayId), this.runtime, {
        onAcked: (docId, acked) => { this.markSent(docId, acked) },
        onProgress: (progress: RelayProgress) => { this.emit({ type: 'progress', ...progress }) },
        onLive: () => { this.sync?.relaysChanged(false) },
        onConnection: (relay, connected, error) => {
          if (connected) this.network?.relayFound(relay)
          this.sync?.relaysChanged(!connected)
          this.emit({ type: 'relay', relay, connected, error })
        },
        onError: error => { this.emit({ type: 'error', error }) },
        onEphemeral: (docId, from, payload) => { this.emit({ type: 'ephemeral', docId, from, payload }) }
      })
      await client.load()
      this.relays.set(relayId, client)
    }
    this.docs.onUpdate((docId, update, origin, transaction) => {
      const source: ChangeSource = origin instanceof RelayOrigin ? 'relay' : origin instanceof SyncSession ? 'peer' : 'local'
      for (const r of this.relays.values()) r.docUpdated(docId, source, update, transaction)
    })
    this.docs.onOpen(docId => { for (const r of this.relays.values()) r.docOpened(docId) })
    if (network === null) return
    for (const d of this.accountDoc!.listDevices()) network.addPeerViaRelays(d.peerId)
    network.connectRelays()
  }

  /** Chat docs are served by relays to the member accounts of a signed record; one account for now. */
  private membershipOf (docId: string): SignedMembership | null {
    if (chatIdOfDoc(docId) === null) return null
    let record = this.memberships.get(docId)
    if (record === undefined) {
      // deterministic (Ed25519, fixed fields): every device of the account signs the same bytes
      record = signMembership(this.account!.keys, { docId, version: 1, members: [this.account!.accountId], issuedAt: 0 })
      this.memberships.set(docId, record)
    }
    return record
  }

  private statusOf (chatId: string, chat: ChatDoc, messageId: string): MessageStatus {
    if (this.relays.size === 0) return 'stored'
    const id = chat.itemIdOf(messageId)
    if (id === undefined) return 'stored'
    const docId = chatDocId(chatId)
    for (const r of this.relays.values()) if ((r.ackedSv(docId).get(id[0]) ?? 0) > id[1]) return 'sent'
    return 'stored'
  }

  /** A backfill's newest clock is observed once the work at hand is done (or first thing when we next stamp). */
  private observeLater (newest: () => Hlc | null): void {
    this.clocksPending.push(newest)
    if (this.clocksPending.length === 1) this.runtime.defer(() => { this.observePending() })
  }

  private observePending (): void {
    for (const newest of this.clocksPending.splice(0)) {
      const clock = newest()
      if (clock !== null) this.hlc.observe(clock)
    }
  }

  /** A relay acknowledged more of a doc: report this device's messages that are now sent. */
  private markSent (docId: string, acked: StateVector): void {
    const chatId = chatIdOfDoc(docId)
    const chat = chatId === null ? undefined : this.chats.get(chatId)
    const unsent = chatId === null ? undefined : this.unsent.get(chatId)
    if (chat === undefined || unsent === undefined || chatId === null) return
    const sent: string[] = []
    const me = chat.doc.clientID
    for (const messageId of unsent) {
      const id = chat.itemIdOf(messageId)
      if (id !== undefined && (acked.get(id[0]) ?? 0) > id[1]) { sent.push(messageId); continue }
      // `unsent` is in send order, which is clock order for this session's client: nothing
      // after the first one still out is acked (scanning them all made each ack O(burst))
      if (id === undefined || id[0] === me) break
    }
    for (const m of sent) unsent.delete(m)
    if (sent.length > 0) this.emit({ type: 'status', chatId, messageIds: sent, status: 'sent' })
  }

  private async written (doc: Y.Doc): Promise<void> {
    const docId = this.docs.idOf(doc)
    if (docId === undefined) throw new EngineStateError('doc is not open')
    await this.docs.written(docId)
    const failure = this.docs.failure
    if (failure !== null) throw failure
  }

  private async chat (chatId: string): Promise<ChatDoc> {
    const chat = this.chats.get(chatId)
    if (chat !== undefined) return chat
    if (this.accountDoc?.getChat(chatId) == null) throw new UnknownChatError(chatId)
    await this.docs.open(chatDocId(chatId))
    return this.chats.get(chatId)!
  }

  private requireAccount (): AccountIdentity {
    if (this.account === null) throw new EngineStateError('this device has no account yet: create or join one')
    return this.account
  }

  private requireAccountDoc (): AccountDoc {
    this.requireAccount()
    // between createAccount/joinAccount starting and its docs being open
    if (this.accountDoc === null) throw new EngineStateError('the account is still being set up on this device')
    return this.accountDoc
  }

  private emit (event: EngineEvent): void {
    for (const l of this.listeners) {
      try { l(event) } catch { /* a listener's bug must not break sync */ }
    }
  }

  private async closeStore (): Promise<void> {
    this.docs.destroy()
    await this.store.close()
  }
}

async function openLevel (dataDir: string | undefined): Promise<KeyValueStore> {
  if (dataDir === undefined) throw new InvalidArgumentError('either dataDir or store is required')
  await mkdir(dataDir, { recursive: true })
  return new Level<string, Uint8Array>(join(dataDir, 'store'), { keyEncoding: 'utf8', valueEncoding: 'view' })
}

/** Opens (or creates) a device's engine on a data directory or an injected store. */
export function createEngine (options: EngineOptions): Promise<Engine> {
  return Engine.open(options)
}
