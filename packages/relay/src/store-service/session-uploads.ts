import { MalformedFrameError, sealedEpoch, StaleEpochError, type StoreFrame, TandemError } from '@tandem/protocol'
import type { HistoryUpload } from '../history/backend.js'
import type { StoreService } from './store-service.js'
import type { StoreSession } from './store-session.js'

/** Uploads one device may have in flight at once. */
const MAX_OPEN_UPLOADS = 64

/** An upload under way: its history upload and, when sealed, the key epoch its first bytes name. */
type UploadSlot = { upload: HistoryUpload; docId: string; epoch: number | null } | { failed: true; docId: string }

/**
 * One store session's uploads (`append` and `snapshot` chunks): each is checked (access, the
 * key epoch its first bytes name, the order it was cut in), written part by part, forwarded
 * live when it came whole, and committed in order beside the session's frame handling, then
 * acknowledged.
 */
export class SessionUploads {
  private readonly uploads = new Map<number, UploadSlot>()
  private commitChain: Promise<void> = Promise.resolve()
  /** Per doc, the upload refused as stale that the ones after it wait for (see checkInOrder). */
  private readonly resealing = new Map<string, number>()

  constructor(
    private readonly session: StoreSession,
    private readonly service: StoreService
  ) {}

  /** The session closed: uploads under way are dropped (never committed). */
  abortAll(): void {
    for (const slot of this.uploads.values()) if ('upload' in slot) void slot.upload.abort()
    this.uploads.clear()
  }

  async chunk(frame: Extract<StoreFrame, { type: 'append' | 'snapshot' }>): Promise<void> {
    const session = this.session
    let slot = this.uploads.get(frame.uploadId)
    if (slot === undefined) {
      if (this.uploads.size >= MAX_OPEN_UPLOADS) throw new MalformedFrameError(`more than ${MAX_OPEN_UPLOADS} uploads in flight`)
      if (!(await session.allowed(frame.docId, frame.uploadId)) || !(await this.freshEpoch(frame.docId, frame.uploadId, frame.chunk, frame.type === 'append'))) {
        slot = { failed: true, docId: frame.docId }
      } else {
        const covers = frame.type === 'snapshot' ? frame.covers : undefined
        const upload = this.service.history.beginUpload(frame.docId, { account: session.account, uploader: session.peerId, covers })
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
        await session.docError(frame.docId, frame.uploadId, err)
      }
    }
    if (!frame.final) return
    const done = this.uploads.get(frame.uploadId)!
    this.uploads.delete(frame.uploadId)
    if (!('upload' in done)) return
    const { uploadId, docId } = frame
    // Judged again now, with the chains it is judged against held still until it is committed: a
    // revocation may have come since the first chunk, and one that comes later waits for the
    // commit. So what subscribers get live below is never refused afterwards (they would hold
    // what the relay never stores, and carry it up for an author who may be gone).
    let leave: () => void
    try {
      leave = await this.service.access.holdEpoch(docId, session.account, done.epoch)
    } catch (err) {
      void done.upload.abort() // (never committed: its parts go)
      if (!(err instanceof StaleEpochError)) throw err
      this.refuseStale(docId, uploadId, err, frame.type === 'append')
      return
    }
    try {
      this.checkInOrder(docId, uploadId)
    } catch (err) {
      leave()
      void done.upload.abort()
      this.refuseStale(docId, uploadId, err as StaleEpochError, frame.type === 'append')
      return
    }
    // Subscribers get a blob that came whole before it is durable (latency; the ack and the
    // seq still wait for the disk). Never a snapshot: it replaces entries, it adds nothing.
    const parts = done.upload.buffered
    if (frame.type === 'append' && parts?.length === 1) this.service.forwardLive(session, docId, done.upload.key, parts[0]!)
    // commits run in order beside frame handling: a device may stream its next blob meanwhile
    this.commitChain = this.commitChain.then(async () => {
      try {
        const result = await done.upload.commit()
        this.service.metrics.appends.inc()
        await session.send({ type: 'ack', docId, uploadId, seq: result.seq, sinceSnapshot: result.sinceSnapshot, tailBytes: result.tailBytes, snapshotBytes: result.snapshotBytes })
      } catch (err) {
        if (!(err instanceof TandemError)) {
          session.fail(err)
          return
        }
        await session.docError(docId, uploadId, err)
      } finally {
        leave()
      }
    })
  }

  /**
   * Refuses an upload as stale at its last chunk; the refusal goes in turn with the acks of the
   * uploads before it (acks come in upload order). A refused append holds the doc's later ones
   * (checkInOrder); a snapshot does not: nothing after it builds on it, and the device does not
   * send a refused snapshot again (it cuts a new one when one is due), so the doc's uploads
   * would wait for it for as long as the stream lasts.
   */
  private refuseStale(docId: string, uploadId: number, err: StaleEpochError, append: boolean): void {
    if (append && !this.resealing.has(docId)) this.resealing.set(docId, uploadId)
    this.commitChain = this.commitChain.then(() => this.session.docError(docId, uploadId, err)).catch((e: unknown) => this.session.fail(e))
  }

  /**
   * An upload sealed in an epoch below the doc's floor (AccessControl.epochFloor: the account's
   * newest key generation, or a shared chat's current epoch) is refused (ERR_STALE_EPOCH; the
   * device seals it again): the relay reads only the public epoch number in the blob's first
   * bytes. Unsealed bytes are not its business (it is blind).
   */
  private async freshEpoch(docId: string, uploadId: number, firstChunk: Uint8Array, append: boolean): Promise<boolean> {
    try {
      this.checkInOrder(docId, uploadId)
      const epoch = sealedEpoch(firstChunk)
      const floor = epoch === null ? 0 : await this.service.access.epochFloor(docId, this.session.account)
      if (epoch !== null && epoch < floor) {
        if (append && !this.resealing.has(docId)) this.resealing.set(docId, uploadId)
        throw new StaleEpochError(`an upload of ${docId} is sealed in key epoch ${epoch}; the doc's floor is ${floor}: seal it again`)
      }
      if (this.resealing.get(docId) === uploadId) this.resealing.delete(docId) // the one awaited, sealed again
      return true
    } catch (err) {
      if (!(err instanceof StaleEpochError)) throw err
      await this.session.docError(docId, uploadId, err)
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
}
