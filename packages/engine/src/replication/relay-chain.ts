import type { ChainKeeper } from '../account/chain-keeper.js'
import type { RelayChain } from '../relay/relay-client-host.js'

/** The account's chain as each relay client sees it: what it offers, and the links a relay confirms (it arbitrates forks while reachable). */
export function relayChainOf(keeper: ChainKeeper): RelayChain {
  return {
    accountId: keeper.accountId,
    head: () => keeper.head,
    linksAfter: head => keeper.linksAfter(head),
    isOnChain: head => keeper.isOnChain(head),
    receive: async links => {
      await keeper.receive(links, true)
    },
    confirmHead: async head => {
      await keeper.confirmHead(head)
    }
  }
}
