/**
 * /tandem/store/1.0.0 frames (device ↔ relay): a hello naming the account and the head of
 * its device chain the device holds, chain links both ways (the relay keeps the chain and
 * is its arbiter), membership records, then per doc a log of opaque blobs the relay
 * numbers (append → ack(seq), subscribe(since) → backfill then live), snapshots, and
 * ephemeral fan-out. Each frame travels as one length-prefixed message, framed like
 * /tandem/sync; this module encodes and decodes the message body. Grammar: PROTOCOL.md.
 */
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { readChainHead, readLinkRun, writeChainHead, writeLinkRun } from './device-chain/chain-wire.js'
import { FrameTooLargeError, MalformedFrameError, type TandemError } from './errors.js'
import { readSignedMembership, writeSignedMembership } from './membership.js'
import { MAX_CHUNK_BYTES, MAX_DOC_ID_BYTES, MAX_ERROR_CODE_BYTES, MAX_ERROR_MESSAGE_BYTES } from './sync-frames.js'
import { MAX_ACCOUNT_ID_BYTES, MAX_PEER_ID_BYTES } from './limits.js'
import * as wire from './wire.js'
import { checkFrameVersion, decodeFrame, encodeFrame, readOneFrame, type FrameGrammar } from './frame-codec.js'

import {
  type DeviceActivity,
  type EntryNotice,
  MAX_ACTIVITY_ENTRIES,
  MAX_EPHEMERAL_BYTES,
  MAX_NOTICES,
  STORE_PROTOCOL_VERSION,
  type StoreFrame,
  StoreFrameTag
} from './store-frame-types.js'

export * from './store-frame-types.js'

const errs = wire.FRAME_ERRORS

const writeDocId = (encoder: encoding.Encoder, docId: string) => wire.writeString(encoder, 'docId', docId, MAX_DOC_ID_BYTES, errs)
const readDocId = (decoder: decoding.Decoder) => wire.readString(decoder, 'docId', MAX_DOC_ID_BYTES, errs)

export function writeStoreFrame(encoder: encoding.Encoder, frame: StoreFrame): void {
  switch (frame.type) {
    case 'hello':
      encoding.writeVarUint(encoder, StoreFrameTag.hello)
      wire.writeUint(encoder, 'hello.version', frame.version, errs)
      wire.writeBool(encoder, 'hello.accountId present', frame.accountId !== null, errs)
      if (frame.accountId !== null) wire.writeString(encoder, 'hello.accountId', frame.accountId, MAX_ACCOUNT_ID_BYTES, errs)
      writeChainHead(encoder, frame.head, errs)
      return
    case 'offer-links':
    case 'links':
      encoding.writeVarUint(encoder, StoreFrameTag[frame.type])
      writeLinkRun(encoder, frame.links, errs)
      wire.writeBool(encoder, 'last', frame.last, errs)
      return
    case 'device-activity':
      encoding.writeVarUint(encoder, StoreFrameTag['device-activity'])
      wire.writeCount(encoder, 'devices', frame.devices.length, MAX_ACTIVITY_ENTRIES, errs)
      for (const d of frame.devices) {
        wire.writeString(encoder, 'device.peerId', d.peerId, MAX_PEER_ID_BYTES, errs)
        wire.writeUint(encoder, 'device.lastSeenAt', d.lastSeenAt, errs)
      }
      return
    case 'membership':
    case 'member-of':
      encoding.writeVarUint(encoder, StoreFrameTag[frame.type])
      writeSignedMembership(encoder, frame.record)
      return
    case 'subscribe':
    case 'resume':
      encoding.writeVarUint(encoder, StoreFrameTag[frame.type])
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'since', frame.since, errs)
      return
    case 'unsubscribe':
      encoding.writeVarUint(encoder, StoreFrameTag.unsubscribe)
      writeDocId(encoder, frame.docId)
      return
    case 'refetch':
      encoding.writeVarUint(encoder, StoreFrameTag.refetch)
      writeDocId(encoder, frame.docId)
      return
    case 'append':
      encoding.writeVarUint(encoder, StoreFrameTag.append)
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'uploadId', frame.uploadId, errs)
      wire.writeBool(encoder, 'final', frame.final, errs)
      wire.writeBytes(encoder, 'chunk', frame.chunk, MAX_CHUNK_BYTES, errs)
      return
    case 'snapshot':
      encoding.writeVarUint(encoder, StoreFrameTag.snapshot)
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'uploadId', frame.uploadId, errs)
      wire.writeUint(encoder, 'covers', frame.covers, errs)
      wire.writeBool(encoder, 'final', frame.final, errs)
      wire.writeBytes(encoder, 'chunk', frame.chunk, MAX_CHUNK_BYTES, errs)
      return
    case 'ephemeral':
      encoding.writeVarUint(encoder, StoreFrameTag.ephemeral)
      writeDocId(encoder, frame.docId)
      wire.writeBytes(encoder, 'payload', frame.payload, MAX_EPHEMERAL_BYTES, errs)
      return
    case 'welcome':
      encoding.writeVarUint(encoder, StoreFrameTag.welcome)
      writeChainHead(encoder, frame.head, errs)
      return
    case 'ack':
      encoding.writeVarUint(encoder, StoreFrameTag.ack)
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'uploadId', frame.uploadId, errs)
      wire.writeUint(encoder, 'seq', frame.seq, errs)
      wire.writeUint(encoder, 'sinceSnapshot', frame.sinceSnapshot, errs)
      wire.writeUint(encoder, 'tailBytes', frame.tailBytes, errs)
      wire.writeUint(encoder, 'snapshotBytes', frame.snapshotBytes, errs)
      return
    case 'subscribed':
      encoding.writeVarUint(encoder, StoreFrameTag.subscribed)
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'head', frame.head, errs)
      wire.writeUint(encoder, 'entries', frame.entries, errs)
      wire.writeUint(encoder, 'bytes', frame.bytes, errs)
      return
    case 'blob':
      encoding.writeVarUint(encoder, StoreFrameTag.blob)
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'seq', frame.seq, errs)
      wire.writeBool(encoder, 'final', frame.final, errs)
      wire.writeBytes(encoder, 'chunk', frame.chunk, MAX_CHUNK_BYTES, errs)
      return
    case 'notices':
      encoding.writeVarUint(encoder, StoreFrameTag.notices)
      writeDocId(encoder, frame.docId)
      if (frame.entries.length > MAX_NOTICES) throw new FrameTooLargeError(`notices: ${frame.entries.length} entries, over the bound of ${MAX_NOTICES}`)
      wire.writeUint(encoder, 'notices count', frame.entries.length, errs)
      for (const n of frame.entries) {
        wire.writeUint(encoder, 'notice.seq', n.seq, errs)
        wire.writeUint(encoder, 'notice.liveId', n.liveId, errs)
      }
      return
    case 'snapshot-data':
      encoding.writeVarUint(encoder, StoreFrameTag['snapshot-data'])
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'covers', frame.covers, errs)
      wire.writeBool(encoder, 'final', frame.final, errs)
      wire.writeBytes(encoder, 'chunk', frame.chunk, MAX_CHUNK_BYTES, errs)
      return
    case 'caught-up':
      encoding.writeVarUint(encoder, StoreFrameTag['caught-up'])
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'head', frame.head, errs)
      return
    case 'ephemeral-data':
      encoding.writeVarUint(encoder, StoreFrameTag['ephemeral-data'])
      writeDocId(encoder, frame.docId)
      wire.writeString(encoder, 'from', frame.from, MAX_PEER_ID_BYTES, errs)
      wire.writeBytes(encoder, 'payload', frame.payload, MAX_EPHEMERAL_BYTES, errs)
      return
    case 'doc-error':
      encoding.writeVarUint(encoder, StoreFrameTag['doc-error'])
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'uploadId', frame.uploadId, errs)
      wire.writeString(encoder, 'error.code', frame.code, MAX_ERROR_CODE_BYTES, errs)
      wire.writeString(encoder, 'error.message', frame.message, MAX_ERROR_MESSAGE_BYTES, errs)
      return
    case 'error':
      encoding.writeVarUint(encoder, StoreFrameTag.error)
      wire.writeString(encoder, 'error.code', frame.code, MAX_ERROR_CODE_BYTES, errs)
      wire.writeString(encoder, 'error.message', frame.message, MAX_ERROR_MESSAGE_BYTES, errs)
      return
    case 'live':
      encoding.writeVarUint(encoder, StoreFrameTag.live)
      writeDocId(encoder, frame.docId)
      wire.writeUint(encoder, 'liveId', frame.liveId, errs)
      wire.writeBytes(encoder, 'blob', frame.blob, MAX_CHUNK_BYTES, errs)
      return
    default:
      throw new MalformedFrameError(`unknown frame type ${String((frame as { type: unknown }).type)}`)
  }
}

/**
 * Reads one frame. Chunks and payloads are views into the decoder's buffer (no copy);
 * chain links and membership records are copied. Throws only
 * TandemErrors: MalformedFrameError / FrameTooLargeError for the frame,
 * InvalidDeviceListError, InvalidMembershipError for the signed
 * values inside, UnsupportedVersionError for a hello of an unknown version that does not
 * parse or a signed value of an unknown format version.
 */
export function readStoreFrame(decoder: decoding.Decoder): StoreFrame {
  return readOneFrame(grammar, decoder)
}

function readFrame(decoder: decoding.Decoder): StoreFrame {
  const tag = wire.readUint(decoder, 'frame tag', errs)
  switch (tag) {
    case StoreFrameTag.hello: {
      // Any version whose hello still parses decodes; whether to accept it is the session's call (checkStoreVersion).
      const version = wire.readUint(decoder, 'hello.version', errs)
      const accountId = wire.readBool(decoder, 'hello.accountId present', errs) ? wire.readString(decoder, 'hello.accountId', MAX_ACCOUNT_ID_BYTES, errs) : null
      return { type: 'hello', version, accountId, head: readChainHead(decoder, errs) }
    }
    case StoreFrameTag['offer-links']:
    case StoreFrameTag.links: {
      const links = readLinkRun(decoder, errs)
      return { type: tag === StoreFrameTag.links ? 'links' : 'offer-links', links, last: wire.readBool(decoder, 'last', errs) }
    }
    case StoreFrameTag['device-activity']: {
      const devices: DeviceActivity[] = []
      for (let i = wire.readCount(decoder, 'devices', MAX_ACTIVITY_ENTRIES, errs); i > 0; i--) {
        devices.push({ peerId: wire.readString(decoder, 'device.peerId', MAX_PEER_ID_BYTES, errs), lastSeenAt: wire.readUint(decoder, 'device.lastSeenAt', errs) })
      }
      return { type: 'device-activity', devices }
    }
    case StoreFrameTag.membership:
      return { type: 'membership', record: readSignedMembership(decoder) }
    case StoreFrameTag['member-of']:
      return { type: 'member-of', record: readSignedMembership(decoder) }
    case StoreFrameTag.subscribe:
    case StoreFrameTag.resume: {
      const docId = readDocId(decoder)
      return { type: tag === StoreFrameTag.subscribe ? 'subscribe' : 'resume', docId, since: wire.readUint(decoder, 'since', errs) }
    }
    case StoreFrameTag.unsubscribe:
      return { type: 'unsubscribe', docId: readDocId(decoder) }
    case StoreFrameTag.refetch:
      return { type: 'refetch', docId: readDocId(decoder) }
    case StoreFrameTag.append: {
      const docId = readDocId(decoder)
      const uploadId = wire.readUint(decoder, 'uploadId', errs)
      const final = wire.readBool(decoder, 'final', errs)
      const chunk = wire.readBytes(decoder, 'chunk', MAX_CHUNK_BYTES, errs)
      return { type: 'append', docId, uploadId, final, chunk }
    }
    case StoreFrameTag.snapshot: {
      const docId = readDocId(decoder)
      const uploadId = wire.readUint(decoder, 'uploadId', errs)
      const covers = wire.readUint(decoder, 'covers', errs)
      const final = wire.readBool(decoder, 'final', errs)
      const chunk = wire.readBytes(decoder, 'chunk', MAX_CHUNK_BYTES, errs)
      return { type: 'snapshot', docId, uploadId, covers, final, chunk }
    }
    case StoreFrameTag.ephemeral: {
      const docId = readDocId(decoder)
      return { type: 'ephemeral', docId, payload: wire.readBytes(decoder, 'payload', MAX_EPHEMERAL_BYTES, errs) }
    }
    case StoreFrameTag.welcome:
      return { type: 'welcome', head: readChainHead(decoder, errs) }
    case StoreFrameTag.ack: {
      const docId = readDocId(decoder)
      const uploadId = wire.readUint(decoder, 'uploadId', errs)
      const seq = wire.readUint(decoder, 'seq', errs)
      const sinceSnapshot = wire.readUint(decoder, 'sinceSnapshot', errs)
      const tailBytes = wire.readUint(decoder, 'tailBytes', errs)
      const snapshotBytes = wire.readUint(decoder, 'snapshotBytes', errs)
      return { type: 'ack', docId, uploadId, seq, sinceSnapshot, tailBytes, snapshotBytes }
    }
    case StoreFrameTag.subscribed: {
      const docId = readDocId(decoder)
      const head = wire.readUint(decoder, 'head', errs)
      const entries = wire.readUint(decoder, 'entries', errs)
      const bytes = wire.readUint(decoder, 'bytes', errs)
      return { type: 'subscribed', docId, head, entries, bytes }
    }
    case StoreFrameTag.blob: {
      const docId = readDocId(decoder)
      const seq = wire.readUint(decoder, 'seq', errs)
      const final = wire.readBool(decoder, 'final', errs)
      const chunk = wire.readBytes(decoder, 'chunk', MAX_CHUNK_BYTES, errs)
      return { type: 'blob', docId, seq, final, chunk }
    }
    case StoreFrameTag.notices: {
      const docId = readDocId(decoder)
      const entries: EntryNotice[] = []
      for (let i = wire.readCount(decoder, 'notices', MAX_NOTICES, errs); i > 0; i--) {
        entries.push({ seq: wire.readUint(decoder, 'notice.seq', errs), liveId: wire.readUint(decoder, 'notice.liveId', errs) })
      }
      return { type: 'notices', docId, entries }
    }
    case StoreFrameTag['snapshot-data']: {
      const docId = readDocId(decoder)
      const covers = wire.readUint(decoder, 'covers', errs)
      const final = wire.readBool(decoder, 'final', errs)
      const chunk = wire.readBytes(decoder, 'chunk', MAX_CHUNK_BYTES, errs)
      return { type: 'snapshot-data', docId, covers, final, chunk }
    }
    case StoreFrameTag['caught-up']: {
      const docId = readDocId(decoder)
      return { type: 'caught-up', docId, head: wire.readUint(decoder, 'head', errs) }
    }
    case StoreFrameTag['ephemeral-data']: {
      const docId = readDocId(decoder)
      const from = wire.readString(decoder, 'from', MAX_PEER_ID_BYTES, errs)
      const payload = wire.readBytes(decoder, 'payload', MAX_EPHEMERAL_BYTES, errs)
      return { type: 'ephemeral-data', docId, from, payload }
    }
    case StoreFrameTag['doc-error']: {
      const docId = readDocId(decoder)
      const uploadId = wire.readUint(decoder, 'uploadId', errs)
      const code = wire.readString(decoder, 'error.code', MAX_ERROR_CODE_BYTES, errs)
      const message = wire.readString(decoder, 'error.message', MAX_ERROR_MESSAGE_BYTES, errs)
      return { type: 'doc-error', docId, uploadId, code, message }
    }
    case StoreFrameTag.error: {
      const code = wire.readString(decoder, 'error.code', MAX_ERROR_CODE_BYTES, errs)
      const message = wire.readString(decoder, 'error.message', MAX_ERROR_MESSAGE_BYTES, errs)
      return { type: 'error', code, message }
    }
    case StoreFrameTag.live: {
      const docId = readDocId(decoder)
      const liveId = wire.readUint(decoder, 'liveId', errs)
      return { type: 'live', docId, liveId, blob: wire.readBytes(decoder, 'blob', MAX_CHUNK_BYTES, errs) }
    }
    default:
      throw new MalformedFrameError(`unknown frame tag ${tag}`)
  }
}

const grammar: FrameGrammar<StoreFrame> = { name: 'store', version: STORE_PROTOCOL_VERSION, helloTag: StoreFrameTag.hello, write: writeStoreFrame, read: readFrame, errs }

export const encodeStoreFrame = (frame: StoreFrame): Uint8Array => encodeFrame(grammar, frame)

/** Decodes exactly one frame; the size bound is checked before a single byte is parsed. */
export const decodeStoreFrame = (bytes: Uint8Array): StoreFrame => decodeFrame(grammar, bytes)

/** Throws UnsupportedVersionError unless a peer's hello speaks this build's store protocol version. */
export const checkStoreVersion = (version: number): void => {
  checkFrameVersion(grammar, version)
}

/** The ERROR frame reporting `error` (stream-level; the stream closes after it). Code and message are cut to their bounds. */
export function storeErrorFrame(error: TandemError): Extract<StoreFrame, { type: 'error' }> {
  return { type: 'error', code: wire.truncateUtf8(error.code, MAX_ERROR_CODE_BYTES), message: wire.truncateUtf8(error.message, MAX_ERROR_MESSAGE_BYTES) }
}

/**
 * The DOC-ERROR frame refusing one doc (or one upload of it) with `error`; uploadId 0
 * when it is not about an upload. Code and message are cut to their bounds, and a doc id
 * over its bound is cut too, so reporting an error can never itself fail.
 */
export function docErrorFrame(docId: string, uploadId: number, error: TandemError): Extract<StoreFrame, { type: 'doc-error' }> {
  return {
    type: 'doc-error',
    docId: wire.truncateUtf8(docId, MAX_DOC_ID_BYTES),
    uploadId: Number.isSafeInteger(uploadId) && uploadId >= 0 ? uploadId : 0,
    code: wire.truncateUtf8(error.code, MAX_ERROR_CODE_BYTES),
    message: wire.truncateUtf8(error.message, MAX_ERROR_MESSAGE_BYTES)
  }
}
