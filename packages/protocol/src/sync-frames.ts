/**
 * /tandem/sync/1.0.0 frames (device ↔ device): a hello naming the account and the head of
 * its device chain the sender holds, `links` runs when the heads differ, then the y-protocols exchange (state vector → diff, then live updates) per doc, all
 * docs multiplexed over one stream. Each frame travels as one length-prefixed message;
 * this module encodes and decodes the message body. Grammar: PROTOCOL.md.
 */
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { type ChainHead, readChainHead, readLinkRun, writeChainHead, writeLinkRun } from './device-chain/chain-wire.js'
import type { ChainLink } from './device-chain/link.js'
import { FrameTooLargeError, MalformedFrameError, type TandemError } from './errors.js'
import { MAX_ACCOUNT_ID_BYTES, MAX_PEER_ID_BYTES } from './limits.js'
import { MAX_EPHEMERAL_BYTES } from './store-frame-types.js'
import * as wire from './wire.js'
import { checkFrameVersion, decodeFrame, encodeFrame, readOneFrame, type FrameGrammar } from './frame-codec.js'

export const SYNC_PROTOCOL = '/tandem/sync/1.0.0'
/** 2: the device chain replaced certificates (issue 13). 3: the ephemeral frame (typing and presence over the LAN, issue 16). */
export const SYNC_PROTOCOL_VERSION = 3

/** Whole encoded frame. Also the receiver's cap on the length prefix, so nothing larger is buffered. */
export { MAX_FRAME_BYTES } from './frame-codec.js'
/** Payload of one sync-reply/update chunk; leaves headroom under MAX_FRAME_BYTES for the header. */
export const MAX_CHUNK_BYTES = 192 * 1024
export const MAX_DOC_ID_BYTES = 128
export const MAX_STATE_VECTOR_BYTES = 64 * 1024
export const MAX_ERROR_CODE_BYTES = 64
export const MAX_ERROR_MESSAGE_BYTES = 1024
/** Peer ids in one peers frame. */
export const MAX_PEERS = 256

export type SyncFrame =
  /** `head`: the newest link of the account's chain the sender holds. */
  | { type: 'hello'; version: number; accountId: string; head: ChainHead }
  | { type: 'sync-request'; docId: string; stateVector: Uint8Array }
  | { type: 'sync-reply'; docId: string; final: boolean; chunk: Uint8Array }
  | { type: 'update'; docId: string; final: boolean; chunk: Uint8Array }
  | { type: 'error'; code: string; message: string }
  | { type: 'peers'; peerIds: string[] }
  /** Links of the sender's chain (genesis first across runs); `last` ends what it sends for now. */
  | { type: 'links'; links: ChainLink[]; last: boolean }
  /** Typing and presence of a doc, sealed by the sender as for a relay (kind `ephemeral`): never stored. */
  | { type: 'ephemeral'; docId: string; payload: Uint8Array }

export type SyncFrameType = SyncFrame['type']

/** Tag 0 is reserved so that zero-filled garbage never parses as a frame. */
export const SyncFrameTag = {
  hello: 1,
  'sync-request': 2,
  'sync-reply': 3,
  update: 4,
  error: 5,
  peers: 6,
  links: 7,
  ephemeral: 8
} as const satisfies Record<SyncFrameType, number>

const errs = wire.FRAME_ERRORS

export function writeSyncFrame(encoder: encoding.Encoder, frame: SyncFrame): void {
  switch (frame.type) {
    case 'hello':
      encoding.writeVarUint(encoder, SyncFrameTag.hello)
      wire.writeUint(encoder, 'hello.version', frame.version, errs)
      wire.writeString(encoder, 'hello.accountId', frame.accountId, MAX_ACCOUNT_ID_BYTES, errs)
      if (frame.head === null) throw errs.malformed('hello.head: a device syncing an account holds its chain')
      writeChainHead(encoder, frame.head, errs)
      return
    case 'links':
      encoding.writeVarUint(encoder, SyncFrameTag.links)
      writeLinkRun(encoder, frame.links, errs)
      wire.writeBool(encoder, 'last', frame.last, errs)
      return
    case 'sync-request':
      encoding.writeVarUint(encoder, SyncFrameTag['sync-request'])
      wire.writeString(encoder, 'docId', frame.docId, MAX_DOC_ID_BYTES, errs)
      wire.writeBytes(encoder, 'stateVector', frame.stateVector, MAX_STATE_VECTOR_BYTES, errs)
      return
    case 'sync-reply':
    case 'update':
      encoding.writeVarUint(encoder, SyncFrameTag[frame.type])
      wire.writeString(encoder, 'docId', frame.docId, MAX_DOC_ID_BYTES, errs)
      wire.writeBool(encoder, 'final', frame.final, errs)
      wire.writeBytes(encoder, 'chunk', frame.chunk, MAX_CHUNK_BYTES, errs)
      return
    case 'error':
      encoding.writeVarUint(encoder, SyncFrameTag.error)
      wire.writeString(encoder, 'error.code', frame.code, MAX_ERROR_CODE_BYTES, errs)
      wire.writeString(encoder, 'error.message', frame.message, MAX_ERROR_MESSAGE_BYTES, errs)
      return
    case 'peers':
      encoding.writeVarUint(encoder, SyncFrameTag.peers)
      if (frame.peerIds.length > MAX_PEERS) throw new FrameTooLargeError(`peers frame lists more than ${MAX_PEERS} peers`)
      encoding.writeVarUint(encoder, frame.peerIds.length)
      for (const id of frame.peerIds) wire.writeString(encoder, 'peerId', id, MAX_PEER_ID_BYTES, errs)
      return
    case 'ephemeral':
      encoding.writeVarUint(encoder, SyncFrameTag.ephemeral)
      wire.writeString(encoder, 'docId', frame.docId, MAX_DOC_ID_BYTES, errs)
      wire.writeBytes(encoder, 'payload', frame.payload, MAX_EPHEMERAL_BYTES, errs)
      return
    default:
      throw new MalformedFrameError(`unknown frame type ${String((frame as { type: unknown }).type)}`)
  }
}

/**
 * Reads one frame. Byte arrays are views into the decoder's buffer (no copy).
 * Throws only TandemErrors: MalformedFrameError / FrameTooLargeError for the frame,
 * InvalidDeviceListError / UnsupportedVersionError for a chain link's bytes.
 */
export function readSyncFrame(decoder: decoding.Decoder): SyncFrame {
  return readOneFrame(grammar, decoder)
}

function readFrame(decoder: decoding.Decoder): SyncFrame {
  const tag = wire.readUint(decoder, 'frame tag', errs)
  switch (tag) {
    case SyncFrameTag.hello: {
      // Any version whose hello still parses decodes; whether to accept it is the session's call (checkVersion).
      const version = wire.readUint(decoder, 'hello.version', errs)
      const accountId = wire.readString(decoder, 'hello.accountId', MAX_ACCOUNT_ID_BYTES, errs)
      const head = readChainHead(decoder, errs)
      if (head === null) throw errs.malformed('hello.head: a device syncing an account holds its chain')
      return { type: 'hello', version, accountId, head }
    }
    case SyncFrameTag.links: {
      const links = readLinkRun(decoder, errs)
      return { type: 'links', links, last: wire.readBool(decoder, 'last', errs) }
    }
    case SyncFrameTag['sync-request']: {
      const docId = wire.readString(decoder, 'docId', MAX_DOC_ID_BYTES, errs)
      const stateVector = wire.readBytes(decoder, 'stateVector', MAX_STATE_VECTOR_BYTES, errs)
      return { type: 'sync-request', docId, stateVector }
    }
    case SyncFrameTag['sync-reply']:
    case SyncFrameTag.update: {
      const docId = wire.readString(decoder, 'docId', MAX_DOC_ID_BYTES, errs)
      const final = wire.readBool(decoder, 'final', errs)
      const chunk = wire.readBytes(decoder, 'chunk', MAX_CHUNK_BYTES, errs)
      return { type: tag === SyncFrameTag.update ? 'update' : 'sync-reply', docId, final, chunk }
    }
    case SyncFrameTag.error: {
      const code = wire.readString(decoder, 'error.code', MAX_ERROR_CODE_BYTES, errs)
      const message = wire.readString(decoder, 'error.message', MAX_ERROR_MESSAGE_BYTES, errs)
      return { type: 'error', code, message }
    }
    case SyncFrameTag.peers: {
      const count = wire.readUint(decoder, 'peers.count', errs)
      if (count > MAX_PEERS) throw new FrameTooLargeError(`peers frame lists ${count} peers (at most ${MAX_PEERS})`)
      const peerIds: string[] = []
      for (let i = 0; i < count; i++) peerIds.push(wire.readString(decoder, 'peerId', MAX_PEER_ID_BYTES, errs))
      return { type: 'peers', peerIds }
    }
    case SyncFrameTag.ephemeral: {
      const docId = wire.readString(decoder, 'docId', MAX_DOC_ID_BYTES, errs)
      return { type: 'ephemeral', docId, payload: wire.readBytes(decoder, 'payload', MAX_EPHEMERAL_BYTES, errs) }
    }
    default:
      throw new MalformedFrameError(`unknown frame tag ${tag}`)
  }
}

const grammar: FrameGrammar<SyncFrame> = { name: 'sync', version: SYNC_PROTOCOL_VERSION, helloTag: SyncFrameTag.hello, write: writeSyncFrame, read: readFrame, errs }

export const encodeSyncFrame = (frame: SyncFrame): Uint8Array => encodeFrame(grammar, frame)

/** Decodes exactly one frame; the size bound is checked before a single byte is parsed. */
export const decodeSyncFrame = (bytes: Uint8Array): SyncFrame => decodeFrame(grammar, bytes)

/** Throws UnsupportedVersionError unless a peer's hello speaks this build's sync protocol version. */
export const checkVersion = (version: number): void => {
  checkFrameVersion(grammar, version)
}

/**
 * Splits a diff/update into views of at most `max` bytes. Always at least one chunk
 * (an empty payload is one empty, final chunk), so every transfer has a final frame.
 */
export function chunkPayload(payload: Uint8Array, max: number = MAX_CHUNK_BYTES): Uint8Array[] {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`chunk size must be a positive integer, got ${max}`)
  if (payload.length === 0) return [payload.subarray(0, 0)]
  const chunks: Uint8Array[] = []
  for (let offset = 0; offset < payload.length; offset += max) {
    chunks.push(payload.subarray(offset, offset + max))
  }
  return chunks
}

/**
 * The ERROR frame reporting `error`; the message is cut (at a character boundary) to
 * MAX_ERROR_MESSAGE_BYTES so reporting an error can never itself fail.
 */
export function errorFrame(error: TandemError): Extract<SyncFrame, { type: 'error' }> {
  return { type: 'error', code: wire.truncateUtf8(error.code, MAX_ERROR_CODE_BYTES), message: wire.truncateUtf8(error.message, MAX_ERROR_MESSAGE_BYTES) }
}
