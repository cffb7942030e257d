import { LinkRateLimitedError, NotAuthenticatedError, type ChainPolicy, type SignatureBackend, type SignedMembership, type TandemError } from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import type { AccessRecords } from '../access/access-records.js'
import type { HistoryBackend } from '../history/backend.js'
import type { Logger } from '../logger.js'
import type { RelayMetrics } from '../metrics.js'
import { DEFAULT_RELAY_LIMITS } from '../node/relay-limits.js'
import { AccessControl } from './access.js'
import { DeviceActivityLog } from './device-activity.js'
import { PeerWakeups } from './peer-wakeups.js'
import { StoreSession } from './store-session.js'
import { systemTimers, type RelayTimers } from '../timers.js'

export interface StoreServiceOptions {
  /** Who may append links: the device limit (default DEFAULT_MAX_DEVICES). */
  policy?: ChainPolicy
  /** Linking sessions (hello without an account) open at once; more are refused (RelayLimits.maxLinkingSessions). */
  maxLinkingSessions?: number
  /** A linking session is closed this long after its hello (RelayLimits.linkingSessionMs). */
  linkingSessionMs?: number
  /** A peer's last linking session closed and nothing else serves it: its circuit reservation may go. */
  linkingEnded?: (peerId: string) => void
  /** The clock of device activity (ms since the epoch). */
  now?: () => number
  /** Ed25519 for whole chains (default: the platform's native one; a simulator passes noble's). */
  signatures?: SignatureBackend
}

/**
 * The /tandem/store service: one StoreSession per device stream, live wake-ups
 * of subscriptions when a doc's log grows, ephemeral fan-out, each account's chain
 * pushed to its sessions as it grows (and revoked devices closed), linking sessions
 * bounded, and when each device was last served.
 */
export class StoreService {
  readonly access: AccessControl
  private readonly sessions = new Set<StoreSession>()
  /** Per doc, the sessions subscribed to it: a commit or a live blob reaches them without a walk over every session. */
  private readonly subscribers = new Map<string, Set<StoreSession>>()
  private readonly unsubscribe: () => void
  /** Woken when a peer's standing may have changed (see {@link whenServed}). */
  private readonly standing = new PeerWakeups()
  private readonly activity: DeviceActivityLog
  /** Linking sessions and their deadlines. */
  private readonly linking = new Map<StoreSession, unknown>()
  private readonly maxLinking: number
  private readonly linkingMs: number

  constructor(
    readonly history: HistoryBackend,
    records: AccessRecords,
    readonly metrics: RelayMetrics,
    private readonly logger: Logger,
    readonly timers: RelayTimers = systemTimers,
    private readonly options: StoreServiceOptions = {}
  ) {
    this.access = new AccessControl(records, {
      ...(options.policy !== undefined ? { policy: options.policy } : {}),
      ...(options.signatures !== undefined ? { signatures: options.signatures } : {})
    })
    this.activity = new DeviceActivityLog(records, timers, options.now ?? Date.now)
    this.maxLinking = options.maxLinkingSessions ?? DEFAULT_RELAY_LIMITS.maxLinkingSessions
    this.linkingMs = options.linkingSessionMs ?? DEFAULT_RELAY_LIMITS.linkingSessionMs
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

  get linkingCount(): number {
    return this.linking.size
  }

  /**
   * Counts a session without an account against maxLinkingSessions and closes it at its
   * deadline; throws LinkRateLimitedError when every place is taken.
   */
  admitLinking(session: StoreSession): void {
    if (this.linking.size >= this.maxLinking) {
      throw new LinkRateLimitedError(`the relay holds ${this.maxLinking} sessions of devices being linked: try again shortly`, 30_000)
    }
    const deadline = this.timers.setTimeout(() => {
      session.fail(new NotAuthenticatedError(`a session without an account lasts ${Math.round(this.linkingMs / 1000)} s: say hello again`))
    }, this.linkingMs)
    this.linking.set(session, deadline)
  }

  sessionOpened(session: StoreSession): void {
    this.sessions.add(session)
    this.metrics.sessions.set(this.sessions.size)
    this.logger.debug({ peer: session.peerId, account: session.account, stage: session.stage }, 'store session opened')
    this.standing.wake(session.peerId)
    if (session.stage === 'open') this.deviceCame(session)
  }

  /** An unlisted session that the account's chain now lists. */
  sessionListed(session: StoreSession): void {
    this.standing.wake(session.peerId)
    this.deviceCame(session)
  }

  /** A frame from an open session: its device's time moves on (at most once a minute, never told). */
  seen(session: StoreSession): void {
    void this.activity.seen(session.account, session.peerId)
  }

  /**
   * Whether the relay serves `peerId` now: it has a /tandem/store session past its hello
   * whose account's chain (as the relay holds it) lists it, or a linking session (a device
   * with no account yet must be reachable through the circuit while it is linked).
   */
  async isServed(peerId: string): Promise<boolean> {
    for (const s of [...this.sessions]) {
      if (s.peerId !== peerId) continue
      if (s.stage === 'linking') return true
      if (s.stage === 'open' && (await this.access.deviceStatus(s.account, peerId)) === 'listed') return true
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

  sessionClosed(session: StoreSession, stage: StoreSession['stage']): void {
    this.sessions.delete(session)
    this.metrics.sessions.set(this.sessions.size)
    const deadline = this.linking.get(session)
    if (deadline !== undefined) {
      this.timers.clearTimeout(deadline)
      this.linking.delete(session)
      void this.linkingClosed(session.peerId)
    }
    if (stage === 'open' || stage === 'revoked') void this.deviceLeft(session)
    else if (stage === 'unlisted') this.releaseActivity(session.account)
  }

  refused(session: StoreSession, error: TandemError): void {
    this.metrics.refusals.inc({ code: error.code })
    this.logger.info({ peer: session.peerId, code: error.code, reason: error.message }, 'store session refused')
  }

  refusedDoc(session: StoreSession, error: TandemError): void {
    this.metrics.refusals.inc({ code: error.code })
    this.logger.debug({ peer: session.peerId, code: error.code, reason: error.message }, 'doc request refused')
  }

  /** A doc's log names bytes the store does not hold: an operator must know (its subscribers are refused it, counted under the code). */
  storeCorrupt(docId: string, error: TandemError): void {
    this.logger.error({ doc: docId, code: error.code, reason: error.message }, 'stored history cannot be read back')
  }

  /** An account's chain grew: its sessions learn the links, devices it revokes lose their streams at once, ones it lists open. */
  chainGrew(accountId: string): void {
    const sessions = [...this.sessions].filter(s => s.account === accountId)
    for (const s of sessions) s.chainChanged()
    for (const s of sessions) this.standing.wake(s.peerId)
    void this.tellActivity(accountId)
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
      if (s !== from && s.sendLive(docId, uploadKey, blob, s.account === from.account)) this.metrics.liveBytes.inc(blob.byteLength)
    }
  }

  /** Closes every stream and writes the device activity still held; resolves once it is stored. */
  async stop(): Promise<void> {
    this.unsubscribe()
    for (const s of [...this.sessions]) s.link.close()
    for (const deadline of this.linking.values()) this.timers.clearTimeout(deadline)
    this.linking.clear()
    await this.activity.flush()
  }

  private async linkingClosed(peerId: string): Promise<void> {
    if (this.options.linkingEnded === undefined || [...this.linking.keys()].some(s => s.peerId === peerId)) return
    if (!(await this.isServed(peerId))) this.options.linkingEnded(peerId)
  }

  /** A listed device's session opened: its time is now, and its account's devices are told; it learns the chats naming its account. */
  private deviceCame(session: StoreSession): void {
    void this.activity.seen(session.account, session.peerId, true).then(() => this.tellActivity(session.account))
    void this.tellMemberships(session)
  }

  /**
   * A new membership record was stored: every open session of a member account gets it
   * (`member-of`), so a member's devices learn of a chat with none of its maker's devices online.
   * The accounts it `dropped` (the record before named them) get it too: the record that
   * removes an account no longer names it, and its devices learn their removal only from it.
   * An account that was never a member gets nothing.
   */
  membershipStored(record: SignedMembership, dropped: readonly string[] = []): void {
    const members = new Set(record.members)
    // an account the record dropped is served nothing of the chat from now on (its subscriptions end, refused)
    for (const s of this.sessions) if (!members.has(s.account)) s.dropChat(record.docId)
    if (record.keys == null) return // a chat of one account: its devices made it, and know it
    const told = new Set([...members, ...dropped])
    for (const s of this.sessions) if (s.stage === 'open' && told.has(s.account)) void s.send({ type: 'member-of', record })
  }

  private async tellMemberships(session: StoreSession): Promise<void> {
    try {
      const records = [...(await this.access.membershipsNaming(session.account)), ...(await this.access.removalsOf(session.account))]
      for (const record of records) {
        if (session.stage !== 'open') return
        if (record.keys == null) continue // a chat of one account: not news to its devices
        await session.send({ type: 'member-of', record })
      }
    } catch (err) {
      this.logger.warn({ err, account: session.account }, 'could not tell the memberships naming an account')
    }
  }

  private async deviceLeft(session: StoreSession): Promise<void> {
    await this.activity.seen(session.account, session.peerId, true)
    await this.tellActivity(session.account)
    this.releaseActivity(session.account)
  }

  private releaseActivity(accountId: string): void {
    if (![...this.sessions].some(s => s.account === accountId)) this.activity.release(accountId)
  }

  /** Sends every open session of the account when each of its devices was last served. */
  private async tellActivity(accountId: string): Promise<void> {
    try {
      const open = [...this.sessions].filter(s => s.account === accountId && s.stage === 'open')
      if (open.length === 0) return
      const devices = await this.activity.of(accountId, await this.access.listedDevices(accountId))
      if (devices.length === 0) return
      for (const s of open) if (s.stage === 'open') void s.send({ type: 'device-activity', devices })
    } catch (err) {
      this.logger.warn({ err, account: accountId }, 'could not tell device activity')
    }
  }
}
