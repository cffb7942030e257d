import { TandemError } from '@tandem/protocol'
import * as Y from 'yjs'
import type { DocHost } from '../store/doc-host.js'
import type { Link } from '@tandem/transport'
import { REFUSALS } from './refusals.js'
import { decodeSv, encodeSv } from '../relay/state-vector.js'
import { SyncSession, type SessionHost } from './session.js'

/** What the sync layer needs to know of this device's relays (see the `peers` frame). */
export interface RelayPaths {
  /** The relay an update came from, or null. */
  relayOf(origin: unknown): string | null
  /** Relays that are live for us (every doc subscribed and caught up): listed in our `peers` frames. */
  live(): string[]
  /** This relay is live for the doc: what we upload reaches its other subscribers at once. */
  carries(relayId: string, docId: string): boolean
}

export interface SyncManagerEvents {
  onPeerOpen(peerId: string): void
  onPeerClose(peerId: string, error?: Error): void
  /** A peer was refused (not a listed device, another account, bad frames): typed, never thrown. */
  onPeerRefused(peerId: string, error: TandemError): void
}

/**
 * Owns the sync sessions: at most one per peer (when both sides dial, the link
 * opened by the lower peer id wins on both ends), fans local and remote doc
 * updates out to every other session that shares the doc — except where the peer
 * gets the update another way: from its source (a device or relay it has a
 * session with), or, for our own writes, from the relay whose circuit the
 * session runs over (one live path per pair of devices).
 */
export class SyncManager {
  private readonly sessions = new Map<string, SyncSession>()
  private readonly pending = new Set<SyncSession>()
  private announcing = false
  private lostPeer = false
  private readonly unsubscribe: Array<() => void>

  constructor(
    private readonly localPeerId: string,
    private readonly host: SessionHost,
    docs: DocHost,
    private readonly events: SyncManagerEvents,
    private readonly relays: RelayPaths
  ) {
    this.unsubscribe = [
      docs.onUpdate((docId, update, origin) => {
        const from = origin instanceof SyncSession ? origin.remotePeerId : relays.relayOf(origin)
        for (const s of this.sessions.values()) {
          if (s === origin || (from !== null ? s.reaches(from) : this.carriedByRelay(s, docId))) continue
          s.sendUpdate(docId, update)
        }
      }),
      docs.onOpen(docId => {
        for (const s of this.sessions.values()) s.docOpened(docId)
      })
    ]
  }

  /** Hands a new link to the sync core; the session authenticates it. */
  addLink(link: Link): void {
    const session = new SyncSession(link, this.host, {
      onOpen: s => {
        this.opened(s)
      },
      onClose: (s, error) => {
        this.closed(s, error)
      },
      replyBase: (s, docId, doc, stateVector) => this.replyBase(s, docId, doc, stateVector)
    })
    this.pending.add(session)
    session.start()
  }

  connectedPeers(): string[] {
    return [...this.sessions.keys()]
  }

  /** Ends the session with a peer (a revoked device), telling it why: the links that revoke it first, so it learns for sure. */
  closePeer(peerId: string, error: TandemError): void {
    this.sessions.get(peerId)?.revoke(error)
  }

  /** The account's chain grew: every open session sends its peer what it lacks. */
  chainChanged(): void {
    for (const s of this.sessions.values()) s.chainChanged()
  }

  /** Sends sealed typing or presence of a doc to every device with an open session; false when none took it. */
  sendEphemeral(docId: string, sealed: Uint8Array): boolean {
    let sent = false
    for (const s of this.sessions.values()) if (s.sendEphemeral(docId, sealed)) sent = true
    return sent
  }

  isConnected(peerId: string): boolean {
    return this.sessions.has(peerId)
  }

  stop(): void {
    for (const u of this.unsubscribe) u()
    for (const s of [...this.pending, ...this.sessions.values()]) s.close()
  }

  /** A relay became live or stopped being, or its store session closed (`lost`): peers learn it; after a loss they resync. */
  relaysChanged(lost: boolean): void {
    this.announcePeers(lost)
  }

  /**
   * Our own write reaches this peer through the relay whose circuit the session runs
   * over: we upload it there, and the relay sends it on to the peer, live. Sending it on
   * the circuit too would cost each side a second seal and parse of every update.
   */
  private carriedByRelay(session: SyncSession, docId: string): boolean {
    const relay = session.link.relayedVia
    return relay !== undefined && session.reaches(relay) && this.relays.carries(relay, docId)
  }

  /**
   * A sync-reply on a relay's circuit leaves out our own writes of this session, which reach
   * the peer through that relay, as our live updates do (see carriedByRelay). A doc's request
   * crosses its live updates, so under a burst the reply repeated them: in a 20,000-message
   * burst to two devices through a relay, each got every new segment a second time in replies
   * (1.2–2.6 MB per device against the burst's 4.6 MB of updates, bench `throughput`,
   * 2026-12-07). Not what the relay holds of others: a peer that lost its own write in a crash
   * (its upload got out first) gets it back from this reply (chaos seed 25 stopped converging
   * when the reply left out everything the relay held).
   */
  private replyBase(session: SyncSession, docId: string, doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
    const relay = session.link.relayedVia
    if (relay === undefined || !session.liveAt(relay) || !this.relays.carries(relay, docId)) return stateVector
    const base = decodeSv(stateVector)
    const ours = Y.getState(doc.store, doc.clientID)
    if ((base.get(doc.clientID) ?? 0) >= ours) return stateVector
    base.set(doc.clientID, ours)
    return encodeSv(base)
  }

  private opened(session: SyncSession): void {
    this.pending.delete(session)
    const peer = session.remotePeerId
    const existing = this.sessions.get(peer)
    if (existing !== undefined) {
      if (!this.preferred(session)) {
        session.close()
        return
      }
      this.sessions.delete(peer)
      existing.close()
    }
    this.sessions.set(peer, session)
    // the new peer learns our paths before anything else we send (our requests follow): until
    // then it would forward us what we get from our relays (a whole backfill, measured)
    session.sendPeers(this.paths())
    this.events.onPeerOpen(peer)
    this.announcePeers()
  }

  /**
   * Every session learns, at the end of this burst, which devices and relays we have sessions with.
   * After a loss, each also gets a sync-request for every doc, sent after that news on the
   * same stream: the peer then has everything it skipped forwarding to us (because we
   * had the lost one) in its reply, and forwards what comes later.
   */
  private announcePeers(lost = false): void {
    this.lostPeer ||= lost
    if (this.announcing) return
    this.announcing = true
    this.host.defer(() => {
      const resync = this.lostPeer
      this.announcing = false
      this.lostPeer = false
      const ids = this.paths()
      for (const s of this.sessions.values()) {
        s.sendPeers(ids)
        if (resync) s.resync()
      }
    })
  }

  /** The devices and relays we have live sessions with (what a `peers` frame lists). */
  private paths(): string[] {
    return [...this.sessions.keys(), ...this.relays.live()]
  }

  private closed(session: SyncSession, error?: Error): void {
    this.pending.delete(session)
    const peer = session.remotePeerId
    const refusal = error instanceof TandemError && (session.peerAccountId === null || REFUSALS.has(error.code))
    if (this.sessions.get(peer) === session) {
      this.sessions.delete(peer)
      this.events.onPeerClose(peer, error)
      this.announcePeers(true)
    }
    // refused, by us or by the peer (it revoked us, say): do not keep redialing it
    if (refusal) this.events.onPeerRefused(peer, error)
  }

  /** Deterministic on both ends: keep the link that the lower peer id dialed. */
  private preferred(session: SyncSession): boolean {
    const weDialed = session.link.direction === 'outbound'
    return weDialed === this.localPeerId < session.remotePeerId
  }
}
