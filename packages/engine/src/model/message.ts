import * as decoding from 'lib0/decoding'
import { compareHlc, type Hlc } from '../hlc.js'
import type { Edit, Reaction } from './message-annotations.js'
import type { MessageReceipt } from '../receipts/message-receipts.js'

/** A message as stored in a chat doc: immutable once written. */
export interface MessageRecord {
  id: string
  /** Account id of the sender. */
  author: string
  /** Peer id of the device it was sent from. */
  device: string
  text: string
  /** Hybrid logical clock stamp taken at send time: the display order. */
  wall: number
  counter: number
  /** The id of the message this one replies to (in the same chat). */
  replyTo?: string
  /**
   * A chat between accounts: the version of its membership record the author held when
   * writing it. Its recipients are the members of that version (still members): an account
   * added later does not take back the ticks of what was written before it came.
   */
  members?: number
}

/** What a reply shows of the message it answers: its text and author, or that it was deleted. */
export interface ReplyPreview {
  id: string
  /** Deleted for everyone, or hidden by this account ("delete for me"): no text. */
  deleted: boolean
  /** The author and latest text, when the message is in memory here (undefined while its segment is not loaded). */
  author?: string
  text?: string
}

/** A message as the API returns it. */
export interface Message {
  id: string
  chatId: string
  author: string
  device: string
  text: string
  /** Send time on the hybrid logical clock (wall ms + counter). */
  timestamp: Hlc
  /**
   * `pending`: on this device's disk, in its outbox. `sent`: a relay acknowledged a blob
   * holding it (durable there), so every device of every member will get it. `delivered`: on
   * at least one device of every other member account. `read`: every other member account
   * read up to it. The same on every device of every member; never goes back, except when the
   * store lost this device's record of what the relay acknowledged (`storeDamage()`): then
   * `pending` until the relay acknowledges it again (delivered and read never go back).
   * `failed`: final, instead of `pending` for ever — this account's message no relay took
   * before the account was removed from the chat (the relay refuses what it writes there);
   * the text stays on this account's devices.
   */
  status: MessageStatus
  /** Per other member account that has it: `delivered` (on one of its devices) or `read`. */
  receipts: MessageReceipt[]
  /** The text was edited (by the author, on any of their devices): `text` is the latest edit. */
  edited: boolean
  /** Reactions, by emoji in code point order, each with the accounts that put it there. */
  reactions: Reaction[]
  /** The message this one replies to, or null. */
  replyTo: ReplyPreview | null
}

/** A message's way to its readers; it only ever moves forward (see {@link Message.status}). Before delivered and read, `pending` was called `stored`. */
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed'

export const MAX_MESSAGE_TEXT = 64 * 1024

/** Display order: hybrid logical clock, ties broken by message id; identical on every device. */
export function compareMessages(a: MessageRecord, b: MessageRecord): number {
  const byClock = compareHlc(a, b)
  if (byClock !== 0) return byClock
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** Version tag of the binary record; a reader skips records of versions it does not know. */
const RECORD_V1 = 1

/**
 * A message goes into the chat doc as one binary record (Yjs ContentBinary) under its
 * id, not as a JSON object: Yjs writes no key names for it (~40 B less per message).
 * (As JSON in a Y.Array, consecutive items of one client were merged by copying the
 * whole run on every append — `ContentAny.mergeWith` — which made a long burst quadratic.)
 */
export function encodeMessageRecord(r: MessageRecord): Uint8Array {
  // The bytes are lib0's varUint / varString layout (decodeMessageRecord reads them with lib0),
  // written into one array of the exact size: lib0's encoder allocated three per record (its
  // first chunk, a second as the record outgrew it, the joined result) and copied the text a
  // byte at a time, 7.2 µs a record against 1.4 here, 5 % of a sender's CPU in a burst.
  const author = utf8Of(r.author)
  const device = utf8Of(r.device)
  const text = utf8Bytes(r.text)
  const withReply = r.replyTo !== undefined || r.members !== undefined
  // an optional field after the last one: readers from before replies ignore trailing bytes,
  // so a reply is still shown on them (as a plain message), where a new record version would be skipped
  const reply = withReply ? utf8Of(r.replyTo ?? '') : null
  let size = 1 + varBytes(author) + varBytes(device) + varBytes(text) + varUintBytes(r.wall) + varUintBytes(r.counter)
  if (reply !== null) size += varBytes(reply)
  // (and the membership version after it: an empty reply id when it replies to nothing)
  if (r.members !== undefined) size += varUintBytes(r.members)
  const out = new Uint8Array(size)
  let pos = putVarUint(out, 0, RECORD_V1)
  pos = putVarBytes(out, pos, author)
  pos = putVarBytes(out, pos, device)
  pos = putVarBytes(out, pos, text)
  pos = putVarUint(out, pos, r.wall)
  pos = putVarUint(out, pos, r.counter)
  if (reply !== null) pos = putVarBytes(out, pos, reply)
  if (r.members !== undefined) putVarUint(out, pos, r.members)
  return out
}

const varUintBytes = (n: number): number => {
  let bytes = 1
  for (let rest = n; rest > 0x7f; rest = Math.floor(rest / 0x80)) bytes++
  return bytes
}
const varBytes = (b: Uint8Array): number => varUintBytes(b.byteLength) + b.byteLength
/** lib0's varUint: 7 bits a byte, least significant first, the high bit set on all but the last. */
function putVarUint(out: Uint8Array, at: number, n: number): number {
  let pos = at
  let rest = n
  while (rest > 0x7f) {
    out[pos++] = 0x80 | (rest % 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out[pos++] = rest
  return pos
}
function putVarBytes(out: Uint8Array, at: number, b: Uint8Array): number {
  const pos = putVarUint(out, at, b.byteLength)
  out.set(b, pos)
  return pos + b.byteLength
}

const utf8Cache = new Map<string, Uint8Array>()
const utf8 = new TextEncoder()
function utf8Of(s: string): Uint8Array {
  let bytes = utf8Cache.get(s)
  if (bytes === undefined) {
    if (utf8Cache.size >= 64) utf8Cache.clear()
    bytes = utf8.encode(s)
    utf8Cache.set(s, bytes)
  }
  return bytes
}

/** A text's UTF-8 bytes, in a scratch array the next call overwrites (encodeInto allocates nothing). */
const scratch = new Uint8Array(3 * 1024)
function utf8Bytes(s: string): Uint8Array {
  if (s.length * 3 > scratch.byteLength) return utf8.encode(s)
  return scratch.subarray(0, utf8.encodeInto(s, scratch).written)
}

/** Only the clock of a record (its strings skipped, not decoded), or null for anything else. */
export function decodeMessageClock(content: unknown): Hlc | null {
  if (!(content instanceof Uint8Array)) return null
  try {
    const dec = decoding.createDecoder(content)
    if (decoding.readVarUint(dec) !== RECORD_V1) return null
    for (let i = 0; i < 3; i++) {
      // author, device, text
      const length = decoding.readVarUint(dec)
      dec.pos += length
      if (dec.pos >= content.byteLength) return null
    }
    return { wall: decoding.readVarUint(dec), counter: decoding.readVarUint(dec) }
  } catch {
    return null
  }
}

/** The record stored under `id` in a chat doc, or null for anything else (a newer version, garbage). */
export function decodeMessageRecord(id: string, content: unknown): MessageRecord | null {
  if (!(content instanceof Uint8Array)) return null
  try {
    const dec = decoding.createDecoder(content)
    if (decoding.readVarUint(dec) !== RECORD_V1) return null
    const record: MessageRecord = {
      id,
      author: decoding.readVarString(dec),
      device: decoding.readVarString(dec),
      text: decoding.readVarString(dec),
      wall: decoding.readVarUint(dec),
      counter: decoding.readVarUint(dec)
    }
    if (decoding.hasContent(dec)) {
      const replyTo = decoding.readVarString(dec)
      if (replyTo !== '') record.replyTo = replyTo
    }
    if (decoding.hasContent(dec)) record.members = decoding.readVarUint(dec)
    return record
  } catch {
    return null
  }
}

/** What the API returns for a record: its latest edit's text, its reactions, its status. */
export function toMessage(
  chatId: string,
  r: MessageRecord,
  status: MessageStatus,
  edit: Edit | null = null,
  reactions: Reaction[] = [],
  receipts: MessageReceipt[] = [],
  replyTo: ReplyPreview | null = null
): Message {
  return {
    id: r.id,
    chatId,
    author: r.author,
    device: r.device,
    text: edit?.text ?? r.text,
    timestamp: { wall: r.wall, counter: r.counter },
    status,
    receipts,
    edited: edit !== null,
    reactions,
    replyTo
  }
}

/** Inserts a record into a list in display order. */
export function insertSorted(list: MessageRecord[], m: MessageRecord): void {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareMessages(list[mid]!, m) <= 0) lo = mid + 1
    else hi = mid
  }
  list.splice(lo, 0, m)
}
