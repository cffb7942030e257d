import type { TandemError } from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import type { AccessRecords } from '../access/access-records.js'
import type { HistoryBackend } from '../history/backend.js'
import type { Logger } from '../logger.js'
import type { RelayMetrics } from '../metrics.js'
import { AccessControl } from './access.js'
import { PeerWakeups } from './peer-wakeups.js'
import { StoreSession } from './store-session.js'
import { systemTimers, type RelayTimers } from '../timers.js'

/**
 * The /tandem/store service: one StoreSession per device stream, live wake-ups
 * of subscriptions when a doc's log grows, ephemeral fan-out, and revocation.
 */
export class StoreService {
  readonly access: AccessControl
  private readonly sessions = new Set<StoreSession>()
  /** Per doc, the sessions subscribed to it: a commit or a live blob reaches them without a walk over every session. */
  private readonly subscribers = new Map<string, Set<StoreSession>>()
  private readonly unsubscribe: () => void
  /** Woken when a peer's standing may have changed (see {@link whenServed}). */
  private readonly standing = new PeerWakeups()

  constructor(
    readonly history: HistoryBackend,
    records: AccessRecords,
    readonly metrics: RelayMetrics,
    private readonly logger: Logger,
    readonly timers: RelayTimers = systemTimers
  ) {
    this.access = new AccessControl(records)
    this.metrics.trackHistory(() => history.stats())
    this.unsubscribe = history.onCommit(docId => {
      for (const s of this.subscribers.get(docId) ?? []) s.subscriptions.get(docId)?.wake()
    })
  }

  addLink(link: Link): void {
    new StoreSession(link, this).start()
  }

  get sessionCount(): number {
    return this.sessions.size
  }

  sessionOpened(session: StoreSession): void {
    this.sessions.add(session)
    this.metrics.sessions.set(this.sessions.size)
    this.logger.debug({ peer: session.peerId, account: session.account }, 'store session opened')
    this.standing.wake(session.peerId)
  }

  /**
   * Whether the relay serves `peerId` now: it has a /tandem/store session past its hello (a
   * certificate of its account, for its own peer id) and the newest device list the relay
   * holds for that account names it and does not revoke it.
   */
  async isServed(peerId: string): Promise<boolean> {
    for (const s of [...this.sessions]) {
      if (s.peerId === peerId && (await this.access.deviceStatus(s.account, peerId)) === 'listed') return true
    }
    return false
  }

  /** {@link isServed}, or once it becomes so; false if `signal` aborts first (the relay host's bound on the wait). */
  async whenServed(peerId: string, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      const changed = this.standing.next(peerId, signal)
      if (await this.isServed(peerId)) {
        this.standing.wake(peerId) // drops this waiter (and lets any other re-check)
        return true
      }
      if (!(await changed)) return false
    }
  }

  /** A session subscribed to a doc (true) or stopped (false). */
  subscribed(session: StoreSession, docId: string, on: boolean): void {
    let set = this.subscribers.get(docId)
    if (on) {
      if (set === undefined) {
        set = new Set()
        this.subscribers.set(docId, set)
      }
      set.add(session)
    } else if (set !== undefined) {
      set.delete(session)
      if (set.size === 0) this.subscribers.delete(docId)
    }
  }

  sessionClosed(session: StoreSession): void {
    this.sessions.delete(session)
    this.metrics.sessions.set(this.sessions.size)
  }

  refused(session: StoreSession, error: TandemError): void {
    this.metrics.refusals.inc({ code: error.code })
    this.logger.info({ peer: session.peerId, code: error.code, reason: error.message }, 'store session refused')
  }

  refusedDoc(session: StoreSession, error: TandemError): void {
    this.metrics.refusals.inc({ code: error.code })
    this.logger.debug({ peer: session.peerId, code: error.code, reason: error.message }, 'doc request refused')
  }

  /** An account's device list changed: devices it revoked lose their streams at once. */
  async deviceListChanged(accountId: string): Promise<void> {
    const sessions = [...this.sessions].filter(s => s.account === accountId)
    await Promise.all(sessions.map(s => s.recheck()))
    for (const s of sessions) this.standing.wake(s.peerId)
  }

  /** Typing and presence: to the doc's other subscribers right now, never stored. */
  fanOut(from: StoreSession, docId: string, payload: Uint8Array): void {
    for (const s of this.subscribers.get(docId) ?? []) {
      if (s !== from) s.trySend({ type: 'ephemeral-data', docId, from: from.peerId, payload })
    }
  }

  /** An append that arrived whole: to the doc's other caught-up subscribers now (see StoreSession.sendLive). */
  forwardLive(from: StoreSession, docId: string, uploadKey: string, blob: Uint8Array): void {
    for (const s of this.subscribers.get(docId) ?? []) {
      if (s !== from && s.sendLive(docId, uploadKey, blob)) this.metrics.liveBytes.inc(blob.byteLength)
    }
  }

  stop(): void {
    this.unsubscribe()
    for (const s of [...this.sessions]) s.link.close()
  }
}
