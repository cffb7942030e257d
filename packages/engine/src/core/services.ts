import type { PrivateKey } from '@libp2p/interface'
import { AccountService, DEFAULT_ACCOUNT_POLICY, type ThisDevice } from '../account/account-service.js'
import { DeviceManager } from '../account/device-manager.js'
import type { ChainKeeper } from '../account/chain-keeper.js'
import { ChatService } from '../chat/chat-service.js'
import { SentTracker } from '../delivery/sent-tracker.js'
import { DeviceLinking } from '../linking/device-linking.js'
import { chatDocId, chatIdOfDoc, parseDocId } from '@tandem/protocol'
import { chatMembersOf } from '../receipts/chat-members.js'
import { MemberHistory } from '../receipts/member-history.js'
import { ReceiptService } from '../receipts/receipt-service.js'
import { HiddenMessages } from '../chat/hidden-messages.js'
import { ChatList } from '../chat-list/chat-list.js'
import { PresenceService } from '../presence/presence-service.js'
import { EphemeralKind } from '../replication/ephemeral-channel.js'
import { ChatViews } from '../chat/chat-views.js'
import { SegmentLoader } from '../chat/segment-loader.js'
import { SegmentCounts } from '../chat/segment-counts.js'
import { ClockFloor } from '../chat/clock-floor.js'
import { HybridLogicalClock } from '../hlc.js'
import type { Platform } from '../platform/platform.js'
import { KeyExchange } from '../keys/key-exchange.js'
import { BlobCodec } from '../relay/blob-codec.js'
import { type Runtime, signaturesOf } from '../runtime.js'
import { Replication } from '../replication/replication.js'
import type { DocHost } from '../store/doc-host.js'
import type { DocStore } from '../store/doc-store.js'
import { StoreRepair } from '../store/store-repair.js'
import { engineMessageSource } from '../search/message-source.js'
import { SearchService } from '../search/search-service.js'
import type { EngineCoreOptions } from './options.js'
import type { EventHub } from './event-hub.js'
import { wirePeople } from './wire-people.js'
import type { Groups } from '../people/groups.js'
import type { Invites } from '../people/invites.js'
import type { SharedChats } from '../people/shared-chats.js'

/** The engine's services, wired to each other. */
export interface Services {
  account: AccountService
  devices: DeviceManager
  chats: ChatService
  segments: SegmentLoader
  segmentCounts: SegmentCounts
  replication: Replication
  repair: StoreRepair
  linking: DeviceLinking
  keyExchange: KeyExchange
  shared: SharedChats
  invites: Invites
  groups: Groups
  receipts: ReceiptService
  chatList: ChatList
  presence: PresenceService
  search: SearchService
}

export interface ServiceParts {
  store: DocStore
  docs: DocHost
  peerKey: PrivateKey
  device: ThisDevice
  runtime: Runtime
  platform: Platform
  keeper: ChainKeeper | null
  options: EngineCoreOptions
  events: EventHub
  /** Transaction origin of changes made through the API. */
  local: unknown
  /** Whether the engine is online (started). */
  started: () => boolean
  /** This device was revoked: the engine stops and erases the account's data. */
  revoked: () => void
}

/**
 * Builds the services of one engine and connects them: what each tells the others (a device
 * listed or revoked, a link signed, an account adopted), which doc opens go to which service.
 * The Engine is the facade over what this returns.
 */
export function wireServices(parts: ServiceParts): Services {
  const { store, docs, peerKey, device, runtime, platform, keeper, options, events, local, started, revoked } = parts
  const network = options.network === undefined ? {} : options.network
  const hasRelays = network !== false ? (network.relays?.length ?? 0) > 0 : (options.relayIds?.length ?? 0) > 0
  const repair: StoreRepair = new StoreRepair(
    store,
    docId => {
      events.emit({ type: 'repaired', docId, chatId: chatIdOfDoc(docId) })
    },
    error => {
      events.emit({ type: 'error', error: error as Error })
    }
  )
  const policy = {
    maxDevices: options.maxDevices ?? DEFAULT_ACCOUNT_POLICY.maxDevices,
    revokeInactiveAfterMs: options.revokeInactiveAfterMs === undefined ? DEFAULT_ACCOUNT_POLICY.revokeInactiveAfterMs : options.revokeInactiveAfterMs,
    relayArbitrates: hasRelays
  }
  const account: AccountService = new AccountService(
    store,
    docs,
    runtime,
    events,
    device,
    {
      deviceListed: peerId => {
        replication.deviceListed(peerId)
      },
      deviceRevoked: peerId => {
        replication.deviceRevoked(peerId)
      },
      chainSigned: () => {
        replication.chainChanged()
      },
      selfRevoked: () => {
        revoked()
      },
      hinted: hints => {
        for (const { chatId, segment } of hints) {
          loader.hint(chatId, segment)
          void docs.open(chatDocId(chatId)).catch(error => {
            events.emit({ type: 'error', error })
          })
        }
      },
      accountAdopted: async () => {
        if (started()) await replication.accountAdopted()
      }
    },
    keeper,
    local,
    policy
  )
  const devices: DeviceManager = new DeviceManager(
    {
      chain: () => account.chain(),
      get accountId() {
        return account.accountId
      },
      chainSigned: () => {
        replication.chainChanged()
      },
      relayConnected: () => replication.hasRelayConnected(),
      chatHints: () => chatList.hints()
    },
    runtime,
    events,
    device.peerId,
    policy
  )
  // (the chat views are made next: the tracker reads them through this lazy view)
  const logs = { log: (docId: string) => views.log(docId), openLogs: () => views.openLogs() }
  const sent = new SentTracker(
    hasRelays,
    () => replication.relayClients(),
    logs,
    events,
    device.peerId,
    () => account.accountId,
    chatId => shared.isRemoved(chatId)
  )
  // removed from a chat: its messages no relay took are final, `failed`
  events.subscribe(e => {
    if (e.type === 'removed') sent.failChat(e.chatId)
  })
  const counts = new SegmentCounts(store)
  const loader = new SegmentLoader(
    {
      open: docId => docs.open(docId),
      unload: docId => docs.unload(docId),
      isStored: docId => docs.isKnown(docId),
      isCounted: docId => docs.isKnown(docId) && counts.get(docId) !== undefined,
      settled: docId => replication.settled(docId),
      canUnload: docId => !sent.awaitsAck(docId) && !chatService.hasQueued(docId) && replication.holdsAll(docId),
      progress: (chatId, fetched, total) => {
        events.emit({ type: 'history', chatId, segmentsFetched: fetched, segments: total })
      },
      error: err => {
        events.emit({ type: 'error', error: err as Error })
      }
    },
    runtime,
    options.segments
  )
  const hlc = new HybridLogicalClock(runtime.now)
  const views = new ChatViews(loader, counts, docId => docs.isKnown(docId), sent, events, hlc, runtime, local)
  const chatService: ChatService = new ChatService(docs, views, loader, account, sent, runtime, hlc, new ClockFloor(store, hlc, runtime.now), device.peerId, local)
  const codec = new BlobCodec(platform.compression, {
    signing: device.signing,
    ring: () => account.keys(),
    signatures: () => signaturesOf(runtime),
    aead: platform.aead,
    randomBytes: n => runtime.randomBytes(n),
    shared: docId => shared.sealing(docId),
    sealable: docId => shared.sealable(docId)
  })
  account.onKeys(() => {
    codec.keysChanged()
    replication.keysChanged()
  })
  const replication: Replication = new Replication(
    peerKey,
    device.signing,
    device.peerId,
    { network, relayIds: options.relayIds ?? [], openRelayStream: options.openRelayStream },
    platform.libp2p,
    store,
    docs,
    account,
    devices,
    sent,
    codec,
    events,
    runtime,
    repair
  )
  // a device lacking a key generation asks the account's other devices for it (see KeyExchange)
  const keyExchange = new KeyExchange(
    () => (account.accountId === null ? null : account.chain()),
    device,
    async (docId, bytes) => replication.ephemeral.sendRaw(docId, bytes),
    runtime,
    error => {
      events.emit({ type: 'error', error })
    }
  )
  replication.ephemeral.keyMessages = bytes => {
    void keyExchange.received(bytes)
  }
  account.onKeys(() => {
    void keyExchange.check()
  })
  events.subscribe(e => {
    if ((e.type === 'relay' && e.connected) || e.type === 'account') void keyExchange.check()
  })
  const linking = new DeviceLinking(account, devices, replication, store, runtime, device.peerId)
  const { shared, invites, groups } = wirePeople({
    account,
    replication,
    codec,
    device,
    docs,
    runtime,
    events,
    local, // without a network of its own (links given by the host: a simulation, a test), the relays are the ids it was given
    relays: network !== false ? (network.relays ?? []) : (options.relayIds ?? [])
  })
  chatService.membershipVersion = chatId => shared.membership(chatDocId(chatId))?.version ?? null
  docs.onOpen((docId, doc) => {
    if (views.attach(docId, doc)) shared.chatOpened(docId, doc)
    else if (account.attach(docId, doc)) shared.attach(doc)
  })
  // delivered and read per member account: a shared chat's from its membership record, this account's alone otherwise
  const receipts = new ReceiptService(
    views,
    chatMembersOf(
      () => account.accountId,
      docId => shared.membership(docId),
      (chatId, version) => {
        const doc = docs.get(chatDocId(chatId))
        return doc === undefined ? null : new MemberHistory(doc).at(version)
      }
    ),
    {
      accountId: () => account.accountId,
      getMessage: (chatId, messageId) => chatService.getMessage(chatId, messageId),
      committed: doc => docs.committed(doc),
      awaitsStep: (chatId, messageId) => sent.awaitsStep(chatId, messageId),
      receiptWaits: (chatId, messageId) => {
        sent.hurry(chatId, messageId)
      },
      // the account's listed device with the lowest peer id (all of them agree on it)
      firstToDeliver: () => devices.listDevices().every(d => d.peerId >= device.peerId)
    },
    device.peerId,
    runtime,
    events,
    local
  )
  // receipts that came before a message's `sent` step are told after it
  sent.onStep = (chatId, messageIds) => {
    receipts.stepped(chatId, messageIds)
  }
  sent.onHurry = docId => {
    for (const client of replication.relayClients()) client.saveAcked(docId)
  }
  // delete for me: in the account doc, so only this account's devices know
  const hidden = new HiddenMessages(
    () => account.docIfOpen(),
    (chatId, messageIds, origin) => {
      events.emit({ type: 'message-changed', chatId, messageIds, change: 'hidden', origin: origin === local ? 'local' : 'remote' })
    }
  )
  views.hiddenFor = (chatId, messageId) => hidden.isHidden(chatId, messageId)
  chatService.hidden = hidden
  const chatList = new ChatList(
    views,
    receipts,
    hidden,
    {
      get accountId() {
        return account.accountId
      },
      doc: () => account.doc(),
      docIfOpen: () => account.docIfOpen(),
      committed: doc => docs.committed(doc)
    },
    runtime,
    events,
    local
  )
  // typing and presence: awareness per chat, sealed, through the relays and the LAN
  const presence = new PresenceService(
    {
      accountId: () => account.accountId,
      hasChat: chatId => account.docIfOpen()?.getChat(chatId) != null,
      send: (docId, update) => replication.ephemeral.send(docId, update, EphemeralKind.awareness)
    },
    runtime,
    events,
    device.peerId
  )
  replication.ephemeral.awareness = (docId, from, update) => {
    presence.received(docId, from, update)
  }
  docs.onOpen((docId, doc) => {
    const ref = parseDocId(docId)
    if (ref?.kind === 'chat') receipts.attach(ref.chatId, doc)
    else if (ref?.kind === 'account') hidden.watch()
  })
  docs.onUnload(docId => {
    views.detach(docId)
  })
  const search = new SearchService(engineMessageSource(docs, views, loader, chatService), runtime, error => {
    events.emit({ type: 'error', error: error as Error })
  })
  docs.onUpdate(docId => {
    search.docChanged(docId)
  })
  events.subscribe(event => {
    search.observe(event)
  })
  return {
    account,
    devices,
    chats: chatService,
    segments: loader,
    segmentCounts: counts,
    replication,
    repair,
    linking,
    keyExchange,
    shared,
    invites,
    groups,
    receipts,
    chatList,
    presence,
    search
  }
}
