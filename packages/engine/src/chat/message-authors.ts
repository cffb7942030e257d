import * as Y from 'yjs'
import { ForgedAuthorError } from '../errors.js'
import { decodeMessageRecord } from '../model/message.js'

/** The map of a chat doc (or a segment doc) that holds its message records. */
const MESSAGES = 'messages'

/**
 * The first message record a Yjs update adds to `doc` whose author is not `account`, or null.
 * Records `doc` holds already (a copy of what this device has) do not count. A map entry set
 * anew carries no parent in the update's encoding (it names the entry it replaces as its
 * origin), so the parent and key come from that origin: earlier in the update, or in the doc.
 * An entry whose origin is in neither waits in Yjs' pending structs and is not judged here.
 */
export function foreignMessage(update: Uint8Array, doc: Y.Doc, account: string): { id: string; author: string } | null {
  const { structs } = Y.decodeUpdate(update)
  const messages = doc.getMap(MESSAGES)
  /** Per item of this update ("client:clock"), the message id it sets (null: not a messages entry). */
  const keys = new Map<string, string | null>()
  for (const s of structs) {
    if (!(s instanceof Y.Item)) continue
    const key = messageKey(s, messages, doc, keys)
    keys.set(`${s.id.client}:${s.id.clock}`, key)
    if (key === null || !(s.content instanceof Y.ContentBinary)) continue
    if (Y.getState(doc.store, s.id.client) > s.id.clock) continue // held already
    const record = decodeMessageRecord(key, s.content.content)
    if (record !== null && record.author !== account) return { id: key, author: record.author }
  }
  return null
}

/**
 * The Yjs clients of `update` that set a message record whose author is not `account`: another
 * account's writers. `doc` holds the update already (it is what a device cuts its uploads from),
 * so every record counts, held or not.
 */
export function foreignWriters(update: Uint8Array, doc: Y.Doc, account: string): Set<number> {
  const { structs } = Y.decodeUpdate(update)
  const messages = doc.getMap(MESSAGES)
  const keys = new Map<string, string | null>()
  const out = new Set<number>()
  for (const s of structs) {
    if (!(s instanceof Y.Item)) continue
    const key = messageKey(s, messages, doc, keys)
    keys.set(`${s.id.client}:${s.id.clock}`, key)
    if (key === null || !(s.content instanceof Y.ContentBinary) || out.has(s.id.client)) continue
    const record = decodeMessageRecord(key, s.content.content)
    if (record !== null && record.author !== account) out.add(s.id.client)
  }
  return out
}

function messageKey(item: Y.Item, messages: Y.Map<unknown>, doc: Y.Doc, keys: Map<string, string | null>): string | null {
  if (typeof item.parent === 'string') return item.parent === MESSAGES ? item.parentSub : null
  if (item.parent !== null) return null // (a nested type's entry)
  const origin = item.origin ?? item.rightOrigin
  if (origin === null) return null
  const local = keys.get(`${origin.client}:${origin.clock}`)
  if (local !== undefined) return local
  if (Y.getState(doc.store, origin.client) <= origin.clock) return null
  const held = Y.getItem(doc.store, origin)
  return held instanceof Y.Item && held.parent === messages ? held.parentSub : null
}

/**
 * Why a blob of `docId` signed by a device of account `signer` may not be applied: it adds a
 * message claiming another account (ERR_FORGED_AUTHOR); null when it may. A blob of this
 * account's own devices (`me`) is not read for it: they are trusted, and it costs nothing
 * where there is no other account.
 */
export function forgedAuthor(docId: string, doc: Y.Doc, update: Uint8Array, signer: string | null, me: string): ForgedAuthorError | null {
  if (signer === null || signer === me) return null
  const found = foreignMessage(update, doc, signer)
  return found === null
    ? null
    : new ForgedAuthorError(`a blob of ${docId} signed by a device of account ${signer} carries message ${found.id} as account ${found.author}'s: not applied`)
}
