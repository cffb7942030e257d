/**
 * The doc ids devices and relays agree on. A relay reads no more of an id than whose doc it
 * is (an account, or a chat's members); a segment of a chat is served to whoever the chat is.
 *
 * - `account:<accountId>`: the account doc (profile, chat list).
 * - `chat:<chatId>`: a chat doc (title, the index of its segments; before segments, its messages).
 * - `chat:<chatId>:<n>`: segment n ≥ 1 of a chat's history, a doc of its own (own log at the
 *   relay, own key: HKDF of the generation key with this id, like any doc).
 */
export type DocRef = { kind: 'account'; accountId: string } | { kind: 'chat'; chatId: string } | { kind: 'segment'; chatId: string; index: number }

/** The highest segment number a doc id may carry (a million segments of a thousand messages each). */
export const MAX_SEGMENT_INDEX = 1_000_000

export const accountDocId = (accountId: string): string => `account:${accountId}`
export const chatDocId = (chatId: string): string => `chat:${chatId}`
export const segmentDocId = (chatId: string, index: number): string => `chat:${chatId}:${index}`

const SEGMENT = /^([^:]+):([1-9][0-9]{0,6})$/

/**
 * Ids parsed lately: a message's way through a device or a relay parses the same few ids again
 * and again (a regex and three objects a time, 1.6 % of a sender's CPU in a burst). The refs
 * are frozen: every caller shares them.
 */
const parsed = new Map<string, DocRef | null>()
const PARSED_KEPT = 1024

/** What a doc id names, or null for an id of no known kind. */
export function parseDocId(docId: string): DocRef | null {
  let ref = parsed.get(docId)
  if (ref === undefined) {
    if (parsed.size >= PARSED_KEPT) parsed.clear()
    ref = parseAnew(docId)
    if (ref !== null) Object.freeze(ref)
    parsed.set(docId, ref)
  }
  return ref
}

function parseAnew(docId: string): DocRef | null {
  if (docId.startsWith('account:')) return { kind: 'account', accountId: docId.slice(8) }
  if (!docId.startsWith('chat:')) return null
  const rest = docId.slice(5)
  if (rest.length === 0) return null
  if (!rest.includes(':')) return { kind: 'chat', chatId: rest }
  const m = SEGMENT.exec(rest)
  if (m === null) return null
  const index = Number(m[2])
  return index > MAX_SEGMENT_INDEX ? null : { kind: 'segment', chatId: m[1]!, index }
}

/** The chat a chat doc or one of its segments belongs to; null for any other doc. */
export function chatIdOfDoc(docId: string): string | null {
  const ref = parseDocId(docId)
  return ref === null || ref.kind === 'account' ? null : ref.chatId
}

/**
 * The doc whose signed membership says who may read and write `docId`: a chat's for its
 * segments, the doc itself otherwise.
 */
export function membershipDocOf(docId: string): string {
  const ref = parseDocId(docId)
  return ref?.kind === 'segment' ? chatDocId(ref.chatId) : docId
}
