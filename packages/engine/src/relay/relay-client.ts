import { type ChainHead, ErrorCode, headOfLinks, sameHead, type SignedMembership, splitLinks, type TandemError } from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import type * as Y from 'yjs'
import { StoreCorruptError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { RelayConnection, type RelayConnectionHandler } from './relay-connection.js'
import type { RelayOrigin } from './relay-origin.js'
import { RelayReader } from './relay-reader.js'
import { RefusedSubscriptions } from './refused-subscriptions.js'
import type { RelayState } from './relay-state.js'
import { RelayStateSaver } from './relay-state-saver.js'
import { RelayUploader } from './relay-uploader.js'
import type { StateVector } from './state-vector.js'

export { RelayOrigin } from './relay-origin.js'
export type { ChangeSource, RelayChain, RelayClientEvents, RelayClientHost, RelayProgress } from './relay-client-host.js'
import type { ChangeSource, RelayClientEvents, RelayClientHost } from './relay-client-host.js'

const RETRY_ON_RECONNECT = new Set(['ERR_ACCESS_DENIED', 'ERR_DEVICE_NOT_LISTED'])
/** Errors the relay sends only about a membership record a device offers (StoreSession's `membership` frame), never about a subscription. */
const OFFER_ANSWERS = new Set<string>([ErrorCode.StaleMembership, ErrorCode.InvalidMembership])
/** Uploads refused as stale on one connection before it is given up for a new one (a normal revocation needs a few). */
const MAX_STALE_REFUSALS = 1_000

/**
 * Keeps this device's docs in one relay's log: subscribes to every doc since
 * its cursor and applies what comes (RelayReader), and uploads what the relay
 * lacks (RelayUploader: its own writes at once, peers' after a grace period).
 * Uploads go through a persistent outbox and are resent byte-identical until
 * acked, so the relay stores each exactly once; cursors and "sent" go to disk
 * through RelayStateSaver. This class owns the connection and wires the parts.
 */
export class RelayClient {
  /** ERR_STALE_EPOCH refusals per connection (see MAX_STALE_REFUSALS). */
  private readonly staleRefusals = new WeakMap<RelayConnection, number>()
  private conn: RelayConnection | null = null
  /** Docs subscribed on the current connection, and whether with `refetch` (a damaged store's repair). */
  private readonly subscribedHere = new Map<string, boolean>()
  /** The connection `connected` subscribed every open doc on; before, a doc opened waits for that pass (else a grant's chat came twice). */
  private subscribedOn: RelayConnection | null = null
  /** The head of the chain the relay holds, as it last said. */
  private relayHead: ChainHead | null = null
  private stopped = false
  private readonly saver: RelayStateSaver
  private readonly reader: RelayReader
  private readonly uploader: RelayUploader
  /** What the connection hands the frames it gets to. */
  private readonly handler: RelayConnectionHandler
  /** Subscriptions refused on this connection that are asked for again once links or a record come. */
  private readonly refusals: RefusedSubscriptions

  constructor(
    readonly relayId: string,
    readonly host: RelayClientHost,
    private readonly state: RelayState,
    runtime: Runtime,
    private readonly events: RelayClientEvents
  ) {
    const connection = (): RelayConnection | null => (this.isConnected ? this.conn : null)
    this.refusals = new RefusedSubscriptions(docId => host.membership(docId))
    this.saver = new RelayStateSaver(state, runtime, events)
    this.uploader = new RelayUploader(host, state, this.saver, runtime, connection, events)
    this.reader = new RelayReader(relayId, host, state, this.saver, connection, {
      onProgress: progress => {
        events.onProgress(progress)
      },
      onLive: (relay, live) => {
        events.onLive(relay, live)
      },
      onError: error => {
        events.onError(error)
      },
      onRejected: (docId, error, waiting) => {
        events.onRejected(docId, error, waiting)
      },
      onAdvanced: docId => {
        this.uploader.snapshotIfDue(docId)
      },
      onLiveApplied: (docId, liveId) => {
        this.uploader.watchLive(docId, liveId, ids => this.reader.uncommitted(docId, ids))
      },
      onLiveLost: docId => {
        // uploaded by us, as what a peer brought, if the relay still lacks it after the grace period
        this.uploader.scheduleGrace(docId)
      },
      onRefetched: docId => {
        // (damage found after this client loaded: the outbox goes back in now)
        void this.restoreOwnWrites(docId).then(() => {
          host.refetched(docId)
        })
      },
      onSettled: (relay, docId) => {
        events.onSettled(relay, docId)
      }
    })
    const { reader, uploader } = this
    this.handler = {
      hello: () => ({ accountId: host.chain.accountId, head: host.chain.head() }),
      opened: (conn, relayHead) => this.connected(conn, relayHead),
      links: async links => {
        this.relayHead = headOfLinks(links)
        const before = host.chain.head()
        await host.chain.receive(links)
        if (!sameHead(before, host.chain.head())) this.allowDenied()
        // the relay sent what it thought we lacked, and ours could not place it (a link it
        // builds on is missing here): a new connection's hello gets the relay's whole chain
        if (this.relayHead !== null && !host.chain.isOnChain(this.relayHead)) {
          this.conn?.close()
          return
        }
        // ours may now be ahead (a link of ours rebased on the relay's): offer it
        this.pushChain()
        this.subscribeAgain(this.refusals.takeAll())
      },
      activity: devices => {
        host.deviceActivity(devices)
      },
      memberOf: record => {
        host.memberOf(record)
      },
      closed: (conn, error) => {
        this.connectionClosed(conn, error)
      },
      failed: error => {
        events.onError(error)
      },
      backlog: (docId, head, entries, bytes) => {
        reader.backlog(docId, head, entries, bytes)
      },
      caughtUp: docId => {
        reader.caughtUp(docId)
      },
      received: (docId, seq, blob, snapshot) => reader.received(docId, seq, blob, snapshot),
      live: (docId, liveId, blob) => reader.live(docId, liveId, blob),
      committed: (docId, seq, liveId) => reader.committed(docId, seq, liveId),
      acked: (docId, uploadId, seq, tail) => uploader.acked(docId, uploadId, seq, tail),
      docError: (conn, docId, uploadId, error) => {
        this.docError(conn, docId, uploadId, error)
      },
      ephemeral: (docId, from, payload) => {
        events.onEphemeral(docId, from, payload)
      }
    }
  }

  /** Origin of the updates this client applies: never uploaded back to the relay. */
  get origin(): RelayOrigin {
    return this.reader.origin
  }

  async load(): Promise<void> {
    const outbox = await this.state.load()
    this.uploader.loaded(outbox)
    for (const docId of new Set(outbox.map(e => e.docId))) if (this.host.needsRefetch(docId)) await this.restoreOwnWrites(docId)
  }

  /**
   * A doc found damaged may have lost writes of ours the relay does not hold yet. They are
   * still in the outbox, and once the relay has them it sends them back to us only as echoes
   * (a refetch that ran before their ack missed them): apply them to the doc from there.
   * Found by the simulator (seed 40000644: a device lacked its own message for good).
   */
  private async restoreOwnWrites(docId: string): Promise<void> {
    const waiting = this.uploader.waiting(docId)
    if (waiting.length === 0) return
    const doc = await this.host.open(docId)
    for (const e of waiting) {
      try {
        // applied as the relay's: it is in the outbox already, so it is not cut again
        this.host.apply(docId, doc, (await this.host.codec.decode(docId, e.blob)).update, this.reader.origin)
      } catch (err) {
        this.events.onError(new StoreCorruptError(`outbox entry ${e.uploadId} of ${docId} could not be read back`, { cause: err }))
      }
    }
  }

  /** Sends sealed typing / presence data of a doc we subscribed to; false when not connected. */
  sendEphemeral(docId: string, sealed: Uint8Array): boolean {
    if (!this.isConnected) return false
    void this.conn!.send({ type: 'ephemeral', docId, payload: sealed })
    return true
  }

  /** This device holds more keys: blobs that waited for one are read now (and chat docs refused for want of a record are asked for again). */
  keysChanged(): Promise<void> {
    this.subscribeAgain(this.refusals.takeRecorded())
    return this.reader.keysChanged()
  }

  get isConnected(): boolean {
    return this.conn?.isOpen === true
  }

  /** Blobs still waiting for the relay's ack. */
  get pending(): number {
    return this.uploader.pending
  }

  /** The relay answered our subscription to this doc on this connection: what we upload reaches its other subscribers at once. */
  carries(docId: string): boolean {
    return this.reader.carries(docId)
  }

  /** Connected, and the relay has not sent all it holds of this doc yet: see RelayFirst. */
  backfilling(docId: string): boolean {
    return this.reader.backfilling(docId)
  }

  /**
   * Every doc we keep on the relay is subscribed and caught up: what other devices upload
   * reaches us at once. (Listed in our `peers` frames only then: a device still catching up
   * gets no live blobs, and a peer that left its writes to the relay would leave us waiting.)
   */
  get isLive(): boolean {
    return this.reader.isLive
  }

  /** What the relay holds of a doc, as recorded on our disk: messages inside it are "sent". */
  ackedSv(docId: string): StateVector {
    return this.state.doc(docId).ackedDurable
  }

  /** Resolves once nothing of ours is on its way to the relay (see RelayUploader.settle). */
  settle(timeoutMs: number): Promise<void> {
    return this.uploader.settle(timeoutMs)
  }

  /** A new /tandem/store stream to this relay (the network redials after a drop). */
  addLink(link: Link): void {
    this.conn?.close()
    const conn = new RelayConnection(link, this.handler)
    this.conn = conn
    conn.start()
  }

  stop(): void {
    this.stopped = true
    this.uploader.stop()
    this.saver.stop()
    this.conn?.close()
  }

  private subscribe(docId: string): void {
    this.subscribedHere.set(docId, this.host.needsRefetch(docId))
    this.refusals.asked(docId)
    this.reader.subscribe(this.conn!, docId)
  }

  /** Nothing of the doc waits to go to this relay (see RelayUploader.holdsAll). */
  holdsAll(docId: string, doc: Y.Doc): boolean {
    return this.uploader.holdsAll(docId, doc)
  }

  /** This account was removed from a chat: what of its docs the outbox holds goes for the relay's answer (see RelayUploader.discardRefused). */
  chatLeft(): void {
    this.uploader.chatLeft()
  }

  /** Saves the doc's state now if it says the relay holds more than the state on disk does ("sent" then follows). */
  saveAcked = (docId: string): void => this.saver.saveIfAckUnreported(docId)

  /** Whether an upload of the doc waits for this relay's answer. */
  awaitsAnswer(docId: string): boolean {
    return this.uploader.awaitsAnswer(docId)
  }

  /** A new membership record of a chat (members changed): the relay gets it now, not only with the next subscription. */
  sendMembership(record: SignedMembership): void {
    this.allowDenied()
    if (this.isConnected) void this.conn!.send({ type: 'membership', record })
  }

  /** Docs may be routed here now that were not (a shared chat's relay became known): each one not subscribed yet is, and what the relay lacks goes up. */
  routesChanged(): void {
    if (!this.isConnected || this.subscribedOn !== this.conn) return
    for (const docId of this.host.docIds()) if (!this.subscribedHere.has(docId)) this.docOpened(docId)
  }

  /** A doc opened locally: subscribe to it and upload what the relay lacks. */
  docOpened(docId: string): void {
    // a doc opened again after it left memory is still subscribed on this connection, unless
    // reading it from disk found it damaged: then all of it is asked for again
    if (this.isConnected && this.subscribedOn === this.conn && (!this.subscribedHere.has(docId) || (this.host.needsRefetch(docId) && this.subscribedHere.get(docId) === false)))
      this.subscribe(docId)
    this.uploader.scheduleFlush(docId)
    this.uploader.scheduleGrace(docId)
  }

  /** A doc changed: our own writes go up at the end of the burst (coalesced); a peer's after a grace period, only what the relay still lacks then. */
  docUpdated(docId: string, source: ChangeSource, update: Uint8Array, transaction?: Y.Transaction): void {
    if (source === 'local') this.uploader.ownWrite(docId, update, transaction)
    else if (source === 'peer') this.uploader.scheduleGrace(docId)
  }

  /**
   * Offers the relay the links of ours it lacks (a link this device signed, or one a peer
   * brought). Only links on top of the relay's head: when ours forked off it, the relay
   * sends its chain and fork choice settles it here first.
   */
  pushChain(): void {
    const chain = this.host.chain
    if (!this.isConnected || (this.relayHead !== null && !chain.isOnChain(this.relayHead))) return
    const links = chain.linksAfter(this.relayHead)
    if (links.length === 0) return
    const runs = splitLinks(links)
    runs.forEach((run, i) => {
      void this.conn!.send({ type: 'offer-links', links: run, last: i === runs.length - 1 })
    })
  }

  private async connected(conn: RelayConnection, relayHead: ChainHead | null): Promise<void> {
    this.relayHead = relayHead
    if (relayHead !== null) await this.host.chain.confirmHead(relayHead)
    // (closed meanwhile, and a newer connection up: its own pass subscribes, and it must stay
    // the one the outbox went on and new docs are subscribed on)
    if (conn !== this.conn) return
    this.pushChain()
    this.refusals.clear() // (every doc is subscribed anew below)
    this.reader.connected()
    this.subscribedHere.clear()
    this.subscribedOn = conn
    for (const docId of this.host.docIds()) this.subscribe(docId)
    this.uploader.resend(conn)
    for (const docId of this.host.docIds()) {
      await this.uploader.flush(docId, false)
      this.uploader.scheduleGrace(docId)
    }
    this.events.onConnection(this.relayId, true)
  }

  /** Docs an upload of which was refused as not allowed since the chain or a membership last changed (see docError). */
  private readonly deniedOnce = new Set<string>()

  /** The chain or a chat's membership changed: uploads refused as not allowed may be taken now. */
  private allowDenied(): void {
    this.deniedOnce.clear()
    this.uploader.allowDenied()
  }

  /** Subscribes again to docs the relay refused on this connection (RefusedSubscriptions says which, and when). */
  private subscribeAgain(docIds: string[]): void {
    if (this.isConnected) for (const docId of docIds) this.subscribe(docId)
  }

  private connectionClosed(conn: RelayConnection, error?: Error): void {
    if (this.conn !== conn) return
    this.conn = null
    this.uploader.disconnected()
    this.reader.disconnected()
    if (!this.stopped) this.events.onConnection(this.relayId, false, error)
  }

  private docError(conn: RelayConnection, docId: string, uploadId: number, error: TandemError): void {
    this.uploader.refused(uploadId)
    if (uploadId !== 0 && error.code === ErrorCode.StaleEpoch) {
      // a device was revoked since it was sealed: seal it again in the new generation (not an error to show).
      // Bounded: a relay that keeps waiting for an upload this device no longer holds is left for a new connection
      const refusals = (this.staleRefusals.get(conn) ?? 0) + 1
      this.staleRefusals.set(conn, refusals)
      if (refusals > MAX_STALE_REFUSALS) {
        this.events.onError(error)
        conn.close()
        return
      }
      this.uploader.reseal(uploadId)
      return
    }
    // (a stale or invalid record answers the record a subscription offers, not the subscription: the relay serves the
    // doc under the record it holds, and tells of it. Taken as a refusal, a refetch of a damaged doc it then served
    // never cleared its repair mark: simulator seeds 20261167, 20261141, 20261152)
    if (uploadId === 0) this.reader.offers.answered(docId)
    if (uploadId === 0 && !OFFER_ANSWERS.has(error.code)) {
      this.reader.refused(docId)
      if (RETRY_ON_RECONNECT.has(error.code)) this.refusals.refuse(docId)
      // (refused while offered no record: the chat's record may have come since the subscription went)
      this.subscribeAgain(this.refusals.takeRecorded())
    }
    this.events.onError(error)
    // (a chat this account knows it was removed from: the refused upload leaves the outbox, see discardRefused)
    if (uploadId !== 0 && this.uploader.isLeft(docId)) {
      void this.uploader.discardRefused(uploadId).catch((err: unknown) => {
        this.events.onError(err as TandemError)
      })
      return
    }
    // An upload refused for a state the next handshake repairs (not listed yet, membership
    // not recorded): reconnect, which resends the setup and then the outbox. Refused again
    // with nothing learnt since, the doc's uploads wait for the chain or its membership to change.
    if (uploadId !== 0 && RETRY_ON_RECONNECT.has(error.code)) {
      if (this.deniedOnce.has(docId)) this.uploader.holds.deny(docId)
      else {
        this.deniedOnce.add(docId)
        conn.close()
      }
    }
  }
}
