import {
  AccessDeniedError,
  DeviceNotListedError,
  DeviceRevokedError,
  MalformedFrameError,
  NotAuthenticatedError,
  sealedEpoch,
  StaleEpochError,
  TandemError,
  chainDeviceStatus,
  checkStoreVersion,
  decodeStoreFrame,
  docErrorFrame,
  storeErrorFrame,
  encodeStoreFrame,
  headOf,
  isAccountId,
  membershipDocOf,
  type ChainHead,
  type StoreFrame
} from '@tandem/protocol'
import { FramedSession, type FrameCodec, type Link } from '@tandem/transport'
import type { HistoryUpload } from '../history/backend.js'
import type { StoreService } from './store-service.js'
import { SessionChain } from './session-chain.js'
import { Subscription } from './subscription.js'

/** Uploads one device may have in flight at once. */
const MAX_OPEN_UPLOADS = 64

/** An upload under way: its history upload and, when sealed, the key epoch its first bytes name. */
type UploadSlot = { upload: HistoryUpload; docId: string; epoch: number | null } | { failed: true; docId: string }

const STORE_FRAMES: FrameCodec<StoreFrame> = { encode: encodeStoreFrame, decode: decodeStoreFrame, errorFrame: storeErrorFrame }

/**
 * One device's /tandem/store stream. Frames are handled in order; a bad frame
 * closes this stream with a typed ERROR, while a refusal about one doc or one
 * upload is a `doc-error` and the stream goes on (the framing skeleton is
 * {@link FramedSession}).
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
  readonly subscriptions = new Map<string, Subscription>()
  /** Per doc, the run of its newest pump until it returns (a stopped pump still finishes the blob it is sending). */
  private readonly pumps = new Map<string, Promise<void>>()
  private readonly uploads = new Map<number, UploadSlot>()
  private commitChain: Promise<void> = Promise.resolve()
  private nextLiveId = 1
  private readonly framed: FramedSession<StoreFrame>

  constructor(
    readonly link: Link,
    private readonly service: StoreService
  ) {
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
  sendLive(docId: string, uploadKey: string, blob: Uint8Array): boolean {
    if (this.state !== 'open' || this.link.congested?.() === true) return false
    // numbered per stream, not per subscription: a committed notice of a replaced one never matches
    const liveId = this.nextLiveId
    if (this.subscriptions.get(docId)?.takeLive(uploadKey, liveId) !== true) return false
    this.nextLiveId++
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
    this.stopSubscriptions()
    for (const slot of this.uploads.values()) if ('upload' in slot) void slot.upload.abort()
    this.uploads.clear()
    this.service.sessionClosed(this, was)
  }

  private stopSubscriptions(): void {
    for (const [docId, sub] of this.subscriptions) {
      sub.stop()
      this.service.subscribed(this, docId, false)
    }
    this.subscriptions.clear()
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
          if (await this.service.access.offerMembership(frame.record)) this.service.membershipStored(frame.record)
        } catch (err) {
          if (!(err instanceof TandemError)) throw err
          await this.docError(frame.record.docId, 0, err)
        }
        return
      case 'subscribe':
        await this.subscribe(frame.docId, frame.since, false)
        return
      case 'refetch':
        await this.subscribe(frame.docId, 0, true)
        return
      case 'unsubscribe':
        this.subscriptions.get(frame.docId)?.stop()
        this.subscriptions.delete(frame.docId)
        this.service.subscribed(this, frame.docId, false)
        return
      case 'append':
      case 'snapshot':
        await this.upload(frame)
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

  /**
   * The chat whose doc is `chatDocId` no longer has this session's account among its members:
   * its subscriptions to the chat's docs (segments too) end, each refused (ERR_ACCESS_DENIED),
   * so nothing written from the new record on reaches this device.
   */
  dropChat(chatDocId: string): void {
    for (const [docId, sub] of [...this.subscriptions]) {
      if (membershipDocOf(docId) !== chatDocId) continue
      sub.stop()
      this.subscriptions.delete(docId)
      this.service.subscribed(this, docId, false)
      void this.docError(docId, 0, new AccessDeniedError(`${docId} is no longer shared with account ${this.account}`))
    }
  }

  /** Starts (or replaces) a doc's subscription; `refetch` sends this device's own uploads in the backfill as bytes. */
  private async subscribe(docId: string, since: number, refetch: boolean): Promise<void> {
    if (!(await this.allowed(docId, 0))) return
    this.subscriptions.get(docId)?.stop()
    const sub = new Subscription(docId, since, this.peerId, refetch, this.service.history, this.service.metrics, f => this.send(f), this.service.timers)
    this.subscriptions.set(docId, sub)
    this.service.subscribed(this, docId, true)
    // a re-subscription's pump starts once the previous one has returned: their frames must not interleave
    const running = (this.pumps.get(docId) ?? Promise.resolve())
      .catch(() => {})
      .then(async () => {
        await sub.run()
      })
    this.pumps.set(docId, running)
    void running.then(
      () => {
        if (this.pumps.get(docId) === running) this.pumps.delete(docId)
      },
      err => {
        this.fail(err)
      }
    )
  }

  private async upload(frame: Extract<StoreFrame, { type: 'append' | 'snapshot' }>): Promise<void> {
    let slot = this.uploads.get(frame.uploadId)
    if (slot === undefined) {
      if (this.uploads.size >= MAX_OPEN_UPLOADS) throw new MalformedFrameError(`more than ${MAX_OPEN_UPLOADS} uploads in flight`)
      if (!(await this.allowed(frame.docId, frame.uploadId)) || !(await this.freshEpoch(frame.docId, frame.uploadId, frame.chunk))) {
        slot = { failed: true, docId: frame.docId }
      } else {
        const covers = frame.type === 'snapshot' ? frame.covers : undefined
        const upload = this.service.history.beginUpload(frame.docId, { account: this.account, uploader: this.peerId, covers })
        slot = { upload, docId: frame.docId, epoch: sealedEpoch(frame.chunk) }
      }
      this.uploads.set(frame.uploadId, slot)
    }
    if (slot.docId !== frame.docId) throw new MalformedFrameError(`upload ${frame.uploadId} switched docs`)
    if ('upload' in slot) {
      try {
        await slot.upload.addPart(frame.chunk)
      } catch (err) {
        if (!(err instanceof TandemError)) throw err
        void slot.upload.abort()
        this.uploads.set(frame.uploadId, { failed: true, docId: frame.docId })
        await this.docError(frame.docId, frame.uploadId, err)
      }
    }
    if (!frame.final) return
    const done = this.uploads.get(frame.uploadId)!
    this.uploads.delete(frame.uploadId)
    if (!('upload' in done)) return
    const { uploadId, docId } = frame
    // Subscribers get a blob that came whole before it is durable (latency; the ack and the
    // seq still wait for the disk). Never a snapshot: it replaces entries, it adds nothing.
    const parts = done.upload.buffered
    if (frame.type === 'append' && parts?.length === 1) this.service.forwardLive(this, docId, done.upload.key, parts[0]!)
    // commits run in order beside frame handling: a device may stream its next blob meanwhile
    this.commitChain = this.commitChain.then(async () => {
      try {
        // checked again at the commit, with the chain held still: a revocation may have come since the first chunk
        const result = await this.service.access.commitInEpoch(docId, this.account, done.epoch, async () => {
          this.checkInOrder(docId, uploadId)
          return await done.upload.commit()
        })
        this.service.metrics.appends.inc()
        await this.send({ type: 'ack', docId, uploadId, seq: result.seq, sinceSnapshot: result.sinceSnapshot, tailBytes: result.tailBytes, snapshotBytes: result.snapshotBytes })
      } catch (err) {
        if (!(err instanceof TandemError)) {
          this.fail(err)
          return
        }
        if (err instanceof StaleEpochError) {
          void done.upload.abort() // (never committed: its parts go)
          if (!this.resealing.has(docId)) this.resealing.set(docId, uploadId)
        }
        await this.docError(docId, uploadId, err)
      }
    })
  }

  /**
   * An upload sealed in a key generation older than the account's newest is refused
   * (ERR_STALE_EPOCH; the device seals it again): the relay reads only the public epoch
   * number in the blob's first bytes. Unsealed bytes are not its business (it is blind).
   */
  private async freshEpoch(docId: string, uploadId: number, firstChunk: Uint8Array): Promise<boolean> {
    try {
      this.checkInOrder(docId, uploadId)
      const epoch = sealedEpoch(firstChunk)
      const floor = epoch === null ? 0 : await this.service.access.epochFloor(docId, this.account)
      if (epoch !== null && epoch < floor) {
        if (!this.resealing.has(docId)) this.resealing.set(docId, uploadId)
        throw new StaleEpochError(`an upload of ${docId} is sealed in key generation ${epoch}; the account is at ${floor}: seal it again`)
      }
      if (this.resealing.get(docId) === uploadId) this.resealing.delete(docId) // the one awaited, sealed again
      return true
    } catch (err) {
      if (!(err instanceof StaleEpochError)) throw err
      await this.docError(docId, uploadId, err)
      return false
    }
  }

  /**
   * A device's uploads of a doc land in the order it cut them: each is a diff against what the
   * ones before it carry, and every device reading one takes its reach as "the relay holds all
   * below". So once one is refused as stale, the ones after it are refused too until it comes
   * back sealed again (ERR_STALE_EPOCH; the device seals and sends them again, in order). (The
   * simulator, seed 20261516: a later upload landed first, its author was revoked before the
   * earlier one came back, and the relay's history had a hole every device took as held.)
   */
  private checkInOrder(docId: string, uploadId: number): void {
    const awaited = this.resealing.get(docId)
    if (awaited !== undefined && uploadId !== awaited) throw new StaleEpochError(`upload ${awaited} of ${docId} awaits its new seal: this one comes after it`)
  }

  /** Per doc, the upload refused as stale that the ones after it wait for (see checkInOrder). */
  private readonly resealing = new Map<string, number>()

  private async allowed(docId: string, uploadId: number): Promise<boolean> {
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
      this.stopSubscriptions()
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

  private async docError(docId: string, uploadId: number, err: TandemError): Promise<void> {
    this.service.refusedDoc(this, err)
    await this.send(docErrorFrame(docId, uploadId, err))
  }
}
