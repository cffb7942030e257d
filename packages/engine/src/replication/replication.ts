import type { PrivateKey } from '@libp2p/interface'
import { chatIdOfDoc, MalformedFrameError, type SigningKeyPair, type SignedMembership, TandemError } from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import { revokedError, type AccountService } from '../account/account-service.js'
import { relayChainOf } from './relay-chain.js'
import type { DeviceManager } from '../account/device-manager.js'
import type { EventHub } from '../core/event-hub.js'
import type { SentTracker } from '../delivery/sent-tracker.js'
import { EngineStateError } from '../errors.js'
import { ChatMemberships } from './chat-memberships.js'
import type { LinkStreams } from '../net/link-streams.js'
import { Libp2pNetwork, type Libp2pPlatform, type NetworkOptions } from '../net/libp2p-network.js'
import type { BlobCodec } from '../relay/blob-codec.js'
import { RelayClient, RelayOrigin, type ChangeSource, type RelayClientHost, type RelayProgress } from '../relay/relay-client.js'
import { RelayState } from '../relay/relay-state.js'
import type { Runtime } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import type { DocStore } from '../store/doc-store.js'
import type { StoreRepair } from '../store/store-repair.js'
import { LinkingPresence } from './linking-presence.js'
import { EphemeralChannel } from './ephemeral-channel.js'
import { dialsViaRelays } from './circuit-dials.js'
import { RelayFirst } from './relay-first.js'
import { HostRelayStreams } from './host-relay-streams.js'
import { RelayClients } from './relay-clients.js'
import { sessionHostOf } from './session-host.js'
import { PERMANENT_REFUSALS } from '../sync/refusals.js'
import { SyncSession } from '../sync/session.js'
import { SyncManager } from '../sync/sync-manager.js'

export interface ReplicationOptions {
  /** libp2p networking; `false` runs without it (links can still be added with `addLink`). */
  network: NetworkOptions | false
  /** Relays reached over another transport (`addRelayLink`), by id — the simulator's network. */
  relayIds: string[]
  /** Without libp2p: one more stream to a relay of `relayIds` (EngineCoreOptions.openRelayStream). */
  openRelayStream?: (relayId: string) => Promise<Link | null>
}

/**
 * Keeps this device's docs in sync with everything it reaches: the libp2p network (dialing
 * and redialing devices and relays), one sync session per device (SyncManager), and one
 * client per relay (RelayClient). Knows nothing of chats or messages: it moves docs.
 */
export class Replication {
  private network: Libp2pNetwork | null = null
  private sync: SyncManager | null = null
  /** Why an opened blob may not be applied (set by the people service: a message claiming another account than its signer's). */
  refuseBlob: RelayClientHost['refuse'] = undefined
  /** Another account's writers in an update this device would upload (set by the people wiring). */
  foreignWriters: RelayClientHost['foreignWriters'] = undefined
  /** The relay clients, and which docs go to which (see RelayClients). */
  readonly relays: RelayClients
  private relayListeners: Array<() => void> = []
  private relayFirst: RelayFirst | null = null
  /** Blobs not applied since start (see the `rejected` event). */
  private rejected = 0
  /** Typing and presence, sealed, through every connected relay and to every device with a sync session (see EphemeralChannel). */
  readonly ephemeral: EphemeralChannel
  private readonly linking = new LinkingPresence()
  private readonly hostStreams: HostRelayStreams
  /** The record each chat doc is served under (a shared chat's, or one of this account alone), and records relays say name the account. */
  readonly memberships: ChatMemberships
  constructor(
    private readonly peerKey: PrivateKey,
    readonly signing: SigningKeyPair,
    private readonly peerId: string,
    private readonly options: ReplicationOptions,
    private readonly libp2p: Libp2pPlatform,
    private readonly store: DocStore,
    private readonly docs: DocHost,
    private readonly account: AccountService,
    private readonly devices: DeviceManager,
    private readonly sent: SentTracker,
    private readonly codec: BlobCodec,
    private readonly events: EventHub,
    private readonly runtime: Runtime,
    private readonly repair: StoreRepair
  ) {
    this.memberships = new ChatMemberships(() => this.account.chain().accountId, signing)
    this.hostStreams = new HostRelayStreams(options.relayIds, options.openRelayStream)
    this.relays = new RelayClients(
      relayId => this.loadClient(relayId),
      address => this.network?.addRelay(address)
    )
    this.ephemeral = new EphemeralChannel(
      codec,
      docId => this.relays.relaysFor(docId),
      events,
      (docId, error) => {
        this.reject(docId, error instanceof TandemError ? error : new MalformedFrameError(`ephemeral data of ${docId} is unreadable`, { cause: error }), false)
      }
    )
    this.ephemeral.lan = (docId, sealed) => this.sync?.sendEphemeral(docId, sealed) ?? false
  }

  /** Resolves once no relay is still sending what it holds of `docId` (null: none is now). */
  settled(docId: string): Promise<void> | null {
    return this.relayFirst?.gate(docId) ?? null
  }

  /** Every relay holds all of the doc that this device holds (nothing of it waits to go up). */
  holdsAll(docId: string): boolean {
    return this.relays.holdAll(docId, this.docs.get(docId))
  }

  /** The relay clients (none before the account's sync starts). */
  relayClients(): Iterable<RelayClient> {
    return this.relays.all()
  }

  /** Creates the network (if any), starts syncing the account (if any), then starts listening and dialing. */
  async start(): Promise<void> {
    if (this.options.network !== false) {
      this.network = await Libp2pNetwork.create(
        this.peerKey,
        this.options.network,
        this.runtime,
        link => {
          this.addLink(link)
        },
        peer => this.sync?.isConnected(peer) ?? false,
        this.libp2p
      )
      this.network.onRelayLink = (relayId, link) => {
        this.addRelayLink(relayId, link)
      }
      this.network.relayUrgent = relayId => (this.relays.get(relayId)?.pending ?? 0) > 0
      this.network.onError = error => {
        this.events.emit({ type: 'error', error })
      }
    }
    if (this.account.accountId !== null) await this.startSync()
    await this.network?.start()
  }

  /** Finishes what is on its way to relays (bounded), then closes every session and the network. */
  async stop(settleMs: number): Promise<void> {
    // a device that quits finishes what it was sending to its relays first (bounded)
    await Promise.all([...this.relays.all()].map(r => r.settle(settleMs)))
    this.linking.close()
    this.sync?.stop()
    this.sync = null
    this.relayFirst?.releaseAll() // (their sessions are closed: the held requests go nowhere, and no timer is left)
    this.relayFirst = null
    for (const r of this.relays.all()) r.stop()
    this.relays.clear()
    for (const off of this.relayListeners.splice(0)) off()
    await this.network?.stop()
    this.network = null
  }

  /** The account was just created or joined on a running device. */
  async accountAdopted(): Promise<void> {
    await this.startSync()
    this.network?.redialAll()
  }

  /** The node's /tandem/link streams; null before start or without network. */
  linkStreams(): LinkStreams | null {
    return this.network?.linkStreams() ?? null
  }

  /** A device with no account asks its relays for a circuit slot, to be reachable while it is linked. */
  async announceForLinking(): Promise<void> {
    if (this.network !== null && this.account.accountId === null) await this.linking.open(this.network)
  }

  /** A store stream to each relay, outside the account's sessions (recovery reads the chain on one); none without a network. */
  async openRelayStreams(): Promise<Array<{ relayId: string; link: Link }>> {
    return this.network !== null ? await this.network.openRelayStreams() : await this.hostStreams.all()
  }

  /** Whether some relay is connected now (its confirmation of a new link is worth waiting for). */
  hasRelayConnected(): boolean {
    return [...this.relays.all()].some(r => r.isConnected)
  }

  /** Multiaddrs this device listens on (with its /p2p/ id); empty before start or without network. */
  multiaddrs(): string[] {
    return this.network?.multiaddrs() ?? []
  }

  /** Dials another device of the account and keeps it connected. */
  dial(multiaddr: string): void {
    if (this.network === null) throw new EngineStateError('the network is not started')
    this.network.addPeer(multiaddr)
  }

  connectedPeers(): string[] {
    return this.sync?.connectedPeers() ?? []
  }

  relayStatus(): Array<{ relay: string; connected: boolean; pendingUploads: number }> {
    return [...this.relays.all()].map(r => ({ relay: r.relayId, connected: r.isConnected, pendingUploads: r.pending }))
  }

  /** Hands the sync core a link from any transport (the libp2p one calls this too). */
  addLink(link: Link): void {
    if (this.sync === null) {
      link.close()
      return
    }
    this.sync.addLink(link)
  }

  /** Hands a relay client a /tandem/store link to relay `relayId` (the libp2p one calls this too). */
  addRelayLink(relayId: string, link: Link): void {
    const client = this.relays.get(relayId)
    if (client === undefined) {
      link.close()
      return
    }
    client.addLink(link)
  }

  private reject(docId: string, error: TandemError, waiting: boolean): void {
    this.rejected++
    this.events.emit({ type: 'rejected', docId, chatId: chatIdOfDoc(docId), error, waiting, total: this.rejected })
  }

  /** This device holds more of the account's keys: blobs waiting for one are read now. */
  keysChanged(): void {
    for (const r of this.relays.all()) void r.keysChanged()
  }

  deviceListed(peerId: string): void {
    this.reachViaRelays(peerId)
  }

  /** Dials another device through the relays' circuits, when this device is the one to (see dialsViaRelays). */
  private reachViaRelays(peerId: string): void {
    const network = this.network
    if (network === null || !dialsViaRelays(this.devices.listDevices(), peerId)) return
    const gate = this.relayFirst?.gateAll(this.docs.ids()) ?? null
    if (gate === null) network.addPeerViaRelays(peerId)
    else
      void gate.then(() => {
        if (this.network === network) network.addPeerViaRelays(peerId)
      })
  }

  deviceRevoked(peerId: string): void {
    this.sync?.closePeer(peerId, revokedError(peerId))
  }

  /** The account's chain grew: relays and open sessions get what they lack. */
  chainChanged(): void {
    for (const r of this.relays.all()) r.pushChain()
    this.sync?.chainChanged()
  }

  private async startSync(): Promise<void> {
    const keeper = this.account.chain()
    const relayFirst = new RelayFirst(docId => this.relays.relaysFor(docId), this.runtime, this.runtime.now())
    this.relayFirst = relayFirst
    const host = sessionHostOf(keeper, this.docs, relayFirst, this.ephemeral, this.runtime)
    this.sync = new SyncManager(
      this.peerId,
      host,
      this.docs,
      {
        onPeerOpen: peerId => {
          this.network?.peerFound(peerId)
          this.events.emit({ type: 'peer', peerId, status: 'connected' })
        },
        onPeerClose: peerId => {
          this.network?.peerLost(peerId)
          this.events.emit({ type: 'peer', peerId, status: 'disconnected' })
        },
        onPeerRefused: (peerId, error: TandemError) => {
          // stop redialing only a peer that cannot be ours; a garbled handshake is retried with backoff
          if (PERMANENT_REFUSALS.has(error.code)) this.network?.forget(peerId)
          this.events.emit({ type: 'refused', peerId, error })
        }
      },
      {
        relayOf: origin => (origin instanceof RelayOrigin ? origin.relayId : null),
        live: () => [...this.relays.all()].filter(r => r.isLive).map(r => r.relayId),
        carries: (relayId, docId) => this.relays.get(relayId)?.carries(docId) === true
      }
    )
    await this.startRelays()
  }

  private async startRelays(): Promise<void> {
    const network = this.network
    await this.relays.start(network?.relayIds() ?? this.options.relayIds, this.options.network === false ? [] : (this.options.network.relays ?? []))
    // what the relays are known to hold is loaded: messages of ours they lack get their "sent" when they ack
    this.sent.recover()
    this.relayListeners.push(
      this.docs.onUpdate((docId, update, origin, transaction) => {
        const source: ChangeSource = origin instanceof RelayOrigin ? 'relay' : origin instanceof SyncSession ? 'peer' : 'local'
        for (const r of this.relays.relaysFor(docId)) {
          r.docUpdated(docId, source, update, transaction)
          if (source === 'local' && !r.isConnected) network?.relayWanted(r.relayId)
        }
      }),
      this.docs.onOpen(docId => {
        for (const r of this.relays.relaysFor(docId)) r.docOpened(docId)
      })
    )
    if (network === null) return
    network.connectRelays()
    for (const d of this.devices.listDevices()) if (!d.thisDevice) this.reachViaRelays(d.peerId)
  }

  /** Where docs go changed (a shared chat was recorded, with the relay it lives on): see RelayClients.routesChanged. */
  routesChanged(): void {
    if (this.sync === null) return // startRelays reads them all
    this.relays.routesChanged().catch((err: unknown) => {
      this.events.emit({ type: 'error', error: err as Error })
    })
  }

  private async loadClient(relayId: string): Promise<RelayClient> {
    const client = new RelayClient(
      relayId,
      {
        chain: relayChainOf(this.account.chain()),
        codec: this.codec,
        deviceActivity: devices => {
          this.devices.deviceActivity(devices)
        },
        membership: docId => this.memberships.of(docId),
        memberOf: record => {
          this.memberships.people?.memberOf(record, this.relays.addressOf(relayId))
        },
        docIds: () => this.docs.knownIds().filter(docId => this.relays.routes.routes(relayId, docId)),
        open: docId => this.docs.open(docId),
        get: docId => this.docs.get(docId),
        apply: (docId, doc, update, origin) => {
          this.docs.applyRemote(docId, doc, update, origin)
        },
        refuse: (docId, doc, author, update) => this.refuseBlob?.(docId, doc, author, update) ?? null,
        foreignWriters: (docId, doc, update) => this.foreignWriters?.(docId, doc, update) ?? NO_CLIENTS,
        awaitsAck: docId => this.sent.awaitsAck(docId),
        needsRefetch: docId => this.repair.needsRefetch(docId),
        refetched: docId => this.repair.refetched(docId),
        needsResume: docId => this.repair.needsResume(docId),
        resumed: docId => this.repair.resumed(docId)
      },
      new RelayState(this.store, relayId),
      this.runtime,
      {
        onAcked: (docId, acked) => {
          this.sent.acked(docId, acked)
        },
        onProgress: (progress: RelayProgress) => {
          this.events.emit({ type: 'progress', ...progress })
        },
        onLive: () => {
          this.sync?.relaysChanged(false)
        },
        onSettled: () => {
          this.relayFirst?.changed()
        },
        onConnection: (relay, connected, error) => {
          if (connected) {
            this.network?.relayFound(relay)
            this.linking.close(relay) // the account's session holds the relay's circuit slot now
          }
          this.relayFirst?.changed()
          this.sync?.relaysChanged(!connected)
          this.events.emit({ type: 'relay', relay, connected, error })
        },
        onError: error => {
          this.events.emit({ type: 'error', error })
        },
        onRejected: (docId, error, waiting) => {
          this.reject(docId, error, waiting)
        },
        onEphemeral: (docId, from, payload) => {
          this.ephemeral.received(docId, from, payload)
        }
      }
    )
    await client.load()
    return client
  }

  /** A shared chat's new record goes to the relay it lives on now. */
  membershipChanged(record: SignedMembership): void {
    for (const r of this.relays.relaysFor(record.docId)) r.sendMembership(record)
  }

  /** This account was removed from a chat: what the relays' outboxes hold of its docs goes for their answer (see RelayUploader.discardRefused). */
  chatLeft(): void {
    for (const r of this.relays.all()) r.chatLeft()
  }

  /** A /tandem/store stream to the relay at `address` (another account's chain is read on it); null without a network or when unreachable. */
  async openRelayStream(address: string): Promise<Link | null> {
    return this.network !== null ? await this.network.openRelayStream(address) : await this.hostStreams.to(address)
  }
}

const NO_CLIENTS: ReadonlySet<number> = new Set()
