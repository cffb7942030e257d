import type { Link } from '@tandem/transport'
import { relayIdOf } from './relay-clients.js'

/**
 * Store streams to relays outside the account's sessions when the host, not libp2p, reaches the
 * relays (the simulator, tests): opened by the host's `openRelayStream` for the relays it named.
 */
export class HostRelayStreams {
  constructor(
    private readonly relayIds: readonly string[],
    private readonly open: ((relayId: string) => Promise<Link | null>) | undefined
  ) {}

  /** One stream to each named relay that opens one. */
  async all(): Promise<Array<{ relayId: string; link: Link }>> {
    const open = this.open
    if (open === undefined) return []
    const opened = await Promise.all(this.relayIds.map(async relayId => ({ relayId, link: await open(relayId) })))
    return opened.filter((o): o is { relayId: string; link: Link } => o.link !== null)
  }

  /**
   * A stream to the relay at `address`, if it is one the host named (before, none: every read
   * of another account's chain failed in the simulator, and its chats were never listed, seed 20261133).
   */
  async to(address: string): Promise<Link | null> {
    const id = relayIdOf(address)
    const relay = this.relayIds.find(r => relayIdOf(r) === id)
    return relay === undefined ? null : ((await this.open?.(relay)) ?? null)
  }
}
