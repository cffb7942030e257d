import { headOfLinks, linkHash, signingKeyFromPeerId, splitLinks, type ChainHead, type ChainLink, type StoreFrame, type TandemError } from '@tandem/protocol'
import type { AccessControl, ChainOffer } from './access.js'

/**
 * One session's side of its account's device chain: what the device holds (its hello's
 * head, then what it offered and what it was sent), the links it lacks, and its offers.
 * Everything here runs in one queue, so links go out in chain order and a push after the
 * chain grew never overtakes the answer to an offer.
 */
export class SessionChain {
  /** The newest link the device holds, as far as the relay can tell. */
  private deviceHead: ChainHead | null
  private queue: Promise<void> = Promise.resolve()
  /** A refused offer's later runs (up to its `last`) are dropped: they build on the refused link. */
  private skipping = false

  constructor(
    private readonly account: string,
    helloHead: ChainHead | null,
    private readonly access: AccessControl,
    private readonly send: (frame: StoreFrame) => Promise<void>,
    private readonly hooks: {
      /** The offer was refused: tell the device (a doc-error) before it gets the relay's chain. */
      refused: (error: TandemError) => Promise<void>
      /** The offer appended links: every session of the account learns them. */
      grew: (offer: ChainOffer) => void
    }
  ) {
    this.deviceHead = helloHead
  }

  /** Sends welcome with `head` now (so it precedes every other frame), then the links the device lacks. */
  start(head: ChainHead | null): Promise<void> {
    void this.send({ type: 'welcome', head })
    return this.enqueue(() => this.sendMissing())
  }

  /**
   * A revoked device's hello: welcome with `head`, then the links from the one that revokes it
   * on, even those its hello's head says it holds (the whole chain when that head is not on
   * the relay's). It may hold them only from another device of the account, unconfirmed, and
   * it erases the account only once a relay holds the link that revokes it: this copy is how
   * it learns that. Sending only what it lacked sent such a device nothing, and it was refused
   * on every redial and never erased (found by the simulator, seed 20261151).
   */
  startRevoked(head: ChainHead, peerId: string): Promise<void> {
    void this.send({ type: 'welcome', head })
    return this.enqueue(async () => {
      const links = await this.access.wholeChain(this.account)
      const at = this.deviceHead === null ? undefined : links[this.deviceHead.version - 1]
      const onChain = at !== undefined && sameBytes(linkHash(at), this.deviceHead!.hash)
      const key = signingKeyFromPeerId(peerId)
      const revoking = key === null ? -1 : links.findIndex(l => l.revoked.some(k => sameBytes(k, key)))
      await this.sendLinks(links.slice(onChain ? Math.min(revoking < 0 ? links.length : revoking, this.deviceHead!.version) : 0))
    })
  }

  /** The account's chain grew: sends the device what it now lacks. */
  changed(): Promise<void> {
    return this.enqueue(() => this.sendMissing())
  }

  /** One `offer-links` run from the device. */
  offer(links: ChainLink[], last: boolean): Promise<void> {
    return this.enqueue(async () => {
      if (this.skipping) {
        this.skipping = !last
        return
      }
      const result = await this.access.offerLinks(this.account, links)
      if (result.accepted.length > 0) this.hooks.grew(result)
      if (result.refused === null) {
        // the device's head here stays where it was: the links it offered go back to it, and
        // that echo is its confirmation that the relay holds them (a relay is the arbiter of forks)
        const missing = await this.access.linksFor(this.account, this.deviceHead)
        // none when its hello named the very head it offers, one the relay did not hold then (it
        // held no chain of the account: lost in a crash), and another device's offer or its own
        // put it there since: the offered links go back all the same. Without this echo such a
        // device never learned that a relay held its revocation, never wrote in the generation
        // it started, and its uploads waited for ever (simulator, seed 35).
        const echo = missing.length > 0 ? missing : [...links, ...(await this.access.linksFor(this.account, headOfLinks(links)))]
        await this.sendLinks(echo)
        return
      }
      // the device's chain and the relay's part here: it gets the typed reason, then the whole
      // chain, so it can rebase (a fork) or learn it is out (a revocation) without asking
      this.skipping = !last
      await this.hooks.refused(result.refused)
      await this.sendLinks(await this.access.wholeChain(this.account))
    })
  }

  private async sendMissing(): Promise<void> {
    await this.sendLinks(await this.access.linksFor(this.account, this.deviceHead))
  }

  private async sendLinks(links: ChainLink[]): Promise<void> {
    if (links.length === 0) return
    const runs = splitLinks(links)
    for (const [i, run] of runs.entries()) await this.send({ type: 'links', links: run, last: i === runs.length - 1 })
    this.deviceHead = headOfLinks(links)
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step)
    this.queue = run.catch(() => {})
    return run
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((x, i) => x === b[i])
