/**
 * How a device that lacks a key generation gets it from another device of its account (a box
 * that was never sealed to it: a link made without it in view). Both messages travel as
 * ephemeral data of the account doc through the relay, signed, never encrypted whole: the
 * request names only generation numbers, the share carries keys sealed to the requester's
 * listed X25519 key (key-box.ts). PROTOCOL.md, "Key requests".
 *
 *   request ::= varuint(KEY_REQUEST) requester(32) varuint(n ≤ 64) varuint(generation){n} signature(64)
 *   share   ::= varuint(KEY_SHARE) author(32) recipient(32) varuint(n ≤ 64) entry{n} signature(64)
 *   entry   ::= varuint(generation) keyId(16) box(104)
 *   signature = Ed25519(varstring(domain) varstring(accountId) ‖ every byte before it)
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MalformedFrameError } from '../errors.js'
import { SIGNATURE_BYTES } from '../limits.js'
import { KEY_ID_BYTES } from './content-keys.js'
import { KEY_BOX_BYTES } from './key-box.js'
import type { SignatureBackend } from './signatures.js'

export const KEY_REQUEST = 4
export const KEY_SHARE = 5
export const MAX_SHARED_GENERATIONS = 64
const DOMAINS = { [KEY_REQUEST]: 'tandem/key-request/v1', [KEY_SHARE]: 'tandem/key-share/v1' } as const

export interface KeyRequest {
  type: 'key-request'
  requester: Uint8Array
  generations: number[]
}

export interface KeyShareEntry {
  generation: number
  keyId: Uint8Array
  box: Uint8Array
}

export interface KeyShare {
  type: 'key-share'
  author: Uint8Array
  recipient: Uint8Array
  entries: KeyShareEntry[]
}

export type KeyMessage = KeyRequest | KeyShare

/** Whether ephemeral bytes are a key message (and not sealed typing or presence). */
export function isKeyMessage(bytes: Uint8Array): boolean {
  return bytes.length > 0 && (bytes[0] === KEY_REQUEST || bytes[0] === KEY_SHARE)
}

function signed(tag: typeof KEY_REQUEST | typeof KEY_SHARE, accountId: string, body: Uint8Array): Uint8Array {
  return encoding.encode(e => {
    encoding.writeVarString(e, DOMAINS[tag])
    encoding.writeVarString(e, accountId)
    encoding.writeUint8Array(e, body)
  })
}

export async function encodeKeyMessage(message: KeyMessage, accountId: string, seed: Uint8Array, signatures: SignatureBackend): Promise<Uint8Array> {
  const tag = message.type === 'key-request' ? KEY_REQUEST : KEY_SHARE
  const list = message.type === 'key-request' ? message.generations : message.entries
  if (list.length === 0 || list.length > MAX_SHARED_GENERATIONS) throw new RangeError(`a key message names 1 to ${MAX_SHARED_GENERATIONS} generations`)
  const body = encoding.encode(e => {
    encoding.writeVarUint(e, tag)
    if (message.type === 'key-request') {
      encoding.writeUint8Array(e, message.requester)
      encoding.writeVarUint(e, message.generations.length)
      for (const g of message.generations) encoding.writeVarUint(e, g)
    } else {
      encoding.writeUint8Array(e, message.author)
      encoding.writeUint8Array(e, message.recipient)
      encoding.writeVarUint(e, message.entries.length)
      for (const x of message.entries) {
        encoding.writeVarUint(e, x.generation)
        encoding.writeUint8Array(e, x.keyId)
        encoding.writeUint8Array(e, x.box)
      }
    }
  })
  const signature = await signatures.sign(signed(tag, accountId, body), seed)
  const out = new Uint8Array(body.length + SIGNATURE_BYTES)
  out.set(body)
  out.set(signature, body.length)
  return out
}

/**
 * A key message whose signature verifies as its sender's (the requester, or the share's
 * author): ERR_MALFORMED_FRAME for bytes that do not parse or verify. Whether the sender
 * is a current device of the account is the caller's to check.
 */
export async function decodeKeyMessage(bytes: Uint8Array, accountId: string, signatures: SignatureBackend): Promise<KeyMessage> {
  let message: KeyMessage
  let body: Uint8Array
  let signer: Uint8Array
  let tag: typeof KEY_REQUEST | typeof KEY_SHARE
  try {
    if (bytes.length < SIGNATURE_BYTES + 2) throw new Error('too short')
    body = bytes.subarray(0, bytes.length - SIGNATURE_BYTES)
    const d = decoding.createDecoder(body)
    const t = decoding.readVarUint(d)
    if (t !== KEY_REQUEST && t !== KEY_SHARE) throw new Error(`tag ${t}`)
    tag = t
    const first = decoding.readUint8Array(d, 32).slice()
    if (tag === KEY_REQUEST) {
      const n = count(decoding.readVarUint(d))
      const generations: number[] = []
      for (let i = 0; i < n; i++) generations.push(decoding.readVarUint(d))
      message = { type: 'key-request', requester: first, generations }
      signer = first
    } else {
      const recipient = decoding.readUint8Array(d, 32).slice()
      const n = count(decoding.readVarUint(d))
      const entries: KeyShareEntry[] = []
      for (let i = 0; i < n; i++)
        entries.push({ generation: decoding.readVarUint(d), keyId: decoding.readUint8Array(d, KEY_ID_BYTES).slice(), box: decoding.readUint8Array(d, KEY_BOX_BYTES).slice() })
      message = { type: 'key-share', author: first, recipient, entries }
      signer = first
    }
    if (d.pos !== body.length) throw new Error('trailing bytes')
  } catch (err) {
    throw new MalformedFrameError('a key message does not parse', { cause: err })
  }
  if (!(await signatures.verify(bytes.subarray(bytes.length - SIGNATURE_BYTES), signed(tag, accountId, body), signer)))
    throw new MalformedFrameError(`a ${message.type} does not verify as its sender's`)
  return message
}

function count(n: number): number {
  if (n < 1 || n > MAX_SHARED_GENERATIONS) throw new Error(`${n} generations`)
  return n
}
