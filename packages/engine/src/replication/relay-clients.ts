import type * as Y from 'yjs'
import { peerAddress, peerIdOf } from '../net/addresses.js'
import type { RelayClient } from '../relay/relay-client.js'
import { DocRoutes } from './doc-routes.js'

/** The relays shared chats live on, as the account doc records them (people/shared-chats.ts fills it in). */
export interface ChatRelays {
  /** The address (a multiaddr with /p2p/<id>) of the relay a shared chat lives on; null when it names none. */
  relayOf(chatId: string): string | null
  /** Every chat relay's address. */
  all(): string[]
}

/**
 * The device's relay clients, and which of them each doc goes to: its home relays (the ones
 * it was configured with) and the relays its shared chats live on, each added when a chat
 * first names it (a client loads its saved state first, then the network reaches it).
 */
export class RelayClients {
  private readonly clients = new Map<string, RelayClient>()
  /** The home relays' ids. */
  private home: readonly string[] = []
  /** Each relay's address, by id (none without a network: the simulator names relays by id only). */
  private readonly addresses = new Map<string, string>()
  /** Chat relays whose client is loading. */
  private readonly adding = new Map<string, Promise<void>>()
  /** Bumped at every clear: a client that finished loading after it is not kept. */
  private generation = 0
  /** The relays shared chats live on (set by the people service). */
  chatRelays: ChatRelays | null = null
  /** Which relays each doc goes to. */
  readonly routes = new DocRoutes(
    () => this.home,
    chatId => {
      const address = this.chatRelays?.relayOf(chatId) ?? null
      return address === null ? null : relayIdOfAddress(address)
    }
  )

  constructor(
    /** Makes the client of a relay, its saved state loaded. */
    private readonly load: (relayId: string) => Promise<RelayClient>,
    /** A chat relay's client was added: the network reaches it from now on. */
    private readonly added: (address: string) => void
  ) {}

  /** Loads the home relays' clients (`addresses`: their multiaddrs, when known), then the chat relays'. */
  async start(home: readonly string[], addresses: readonly string[]): Promise<void> {
    // a host without libp2p (the simulator) may name its relays by address: keyed by id all the
    // same, or a shared chat's relay (an address, from an invite) got a second client of the
    // home relay, never connected (the people simulation, seed 20261128)
    for (const relay of home) if (relay.includes('/p2p/')) this.addresses.set(relayIdOf(relay), relay)
    this.home = home.map(relayIdOf)
    for (const address of addresses) this.addresses.set(relayIdOfAddress(address), address)
    for (const relayId of this.home) this.clients.set(relayId, await this.load(relayId))
    // the relays shared chats live on: reached from now on, kept across restarts by the account doc's record of them
    for (const address of this.chatRelays?.all() ?? []) await this.addChatRelay(address)
  }

  /** Forgets every client (they are stopped by the caller). */
  clear(): void {
    this.generation++
    this.clients.clear()
    this.adding.clear()
  }

  all(): IterableIterator<RelayClient> {
    return this.clients.values()
  }

  /** The client of a relay, by id (or by address, as a host without libp2p may name it). */
  get(relayId: string): RelayClient | undefined {
    return this.clients.get(relayIdOf(relayId))
  }

  /** The relay's address, when known. */
  addressOf(relayId: string): string | null {
    return this.addresses.get(relayId) ?? null
  }

  /** The clients of the relays `docId` belongs on (see DocRoutes). */
  relaysFor(docId: string): RelayClient[] {
    const out: RelayClient[] = []
    for (const id of this.routes.relaysOf(docId)) {
      const r = this.clients.get(id)
      if (r !== undefined) out.push(r)
    }
    return out
  }

  /** Every relay `docId` goes to holds all of `doc` that this device holds (true for a doc not open here). */
  holdAll(docId: string, doc: Y.Doc | undefined): boolean {
    if (doc === undefined) return true
    for (const r of this.relaysFor(docId)) if (!r.holdsAll(docId, doc)) return false
    return true
  }

  /**
   * Where docs go changed (a shared chat was recorded with the relay it lives on): a relay
   * not reached yet is added, then each relay subscribes the docs now routed to it.
   */
  async routesChanged(): Promise<void> {
    await Promise.all((this.chatRelays?.all() ?? []).map(a => this.addChatRelay(a)))
    for (const r of this.clients.values()) r.routesChanged()
  }

  /**
   * A shared chat lives on the relay at `address`: this device reaches it from now on (it offers
   * its account's chain there, as to its own relays, which is how that relay comes to serve it).
   */
  private addChatRelay(address: string): Promise<void> {
    const relayId = relayIdOfAddress(address)
    if (this.clients.has(relayId)) return Promise.resolve()
    let adding = this.adding.get(relayId)
    if (adding === undefined) {
      const generation = this.generation
      adding = this.load(relayId).then(client => {
        if (this.generation !== generation || this.clients.has(relayId)) {
          client.stop()
          return
        }
        this.adding.delete(relayId)
        this.addresses.set(relayId, address)
        this.clients.set(relayId, client)
        this.added(address)
      })
      this.adding.set(relayId, adding)
    }
    return adding
  }
}

const relayIds = new Map<string, string>()

/** A relay's id, given its id or its address. */
export const relayIdOf = (relay: string): string => (relay.includes('/p2p/') ? relayIdOfAddress(relay) : relay)

/** A relay's id from its address (ERR_INVALID_ARGUMENT for one without /p2p/<id>); remembered, as routing asks at every doc update. */
function relayIdOfAddress(address: string): string {
  let id = relayIds.get(address)
  if (id === undefined) {
    id = peerIdOf(peerAddress(address, 'relay'))
    relayIds.set(address, id)
  }
  return id
}
