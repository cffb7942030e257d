/**
 * Whether a relay is live for this device on the current connection: every doc subscribed
 * there has been answered and caught up, so what other devices upload reaches us at once.
 * Our `peers` frames list the relay only then, and a peer that reaches us through it leaves
 * its own writes to the relay instead of sending them down the circuit too.
 *
 * Once live on a connection, a chat's next segment subscribed for the first time there, while
 * the chat doc is caught up, does not take that away while it catches up: the relay serves it
 * to whoever it serves the chat doc, its history comes from the relay's log from our cursor,
 * and what is appended after our subscription comes live, so nothing a peer leaves to the
 * relay is lost in between. Before, every new segment made each device drop the relay from
 * its `peers` frame and take it back, and every peer answered the drop by asking for every doc
 * again: in a burst of 20,000 messages to two devices through a relay, ~550 requests per
 * device and 8.5 MB of replies from the sender (bench `throughput`, 2026-12-07). Any other
 * doc still counts until it has caught up: a new chat, whose membership record the relay may
 * not hold yet (taken for every new doc, simulator seeds 20261144, 20261163 and 20261204
 * stopped converging), and a doc subscribed again (a refetch, a reconnect).
 */
export class RelayLiveness {
  /** Docs subscribed on this connection whose `subscribed` answer has not come yet. */
  private readonly subscribing = new Set<string>()
  /** Segments first subscribed after the relay went live on this connection, until caught up. */
  private readonly joinedLive = new Set<string>()
  /** Docs subscribed on this connection, answered or not. */
  private readonly seen = new Set<string>()
  private wentLive = false
  private was = false

  constructor(
    /** The docs the relay answered on this connection, and whether it has sent all it holds of each. */
    private readonly progress: ReadonlyMap<string, { readonly caughtUp: boolean }>,
    private readonly connected: () => boolean,
    private readonly changed: (live: boolean) => void
  ) {}

  get isLive(): boolean {
    if (!this.connected()) return false
    for (const docId of this.subscribing) if (!this.joinedLive.has(docId)) return false
    for (const [docId, p] of this.progress) if (!p.caughtUp && !this.joinedLive.has(docId)) return false
    return true
  }

  /** A segment first subscribed after the relay went live on this connection, not yet caught up or refused. */
  joining(docId: string): boolean {
    return this.joinedLive.has(docId)
  }

  /** A subscription was sent; `servedAsLive`: a segment whose chat doc is caught up on this connection. */
  subscribed(docId: string, servedAsLive: boolean): void {
    if (this.wentLive && servedAsLive && !this.seen.has(docId)) this.joinedLive.add(docId)
    this.seen.add(docId)
    this.subscribing.add(docId)
    this.check()
  }

  /** The relay answered a subscription (its backlog came). */
  answered(docId: string): void {
    this.subscribing.delete(docId)
    this.check()
  }

  /** The relay has sent all it holds of a doc, or refused it (it will send nothing of it). */
  settled(docId: string): void {
    this.subscribing.delete(docId)
    this.joinedLive.delete(docId)
    this.check()
  }

  /** A new connection, or the old one's loss: nothing is subscribed on it (the loss is news enough: onConnection). */
  reset(): void {
    this.subscribing.clear()
    this.joinedLive.clear()
    this.seen.clear()
    this.wentLive = false
    this.was = false
  }

  private check(): void {
    const live = this.isLive
    if (live) this.wentLive = true
    if (live === this.was) return
    this.was = live
    this.changed(live)
  }
}
