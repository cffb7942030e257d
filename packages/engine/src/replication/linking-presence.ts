import { STORE_PROTOCOL_VERSION, type StoreFrame } from '@tandem/protocol'
import { FramedSession } from '@tandem/transport'
import type { Libp2pNetwork } from '../net/libp2p-network.js'
import { STORE_FRAMES } from '../relay/relay-connection.js'

/**
 * A device with no account, being linked, says so to its relays: a /tandem/store hello
 * with no account. The relay then reserves it a circuit slot (bounded in number and time),
 * so an existing device can dial it through the relay. Nothing else is said; the sessions
 * end once the account's own sessions have taken over, or when linking stops.
 */
export class LinkingPresence {
  private readonly sessions = new Map<string, FramedSession<StoreFrame>>()

  async open(network: Libp2pNetwork): Promise<void> {
    for (const { relayId, link } of await network.openRelayStreams()) {
      // a session still open keeps its circuit slot: replacing it would end the relay's
      // linking session and so drop the reservation, while libp2p asks for one only once per
      // connection and still lists the old circuit address (a second code shown on this
      // device then named a circuit nobody could dial: NO_RESERVATION)
      if (this.sessions.has(relayId)) {
        link.close()
        continue
      }
      const session = new FramedSession(link, STORE_FRAMES, {
        handle: () => {}, // the welcome, and nothing after it
        closed: () => {
          if (this.sessions.get(relayId) === session) this.sessions.delete(relayId)
        }
      })
      this.sessions.set(relayId, session)
      session.start()
      void session.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: null, head: null })
    }
  }

  /** Ends the session with one relay (its account session is open now), or with all. */
  close(relayId?: string): void {
    for (const [id, session] of [...this.sessions]) if (relayId === undefined || id === relayId) session.close()
  }
}
