import { accountDocId, chatIdOfDoc } from '@tandem/protocol'
import type { ChainKeeper } from '../account/chain-keeper.js'
import type { Runtime } from '../runtime.js'
import type { DocHost } from '../store/doc-host.js'
import type { SessionHost } from '../sync/session.js'
import type { EphemeralChannel } from './ephemeral-channel.js'
import type { RelayFirst } from './relay-first.js'

/** What each device-to-device sync session of the account is given: the chain, the account's docs, history from relays first. */
export function sessionHostOf(keeper: ChainKeeper, docs: DocHost, relayFirst: RelayFirst, ephemeral: EphemeralChannel, runtime: Runtime): SessionHost {
  const accountId = keeper.accountId
  return {
    chain: {
      accountId,
      head: () => keeper.head,
      linksAfter: head => keeper.linksAfter(head),
      receive: async links => {
        await keeper.receive(links, false)
      },
      status: peerId => keeper.status(peerId)
    },
    sharedDocIds: peer => (peer === accountId ? docs.ids() : []),
    canShare: (docId, peer) => peer === accountId && (docId === accountDocId(accountId) || chatIdOfDoc(docId) !== null),
    open: docId => docs.open(docId),
    get: docId => docs.get(docId),
    apply: (docId, doc, update, origin) => {
      docs.applyRemote(docId, doc, update, origin)
    },
    beforeRequest: docId => relayFirst.gate(docId),
    ephemeral: (docId, from, sealed) => {
      ephemeral.received(docId, from, sealed)
    },
    defer: fn => {
      runtime.defer(fn)
    },
    setTimeout: (fn, ms) => runtime.setTimeout(fn, ms),
    clearTimeout: handle => {
      runtime.clearTimeout(handle)
    }
  }
}
