/**
 * /tandem/link/1.0.0 frames (existing device ↔ new device): the handshake that proves the
 * code's secret, the person's confirmation, the passphrase check, and the approval that
 * carries the account's device chain (its head listing the new device) and the new
 * device's key material. Grammar and session rules: PROTOCOL.md, "Linking". Each frame
 * travels as one length-prefixed message, as on /tandem/sync; this module encodes and
 * decodes the message body.
 */
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MAX_DEVICE_NAME_BYTES } from '../limits.js'
import { AGREEMENT_KEY_BYTES } from '../device-chain/keys.js'
import { MAX_PLATFORM_BYTES } from '../device-chain/link.js'
import { MalformedFrameError, type TandemError } from '../errors.js'
import { checkFrameVersion, decodeFrame, encodeFrame, type FrameGrammar, MAX_FRAME_BYTES, readOneFrame } from '../frame-codec.js'
import { MAX_SEGMENT_INDEX } from '../doc-ids.js'
import { MAX_ACCOUNT_ID_BYTES } from '../membership.js'
import { MAX_ERROR_CODE_BYTES, MAX_ERROR_MESSAGE_BYTES } from '../sync-frames.js'
import * as wire from '../wire.js'
import { PASSPHRASE_PROOF_BYTES, PASSPHRASE_SALT_BYTES, type PassphraseParams, readPassphraseParams, writePassphraseParams } from './passphrase.js'
import { LINK_NONCE_BYTES, LINK_PROOF_BYTES } from './transcript.js'

export { LINK_PROTOCOL } from './transcript.js'
/** 2: `approval` carries chat hints (a device of version 1 is told ERR_UNSUPPORTED_VERSION at hello). */
export const LINK_PROTOCOL_VERSION = 2
/** The new device's key material (issue 14 fills it: content keys sealed to its agreement key); opaque here. */
export const MAX_KEY_MATERIAL_BYTES = 64 * 1024
/**
 * The account's whole device chain in an approval (encodeChain bytes): what is left of one
 * frame once the key material (and its length) had its bound and 1 KiB is kept for the tag,
 * the account id and the chat hints (at most ~620 bytes together), rounded down to a whole
 * KiB (191 KiB). The new device gets the chain it is listed
 * in from the device that listed it, so it can check that link against its predecessors
 * without a relay; a chain longer than this (some 190 links of ten devices) needs one.
 */
export const MAX_APPROVAL_CHAIN_BYTES = Math.floor((MAX_FRAME_BYTES - MAX_KEY_MATERIAL_BYTES - 1024) / 1024) * 1024
/**
 * A chat the new device opens first, with its newest segment (0: none), from the approving
 * device's most recent chats: it subscribes to them with its account doc instead of after it,
 * and to the newest segment with the chat doc instead of after its index (bench screen, issue
 * 15: a new device's first screen of a 1M-message chat waited for the three one after another).
 * Hints only: what the docs say decides what the device shows and fetches next.
 */
export interface ChatHint {
  chatId: string
  segment: number
}
/** Chats hinted at most: the few a person may open first. Their bytes fit the KiB an approval keeps beside its chain (MAX_APPROVAL_CHAIN_BYTES). */
export const MAX_CHAT_HINTS = 8
export const MAX_HINT_CHAT_ID_BYTES = 64
/** A wait announced in passphrase-retry; more than the longest backoff is a malformed frame. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000

export type LinkFrame =
  | { type: 'hello'; version: number; nonce: Uint8Array }
  | { type: 'proof'; proof: Uint8Array }
  | { type: 'device'; agreementKey: Uint8Array; name: string; platform: string }
  | { type: 'confirmed' }
  | { type: 'passphrase-challenge'; params: PassphraseParams; salt: Uint8Array }
  | { type: 'passphrase-proof'; proof: Uint8Array }
  | { type: 'passphrase-retry'; retryAfterMs: number }
  | { type: 'approval'; accountId: string; chain: Uint8Array; keyMaterial: Uint8Array; hints: ChatHint[] }
  | { type: 'done' }
  | { type: 'error'; code: string; message: string }

export type LinkFrameType = LinkFrame['type']

/** Tag 0 is reserved so that zero-filled garbage never parses as a frame. */
export const LinkFrameTag = {
  hello: 1,
  proof: 2,
  device: 3,
  confirmed: 4,
  'passphrase-challenge': 5,
  'passphrase-proof': 6,
  'passphrase-retry': 7,
  approval: 8,
  done: 9,
  error: 10
} as const satisfies Record<LinkFrameType, number>

const errs = wire.FRAME_ERRORS

export function writeLinkFrame(encoder: encoding.Encoder, frame: LinkFrame): void {
  if (typeof frame !== 'object' || frame === null || !Object.hasOwn(LinkFrameTag, frame.type)) {
    throw new MalformedFrameError(`unknown link frame type ${String((frame as { type?: unknown } | null)?.type)}`)
  }
  encoding.writeVarUint(encoder, LinkFrameTag[frame.type])
  switch (frame.type) {
    case 'hello':
      wire.writeUint(encoder, 'hello.version', frame.version, errs)
      wire.writeFixedBytes(encoder, 'hello.nonce', frame.nonce, LINK_NONCE_BYTES, errs)
      return
    case 'proof':
      wire.writeFixedBytes(encoder, 'proof', frame.proof, LINK_PROOF_BYTES, errs)
      return
    case 'device':
      wire.writeFixedBytes(encoder, 'device.agreementKey', frame.agreementKey, AGREEMENT_KEY_BYTES, errs)
      wire.writeString(encoder, 'device.name', frame.name, MAX_DEVICE_NAME_BYTES, errs)
      wire.writeString(encoder, 'device.platform', frame.platform, MAX_PLATFORM_BYTES, errs)
      return
    case 'passphrase-challenge':
      writePassphraseParams(encoder, frame.params, errs)
      wire.writeFixedBytes(encoder, 'passphrase-challenge.salt', frame.salt, PASSPHRASE_SALT_BYTES, errs)
      return
    case 'passphrase-proof':
      wire.writeFixedBytes(encoder, 'passphrase-proof', frame.proof, PASSPHRASE_PROOF_BYTES, errs)
      return
    case 'passphrase-retry':
      wire.writeUint(encoder, 'retryAfterMs', frame.retryAfterMs, errs)
      if (frame.retryAfterMs > MAX_RETRY_AFTER_MS) throw errs.malformed(`retryAfterMs ${frame.retryAfterMs} over ${MAX_RETRY_AFTER_MS}`)
      return
    case 'approval':
      wire.writeString(encoder, 'approval.accountId', frame.accountId, MAX_ACCOUNT_ID_BYTES, errs)
      wire.writeBytes(encoder, 'approval.chain', frame.chain, MAX_APPROVAL_CHAIN_BYTES, errs)
      wire.writeBytes(encoder, 'approval.keyMaterial', frame.keyMaterial, MAX_KEY_MATERIAL_BYTES, errs)
      writeChatHints(encoder, frame.hints)
      return
    case 'error':
      wire.writeString(encoder, 'error.code', frame.code, MAX_ERROR_CODE_BYTES, errs)
      wire.writeString(encoder, 'error.message', frame.message, MAX_ERROR_MESSAGE_BYTES, errs)
      return
    case 'confirmed':
    case 'done':
      return
  }
}

function readFrame(decoder: decoding.Decoder): LinkFrame {
  const tag = wire.readUint(decoder, 'frame tag', errs)
  switch (tag) {
    case LinkFrameTag.hello: {
      const version = wire.readUint(decoder, 'hello.version', errs)
      return { type: 'hello', version, nonce: wire.readFixedBytes(decoder, 'hello.nonce', LINK_NONCE_BYTES, errs) }
    }
    case LinkFrameTag.proof:
      return { type: 'proof', proof: wire.readFixedBytes(decoder, 'proof', LINK_PROOF_BYTES, errs) }
    case LinkFrameTag.device: {
      const agreementKey = wire.readFixedBytes(decoder, 'device.agreementKey', AGREEMENT_KEY_BYTES, errs)
      const name = wire.readString(decoder, 'device.name', MAX_DEVICE_NAME_BYTES, errs)
      const platform = wire.readString(decoder, 'device.platform', MAX_PLATFORM_BYTES, errs)
      return { type: 'device', agreementKey, name, platform }
    }
    case LinkFrameTag.confirmed:
      return { type: 'confirmed' }
    case LinkFrameTag['passphrase-challenge']: {
      const params = readPassphraseParams(decoder, errs)
      return { type: 'passphrase-challenge', params, salt: wire.readFixedBytes(decoder, 'passphrase-challenge.salt', PASSPHRASE_SALT_BYTES, errs) }
    }
    case LinkFrameTag['passphrase-proof']:
      return { type: 'passphrase-proof', proof: wire.readFixedBytes(decoder, 'passphrase-proof', PASSPHRASE_PROOF_BYTES, errs) }
    case LinkFrameTag['passphrase-retry']: {
      const retryAfterMs = wire.readUint(decoder, 'retryAfterMs', errs)
      if (retryAfterMs > MAX_RETRY_AFTER_MS) throw errs.malformed(`retryAfterMs ${retryAfterMs} over ${MAX_RETRY_AFTER_MS}`)
      return { type: 'passphrase-retry', retryAfterMs }
    }
    case LinkFrameTag.approval: {
      const accountId = wire.readString(decoder, 'approval.accountId', MAX_ACCOUNT_ID_BYTES, errs)
      const chain = wire.readBytes(decoder, 'approval.chain', MAX_APPROVAL_CHAIN_BYTES, errs)
      const keyMaterial = wire.readBytes(decoder, 'approval.keyMaterial', MAX_KEY_MATERIAL_BYTES, errs)
      return { type: 'approval', accountId, chain, keyMaterial, hints: readChatHints(decoder) }
    }
    case LinkFrameTag.done:
      return { type: 'done' }
    case LinkFrameTag.error: {
      const code = wire.readString(decoder, 'error.code', MAX_ERROR_CODE_BYTES, errs)
      return { type: 'error', code, message: wire.readString(decoder, 'error.message', MAX_ERROR_MESSAGE_BYTES, errs) }
    }
    default:
      throw new MalformedFrameError(`unknown link frame tag ${tag}`)
  }
}

function writeChatHints(encoder: encoding.Encoder, hints: readonly ChatHint[]): void {
  if (!Array.isArray(hints)) throw errs.malformed('approval.hints: not an array')
  wire.writeCount(encoder, 'approval.hints', hints.length, MAX_CHAT_HINTS, errs)
  for (const h of hints) {
    if (typeof h !== 'object' || h === null) throw errs.malformed('approval.hints: not a chat hint')
    wire.writeString(encoder, 'approval.hints.chatId', h.chatId, MAX_HINT_CHAT_ID_BYTES, errs)
    wire.writeUint(encoder, 'approval.hints.segment', h.segment, errs)
    if (h.segment > MAX_SEGMENT_INDEX) throw errs.malformed(`approval.hints.segment ${h.segment} over ${MAX_SEGMENT_INDEX}`)
  }
}

function readChatHints(decoder: decoding.Decoder): ChatHint[] {
  const n = wire.readCount(decoder, 'approval.hints', MAX_CHAT_HINTS, errs)
  const hints: ChatHint[] = []
  for (let i = 0; i < n; i++) {
    const chatId = wire.readString(decoder, 'approval.hints.chatId', MAX_HINT_CHAT_ID_BYTES, errs)
    const segment = wire.readUint(decoder, 'approval.hints.segment', errs)
    if (segment > MAX_SEGMENT_INDEX) throw errs.malformed(`approval.hints.segment ${segment} over ${MAX_SEGMENT_INDEX}`)
    hints.push({ chatId, segment })
  }
  return hints
}

const grammar: FrameGrammar<LinkFrame> = { name: 'link', version: LINK_PROTOCOL_VERSION, helloTag: LinkFrameTag.hello, write: writeLinkFrame, read: readFrame, errs }

/** Reads one frame; byte arrays are views into the decoder's buffer. Throws MalformedFrameError / FrameTooLargeError / UnsupportedVersionError only. */
export const readLinkFrame = (decoder: decoding.Decoder): LinkFrame => readOneFrame(grammar, decoder)

export const encodeLinkFrame = (frame: LinkFrame): Uint8Array => encodeFrame(grammar, frame)

/** Decodes exactly one frame; over MAX_FRAME_BYTES is refused before a byte is parsed. */
export const decodeLinkFrame = (bytes: Uint8Array): LinkFrame => decodeFrame(grammar, bytes)

/** Throws UnsupportedVersionError unless a peer's hello speaks this build's link protocol version. */
export const checkLinkVersion = (version: number): void => {
  checkFrameVersion(grammar, version)
}

/** The ERROR frame reporting `error`, cut to the bounds so reporting an error never fails. */
export function linkErrorFrame(error: TandemError): Extract<LinkFrame, { type: 'error' }> {
  return { type: 'error', code: wire.truncateUtf8(error.code, MAX_ERROR_CODE_BYTES), message: wire.truncateUtf8(error.message, MAX_ERROR_MESSAGE_BYTES) }
}
