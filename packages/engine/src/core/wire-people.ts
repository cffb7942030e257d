import type { AccountService, ThisDevice } from '../account/account-service.js'
import { foreignWriters, forgedAuthor } from '../chat/message-authors.js'
import { Groups } from '../people/groups.js'
import { GroupReferrals } from '../people/group-referrals.js'
import { Invites } from '../people/invites.js'
import { MemberChains } from '../people/member-chains.js'
import { type PeopleHost, SharedChats } from '../people/shared-chats.js'
import type { BlobCodec } from '../relay/blob-codec.js'
import type { Replication } from '../replication/replication.js'
import type { Runtime } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import type { EventHub } from './event-hub.js'

/** Chats between accounts (issue 16): other accounts' chains, shared chats' keys and records, invites. */
export function wirePeople(parts: {
  account: AccountService
  replication: Replication
  codec: BlobCodec
  device: ThisDevice
  docs: DocHost
  runtime: Runtime
  events: EventHub
  local: unknown
  relays: string[]
}): { shared: SharedChats; invites: Invites; groups: Groups } {
  const { account, replication, codec, device, docs, runtime, events, local } = parts
  const keysChanged = (): void => {
    codec.keysChanged()
    replication.keysChanged()
  }
  const chains = new MemberChains(
    async relay => {
      if (relay !== null) return await replication.openRelayStream(relay)
      const [first, ...rest] = await replication.openRelayStreams()
      for (const r of rest) r.link.close()
      return first?.link ?? null
    },
    runtime,
    keysChanged
  )
  const host: PeopleHost = {
    accountId: () => account.chain().accountId,
    accountDoc: () => account.doc(),
    accountName: () => account.info?.name ?? '',
    ring: () => account.keys(),
    ownDeviceStatus: peerId => account.chain().status(peerId),
    signing: device.signing,
    docs,
    runtime,
    chains,
    events,
    local,
    membershipChanged: record => {
      replication.membershipChanged(record)
    },
    keysChanged,
    homeRelay: () => parts.relays[0] ?? null,
    routesChanged: () => {
      replication.routesChanged()
    },
    chatLeft: () => {
      replication.chatLeft()
    }
  }
  const shared = new SharedChats(host)
  account.onKeys(() => {
    shared.accountKeysChanged()
  })
  replication.memberships.people = {
    membership: docId => shared.membership(docId),
    alone: docId => shared.alone(docId),
    memberOf: (record, relay) => {
      void shared.received(record, relay)
    }
  }
  // a message claiming another account than the one of the device that signed its blob is never applied
  replication.refuseBlob = (docId, doc, author, update) => {
    const record = shared.membership(docId)
    if (record === null) return null
    const me = account.chain().accountId
    const ring = account.keys()
    const chatId = record.docId.slice('chat:'.length)
    const signer = ring !== null && ring.standing(author, 0) !== 'unknown' ? me : chains.accountOfAuthor(author, shared.writers(chatId))
    return forgedAuthor(docId, doc, update, signer, me)
  }
  // what this device uploads of a shared chat carries no other account's messages (see UploadCutter.cut)
  replication.foreignWriters = (docId, doc, update) => (shared.membership(docId) === null ? new Set<number>() : foreignWriters(update, doc, account.chain().accountId))
  replication.relays.chatRelays = { relayOf: chatId => shared.chatRelay(chatId), all: () => shared.chatRelays() }
  const referrals = new GroupReferrals(host, shared)
  docs.onOpen((docId, doc) => {
    referrals.opened(docId, doc)
  })
  return { shared, invites: new Invites(host, shared, () => parts.relays[0] ?? null), groups: new Groups(host, shared, referrals) }
}
