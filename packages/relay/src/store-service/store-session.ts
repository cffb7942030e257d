import {
  AccessDeniedError,
  DeviceNotListedError,
  DeviceRevokedError,
  MalformedFrameError,
  NotAuthenticatedError,
  TandemError,
  chainDeviceStatus,
  checkStoreVersion,
  decodeStoreFrame,
  docErrorFrame,
  storeErrorFrame,
  encodeStoreFrame,
  headOf,
  isAccountId,
  type ChainHead,
  type StoreFrame
} from '@tandem/protocol'
import { FramedSession, type FrameCodec, type Link } from '@tandem/transport'
import type { StoreService } from './store-service.js'
import { SessionChain } from './session-chain.js'
import { SessionSubscriptions } from './session-subscriptions.js'
import { SessionUploads } from './session-uploads.js'
import type { OwnUploads } from './subscription.js'

const STORE_FRAMES: FrameCodec<StoreFrame> = { encode: encodeStoreFrame, decode: decodeStoreFrame, errorFrame: storeErrorFrame }

/**
 * One device's /tandem/store stream: its handshake (hello, the account's chain: SessionChain)
 * and what its state lets it send. Frames are handled in order; a bad frame closes this
 * stream with a typed ERROR, while a refusal about one doc or one upload is a `doc-error` and
 * the stream goes on (the framing skeleton is {@link FramedSession}). Its subscriptions are
 * SessionSubscriptions', its uploads SessionUploads'.
 */
export class StoreSession {
  // 'unlisted': a device its account's chain does not list yet; it may only offer links (the
  // genesis of a new account, or a link another device signed that lists it).
  // 'linking': a device with no account yet, here only to be reachable through the relay's
  // circuit while it is linked; it may send nothing after its hello (StoreService bounds these)
  /** `revoked`: served nothing more, closing once the links that revoke it are sent. */
  private state: 'handshake' | 'linking' | 'unlisted' | 'open' | 'revoked' | 'closed' = 'handshake'
  /** The account named in the hello; '' for a linking session. */
  account = ''
  private chain: SessionChain | null = null
  readonly subscriptions: SessionSubscriptions
  private readonly uploads: SessionUploads
  private readonly framed: FramedSession<StoreFrame>

  constructor(
    readonly link: Link,
    private readonly service: StoreService
  ) {
    this.subscriptions = new SessionSubscriptions(this, service)
    this.uploads = new SessionUploads(this, service)
    this.framed = new FramedSession(link, STORE_FRAMES, {
      handle: frame => this.handle(frame),
      failed: error => {
        this.service.refused(this, error)
      },
      closed: () => {
        this.closed()
      }
    })
  }

  get peerId(): string {
    return this.link.remotePeerId
  }

  start(): void {
    this.framed.start(this.service.timers)
  }

  /** Resolves once the stream took the frame (backpressure); never rejects (a failed write closes the session). */
  send(frame: StoreFrame): Promise<void> {
    return this.framed.send(frame)
  }

  /** Sends without waiting; false (and nothing sent) if the stream is backed up. For ephemeral data. */
  trySend(frame: StoreFrame): boolean {
    if (this.state !== 'open' || this.link.congested?.() === true) return false
    void this.send(frame)
    return true
  }

  /**
   * Another device's append to `docId` arrived whole: sent at once, before it is durable,
   * to a subscriber that is caught up and keeping up; the others get it after its commit.
   */
  /** `ownAccount`: the blob is from another device of this session's account. */
  sendLive(docId: string, uploadKey: string, blob: Uint8Array, ownAccount: boolean): boolean {
    if (this.state !== 'open' || this.link.congested?.() === true) return false
    const liveId = this.subscriptions.takeLive(docId, uploadKey, ownAccount)
    if (liveId === null) return false
    void this.send({ type: 'live', docId, liveId, blob })
    return true
  }

  /** (a getter, so a check after an await is not narrowed away by the one before it) */
  private get isClosed(): boolean {
    return this.state === 'closed'
  }

  get stage(): 'handshake' | 'linking' | 'unlisted' | 'open' | 'revoked' | 'closed' {
    return this.state
  }

  /** Closes with a typed ERROR, telling the device why first. */
  fail(err: unknown): void {
    this.framed.fail(err)
  }

  private closed(): void {
    const was = this.state
    this.state = 'closed'
    this.subscriptions.stopAll()
    this.uploads.abortAll()
    this.service.sessionClosed(this, was)
  }

  private async handle(frame: StoreFrame): Promise<void> {
    if (this.state === 'revoked') return
    if (this.state === 'handshake') {
      if (frame.type !== 'hello') throw new NotAuthenticatedError(`expected hello, got ${frame.type}`)
      this.framed.authenticated()
      checkStoreVersion(frame.version)
      await this.hello(frame.accountId, frame.head)
      return
    }
    if (frame.type === 'hello') throw new MalformedFrameError('duplicate hello')
    if (this.state === 'linking') {
      throw new NotAuthenticatedError(`a session without an account may send nothing after its hello, got ${frame.type}`)
    }
    if (this.state === 'unlisted' && frame.type !== 'offer-links') {
      await this.docError(
        'docId' in frame ? frame.docId : '',
        'uploadId' in frame ? frame.uploadId : 0,
        new DeviceNotListedError(`device ${this.peerId} is not in account ${this.account}'s device chain yet`)
      )
      return
    }
    if (this.state === 'open') this.service.seen(this)
    switch (frame.type) {
      case 'offer-links':
        await this.chain!.offer(frame.links, frame.last)
        return
      case 'membership':
        try {
          const stored = await this.service.access.offerMembership(frame.record)
          if (stored !== null) this.service.membershipStored(frame.record, stored.dropped)
        } catch (err) {
          if (!(err instanceof TandemError)) throw err
          await this.docError(frame.record.docId, 0, err)
        }
        return
      case 'subscribe':
        await this.subscribe(frame.docId, frame.since, 'echoed')
        return
      case 'resume':
        await this.subscribe(frame.docId, frame.since, 'backfill')
        return
      case 'refetch':
        await this.subscribe(frame.docId, 0, 'refetch')
        return
      case 'unsubscribe':
        this.subscriptions.stop(frame.docId)
        return
      case 'append':
      case 'snapshot':
        await this.uploads.chunk(frame)
        return
      case 'ephemeral':
        if (!this.subscriptions.has(frame.docId)) {
          await this.docError(frame.docId, 0, new AccessDeniedError(`subscribe to ${frame.docId} before sending ephemeral data`))
          return
        }
        this.service.fanOut(this, frame.docId, frame.payload)
        return
      default:
        throw new MalformedFrameError(`a device may not send ${frame.type}`)
    }
  }

  /** The chat whose doc is `chatDocId` no longer has this session's account among its members (see SessionSubscriptions.dropChat). */
  dropChat(chatDocId: string): void {
    this.subscriptions.dropChat(chatDocId)
  }

  /** Starts (or replaces) a doc's subscription, when the account may read it. */
  private async subscribe(docId: string, since: number, own: OwnUploads): Promise<void> {
    if (await this.allowed(docId, 0)) this.subscriptions.start(docId, since, own)
  }

  /** Whether the session's account may read and write `docId`; a `doc-error` when not. */
  async allowed(docId: string, uploadId: number): Promise<boolean> {
    if (await this.service.access.canAccess(docId, this.account)) return true
    await this.docError(docId, uploadId, new AccessDeniedError(`${docId} is not shared with account ${this.account}`))
    return false
  }

  private async hello(accountId: string | null, head: ChainHead | null): Promise<void> {
    if (accountId === null) {
      this.service.admitLinking(this) // throws when the relay holds its share of linking sessions
      this.state = 'linking'
      this.service.sessionOpened(this)
      await this.send({ type: 'welcome', head: null })
      return
    }
    if (!isAccountId(accountId)) throw new MalformedFrameError('hello.accountId is not an account id')
    this.account = accountId
    const access = this.service.access
    const state = await access.chainState(accountId)
    // the stream may have closed while the records were read: a closed session must not be counted open again
    if (this.isClosed) return
    const status = state === null ? 'unlisted' : chainDeviceStatus(state, this.peerId)
    if (status === 'revoked') {
      // a device that was away when it was revoked (off, a restored backup) hears it here: the
      // links that revoke it, then the error — it learns from the chain, and erases the account
      const chain = new SessionChain(accountId, head, access, f => this.send(f), { refused: async () => {}, grew: () => {} })
      await chain.startRevoked(headOf(state!), this.peerId).catch(() => {})
      throw new DeviceRevokedError(`device ${this.peerId} was revoked from account ${accountId}`)
    }
    this.chain = new SessionChain(accountId, head, access, f => this.send(f), {
      refused: err => this.docError('', 0, err),
      grew: () => {
        this.service.chainGrew(accountId)
      }
    })
    // welcome goes out first, before anything the service sends a session it counts
    const started = this.chain.start(state === null ? null : headOf(state))
    this.state = status === 'listed' ? 'open' : 'unlisted'
    this.service.sessionOpened(this)
    await started
  }

  /**
   * The account's chain grew (StoreService.chainGrew): a device it revokes is closed now, one
   * it lists opens, and each learns the new links.
   */
  chainChanged(): void {
    if (this.chain === null || (this.state !== 'open' && this.state !== 'unlisted')) return
    const state = this.service.access.cachedState(this.account)
    if (state === null || state === undefined) return
    const status = chainDeviceStatus(state, this.peerId)
    if (status === 'revoked') {
      // served nothing from now on; the links that revoke it go first, so the device learns for
      // sure (a relay's word alone must not make it erase the account), then the error closes it
      const error = new DeviceRevokedError(`device ${this.peerId} was revoked from account ${this.account}`)
      this.state = 'revoked'
      this.subscriptions.stopAll()
      void this.chain
        .changed()
        .catch(() => {})
        .finally(() => {
          this.fail(error)
        })
      return
    }
    if (status === 'listed' && this.state === 'unlisted') {
      this.state = 'open'
      this.service.sessionListed(this)
    }
    this.chain.changed().catch((err: unknown) => {
      this.fail(err)
    })
  }

  /** Refuses one doc or upload (`doc-error`); the stream goes on. */
  async docError(docId: string, uploadId: number, err: TandemError): Promise<void> {
    this.service.refusedDoc(this, err)
    await this.send(docErrorFrame(docId, uploadId, err))
  }
}
