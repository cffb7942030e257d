import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { compareMessages, type MessageRecord } from '../model/message.js'

/**
 * A place in a chat's display order (Telegram's `max_id`): a message's hybrid logical clock
 * and id. A watermark at a position covers every message at or before it, so "read up to
 * here" is one small value per device, whatever the number of messages.
 */
export interface Position {
  wall: number
  counter: number
  id: string
}

export const positionOf = (m: Pick<MessageRecord, 'wall' | 'counter' | 'id'>): Position => ({ wall: m.wall, counter: m.counter, id: m.id })

/** Display order of positions: the same comparison as messages' (clock, then id). */
export const comparePositions = (a: Position, b: Position): number => compareMessages(a as MessageRecord, b as MessageRecord)

/** The later of two positions (null counts as before every message). */
export const laterOf = (a: Position | null, b: Position | null): Position | null => (a === null ? b : b === null ? a : comparePositions(a, b) >= 0 ? a : b)

/** Whether a watermark covers a message: at or after it. */
export const covers = (mark: Position | null, m: Pick<MessageRecord, 'wall' | 'counter' | 'id'>): boolean => mark !== null && comparePositions(mark, positionOf(m)) >= 0

const POSITION_V1 = 1

export function encodePosition(p: Position): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, POSITION_V1)
  encoding.writeVarUint(enc, p.wall)
  encoding.writeVarUint(enc, p.counter)
  encoding.writeVarString(enc, p.id)
  return encoding.toUint8Array(enc)
}

/** A position, or null for anything else (a newer version, garbage): such a value counts for nothing. */
export function decodePosition(bytes: unknown): Position | null {
  if (!(bytes instanceof Uint8Array)) return null
  try {
    const dec = decoding.createDecoder(bytes)
    if (decoding.readVarUint(dec) !== POSITION_V1) return null
    return { wall: decoding.readVarUint(dec), counter: decoding.readVarUint(dec), id: decoding.readVarString(dec) }
  } catch {
    return null
  }
}
