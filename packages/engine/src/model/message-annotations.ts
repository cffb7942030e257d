import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type * as Y from 'yjs'
import { compareHlc, type Hlc } from '../hlc.js'

/** What changed of some messages (`hidden`: deleted for this account, on one of its devices). */
export type MessageChange = 'edited' | 'reactions' | 'deleted' | 'hidden'

/** Ids of messages whose edits, reactions or existence changed, with the transaction's origin. */
export type ChangedListener = (messageIds: ReadonlySet<string>, change: MessageChange, origin: unknown) => void

/** The latest edit of a message: its text and when (on the hybrid logical clock), from which device. */
export interface Edit extends Hlc {
  text: string
  device: string
}

/** One emoji on a message and the accounts that put it there (sorted). */
export interface Reaction {
  emoji: string
  accounts: string[]
}

const EDIT_V1 = 1
const NO_KEYS: ReadonlySet<string | null> = new Set()
/** Separates the parts of an annotation key: no message id, account id, peer id or emoji holds it. */
const SEP = ' '

/**
 * What was done to the messages of a doc after they were sent, stored beside them so an edit
 * of an old message lands in the old message's segment:
 * - `edits`: one entry per message and editing device (`id device` → text and clock); the
 *   latest clock wins, ties by device, the same on every device whatever order the edits
 *   came in (a single Y.Map entry per message would let Yjs pick by client id, not time).
 * - `reactions`: `id account emoji` → true; removing a reaction deletes its key, so one
 *   account has at most one of each emoji on a message.
 * - `deleted`: ids deleted for everyone. The record itself is removed from `messages` (its
 *   text is gone from the doc, not hidden); the tombstone makes edits and reactions that
 *   raced with the deletion count for nothing.
 */
export class MessageAnnotations {
  readonly edits: Y.Map<Uint8Array>
  readonly reactions: Y.Map<boolean>
  readonly deleted: Y.Map<boolean>
  /** Latest edit per message id, built on first use and kept up to date. */
  private latest: Map<string, Edit> | null = null
  /** Reactions per message id: emoji → accounts, built on first use and kept up to date. */
  private byMessage: Map<string, Map<string, Set<string>>> | null = null

  constructor(
    doc: Y.Doc,
    private readonly messages: Y.Map<Uint8Array>,
    onChanged?: ChangedListener
  ) {
    this.edits = doc.getMap('edits')
    this.reactions = doc.getMap('reactions')
    this.deleted = doc.getMap('deleted')
    this.edits.observe(event => {
      const ids = new Set<string>()
      for (const key of event.keysChanged) ids.add(key.slice(0, key.indexOf(SEP)))
      if (this.latest !== null) for (const id of ids) this.reindexEdits(id)
      onChanged?.(ids, 'edited', event.transaction.origin)
    })
    this.reactions.observe(event => {
      const ids = new Set<string>()
      for (const key of event.keysChanged) {
        ids.add(key.slice(0, key.indexOf(SEP)))
        if (this.byMessage !== null) this.indexReaction(key, this.reactions.has(key))
      }
      onChanged?.(ids, 'reactions', event.transaction.origin)
    })
    this.deleted.observe(event => {
      onChanged?.(new Set(event.keysChanged), 'deleted', event.transaction.origin)
    })
  }

  /** The ids whose tombstone `transaction` set (reported by this class as 'deleted'). */
  tombstonesSetIn(transaction: Y.Transaction): ReadonlySet<string | null> {
    return transaction.changed.get(this.deleted as unknown as Y.AbstractType<Y.YEvent<Y.Map<boolean>>>) ?? NO_KEYS
  }

  isDeleted(id: string): boolean {
    return this.deleted.has(id)
  }

  /** The latest edit of a message, or null if it was never edited. */
  editOf(id: string): Edit | null {
    if (this.latest === null) {
      this.latest = new Map()
      for (const [key, bytes] of this.edits.entries()) {
        const edit = decodeEdit(key, bytes)
        const mid = key.slice(0, key.indexOf(SEP))
        if (edit !== null && newer(edit, this.latest.get(mid))) this.latest.set(mid, edit)
      }
    }
    return this.isDeleted(id) ? null : (this.latest.get(id) ?? null)
  }

  /** A message's reactions, by emoji in code point order. */
  reactionsOf(id: string): Reaction[] {
    if (this.byMessage === null) {
      this.byMessage = new Map()
      for (const key of this.reactions.keys()) this.indexReaction(key, true)
    }
    const emojis = this.byMessage.get(id)
    if (emojis === undefined || this.isDeleted(id)) return []
    return [...emojis.entries()]
      .filter(([, accounts]) => accounts.size > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([emoji, accounts]) => ({ emoji, accounts: [...accounts].sort() }))
  }

  /** Records an edit (the caller's transaction). */
  edit(id: string, device: string, text: string, at: Hlc): void {
    this.edits.set(`${id}${SEP}${device}`, encodeEdit(text, at))
  }

  /** Adds or removes one account's emoji on a message (the caller's transaction). */
  react(id: string, account: string, emoji: string, on: boolean): void {
    const key = `${id}${SEP}${account}${SEP}${emoji}`
    if (on) this.reactions.set(key, true)
    else this.reactions.delete(key)
  }

  /** Deletes a message for everyone: the record, its edits and reactions go; a tombstone stays (the caller's transaction). */
  remove(id: string): void {
    this.deleted.set(id, true)
    this.messages.delete(id)
    const prefix = `${id}${SEP}`
    for (const key of [...this.edits.keys()]) if (key.startsWith(prefix)) this.edits.delete(key)
    for (const key of [...this.reactions.keys()]) if (key.startsWith(prefix)) this.reactions.delete(key)
  }

  private reindexEdits(id: string): void {
    const prefix = `${id}${SEP}`
    let best: Edit | undefined
    for (const [key, bytes] of this.edits.entries()) {
      if (!key.startsWith(prefix)) continue
      const edit = decodeEdit(key, bytes)
      if (edit !== null && newer(edit, best)) best = edit
    }
    if (best === undefined) this.latest!.delete(id)
    else this.latest!.set(id, best)
  }

  private indexReaction(key: string, present: boolean): void {
    const [id, account, emoji] = key.split(SEP)
    if (id === undefined || account === undefined || emoji === undefined) return
    const index = this.byMessage!
    let emojis = index.get(id)
    if (emojis === undefined) {
      if (!present) return
      emojis = new Map()
      index.set(id, emojis)
    }
    let accounts = emojis.get(emoji)
    if (accounts === undefined) {
      accounts = new Set()
      emojis.set(emoji, accounts)
    }
    if (present) accounts.add(account)
    else accounts.delete(account)
  }
}

const newer = (a: Edit, b: Edit | undefined): boolean => b === undefined || compareHlc(a, b) > 0 || (compareHlc(a, b) === 0 && a.device > b.device)

function encodeEdit(text: string, at: Hlc): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, EDIT_V1)
  encoding.writeVarString(enc, text)
  encoding.writeVarUint(enc, at.wall)
  encoding.writeVarUint(enc, at.counter)
  return encoding.toUint8Array(enc)
}

/** An edit record, or null for anything else (a newer version, garbage): skipped, never shown. */
function decodeEdit(key: string, bytes: unknown): Edit | null {
  if (!(bytes instanceof Uint8Array)) return null
  try {
    const dec = decoding.createDecoder(bytes)
    if (decoding.readVarUint(dec) !== EDIT_V1) return null
    const text = decoding.readVarString(dec)
    const wall = decoding.readVarUint(dec)
    const counter = decoding.readVarUint(dec)
    return { text, wall, counter, device: key.slice(key.indexOf(SEP) + 1) }
  } catch {
    return null
  }
}
