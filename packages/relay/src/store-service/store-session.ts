import {
  AccessDeniedError,
  DeviceNotListedError,
  DeviceRevokedError,
  MalformedFrameError,
  NotAuthenticatedError,
  TandemError,
  checkStoreVersion,
  decodeStoreFrame,
  docErrorFrame,
  storeErrorFrame,
  encodeStoreFrame,
  verifyDeviceCertificate,
  type StoreFrame
} from '@tandem/protocol'
import { FramedSession, type FrameCodec, type Link } from '@tandem/transport'
import type { HistoryUpload } from '../history/backend.js'
import type { StoreService } from './store-service.js'
import { Subscription } from './subscription.js'

/** Uploads one device may have in flight at once. */
const MAX_OPEN_UPLOADS = 64

type UploadSlot = { upload: HistoryUpload; docId: string } | { failed: true; docId: string }

const STORE_FRAMES: FrameCodec<StoreFrame> = { encode: encodeStoreFrame, decode: decodeStoreFrame, errorFrame: storeErrorFrame }

/**
 * One device's /tandem/store stream. Frames are handled in order; a bad frame
 * closes this stream with a typed ERROR, while a refusal about one doc or one
 * upload is a `doc-error` and the stream goes on (the framing skeleton is
 * {@link FramedSession}).
 */
export class StoreSession {
  // 'unlisted': a certified device its account's list does not name yet; it may only send a
  // device list that adds it (it learns the relay's list from `welcome` and signs a successor)
  private state: 'handshake' | 'unlisted' | 'open' | 'closed' = 'handshake'
  account = ''
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

  /** Closes with a typed ERROR, telling the device why first. */
  fail(err: unknown): void {
    this.framed.fail(err)
  }

  private closed(): void {
    this.state = 'closed'
    for (const [docId, sub] of this.subscriptions) {
      sub.stop()
      this.service.subscribed(this, docId, false)
    }
    this.subscriptions.clear()
    for (const slot of this.uploads.values()) if ('upload' in slot) void slot.upload.abort()
    this.uploads.clear()
    this.service.sessionClosed(this)
  }

  private async handle(frame: StoreFrame): Promise<void> {
    if (this.state === 'handshake') {
      if (frame.type !== 'hello') throw new NotAuthenticatedError(`expected hello, got ${frame.type}`)
      this.framed.authenticated()
      checkStoreVersion(frame.version)
      this.account = verifyDeviceCertificate(frame.certificate, { peerId: this.peerId })
      const access = this.service.access
      // a newer list in a hello acts like a device-list frame: revoked devices' open streams close now
      if (frame.deviceList !== null && (await access.offerDeviceList(this.account, frame.deviceList))) {
        await this.service.deviceListChanged(this.account)
      }
      const listed = await this.checkListed()
      // the stream may have closed while the records were read: a closed session must not be counted open again
      if (this.isClosed) return
      this.state = listed ? 'open' : 'unlisted'
      this.service.sessionOpened(this)
      await this.send({ type: 'welcome', deviceList: await access.deviceList(this.account) })
      return
    }
    if (this.state === 'unlisted' && frame.type !== 'device-list') {
      await this.docError(
        'docId' in frame ? frame.docId : '',
        'uploadId' in frame ? frame.uploadId : 0,
        new DeviceNotListedError(`device ${this.peerId} is not in account ${this.account}'s device list yet`)
      )
      return
    }
    switch (frame.type) {
      case 'hello':
        throw new MalformedFrameError('duplicate hello')
      case 'device-list': {
        try {
          if (!(await this.service.access.offerDeviceList(this.account, frame.list))) {
            await this.docError('', 0, new TandemError('ERR_STALE_DEVICE_LIST', 'the relay holds a newer device list'))
            return
          }
        } catch (err) {
          if (err instanceof TandemError && err.code === 'ERR_STALE_DEVICE_LIST') {
            await this.docError('', 0, err)
            return
          }
          throw err
        }
        await this.service.deviceListChanged(this.account)
        return
      }
      case 'membership':
        try {
          await this.service.access.offerMembership(frame.record)
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
      if (!(await this.allowed(frame.docId, frame.uploadId))) {
        slot = { failed: true, docId: frame.docId }
      } else {
        const covers = frame.type === 'snapshot' ? frame.covers : undefined
        slot = { upload: this.service.history.beginUpload(frame.docId, { account: this.account, uploader: this.peerId, covers }), docId: frame.docId }
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
        const result = await done.upload.commit()
        this.service.metrics.appends.inc()
        await this.send({ type: 'ack', docId, uploadId, seq: result.seq, sinceSnapshot: result.sinceSnapshot, tailBytes: result.tailBytes, snapshotBytes: result.snapshotBytes })
      } catch (err) {
        if (!(err instanceof TandemError)) {
          this.fail(err)
          return
        }
        await this.docError(docId, uploadId, err)
      }
    })
  }

  private async allowed(docId: string, uploadId: number): Promise<boolean> {
    if (await this.service.access.canAccess(docId, this.account)) return true
    await this.docError(docId, uploadId, new AccessDeniedError(`${docId} is not shared with account ${this.account}`))
    return false
  }

  /** True when listed, false when not (yet) listed; throws when revoked. */
  private async checkListed(): Promise<boolean> {
    const status = await this.service.access.deviceStatus(this.account, this.peerId)
    if (status === 'revoked') throw new DeviceRevokedError(`device ${this.peerId} was revoked from account ${this.account}`)
    return status === 'listed'
  }

  /** Re-checks this device after its account's list changed: listed now, or revoked and closed. */
  async recheck(): Promise<void> {
    try {
      if ((await this.checkListed()) && this.state === 'unlisted') this.state = 'open'
    } catch (err) {
      this.fail(err)
    }
  }

  private async docError(docId: string, uploadId: number, err: TandemError): Promise<void> {
    this.service.refusedDoc(this, err)
    await this.send(docErrorFrame(docId, uploadId, err))
  }
}
