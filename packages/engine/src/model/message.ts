import { compareHlc, type Hlc } from '../hlc.js'

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
   * `stored`: on this device's disk. `sent`: a relay acknowledged a blob holding it
   * (durable there), so every device of the account will get it. Never goes back.
   */
  status: MessageStatus
}

export type MessageStatus = 'stored' | 'sent'

export const MAX_MESSAGE_TEXT = 64 * 1024

/** Display order: hybrid logical clock, ties broken by message id; identical on every device. */
export function compareMessages (a: MessageRecord, b: MessageRecord): number {
  const byClock = compareHlc(a, b)
  if (byClock !== 0) return byClock
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

export function isMessageRecord (value: unknown): value is MessageRecord {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.id === 'string' && typeof v.author === 'string' && typeof v.device === 'string' &&
    typeof v.text === 'string' && typeof v.wall === 'number' && typeof v.counter === 'number'
}

export function toMessage (chatId: string, r: MessageRecord, status: MessageStatus): Message {
  return { id: r.id, chatId, author: r.author, device: r.device, text: r.text, timestamp: { wall: r.wall, counter: r.counter }, status }
}
