import * as Y from 'yjs'

/** Doc id of an account's own doc. */
export { accountDocId } from '@tandem/protocol'

export interface ChatEntry {
  chatId: string
  title: string
  createdAt: number
  archived: boolean
  muted: boolean
  pinned: boolean
}

/** What can change in a chat entry after it is listed: kept in `chatFields`, one key per chat and field. */
type ChatField = 'title' | 'archived' | 'muted' | 'pinned' | 'draft'

/**
 * Typed view of the account doc: profile and chat list. Each chat entry is a Y.Map in
 * `chats` holding what it was listed with; what changes after (title, archived, muted,
 * pinned, draft) is a key of its own per chat and field in `chatFields`, so muting on one
 * device and pinning on another merge field by field. Not inside the entry's map: two
 * devices of the account list a shared chat at once (each learns of it from the relay), and
 * of two concurrent `chats.set` Yjs keeps one map and drops the other with every field
 * written into it (a draft set on Alice's phone never reached her laptop). The devices are
 * not here: they are the signed device chain (account/chain-keeper.ts), which nobody but a
 * current device can change (a Yjs map anyone syncing the doc could write to).
 */
export class AccountDoc {
  readonly profile: Y.Map<unknown>
  readonly chats: Y.Map<Y.Map<unknown>>
  /** `<chatId> <field>` → value: what changed in a chat entry after it was listed. */
  readonly chatFields: Y.Map<unknown>

  constructor(readonly doc: Y.Doc) {
    this.profile = doc.getMap('profile')
    this.chats = doc.getMap('chats')
    this.chatFields = doc.getMap('chatFields')
  }

  /** The account's name, or null when the profile has none (not received yet). */
  get name(): string | null {
    const name = this.profile.get('name')
    return typeof name === 'string' ? name : null
  }

  setName(name: string): void {
    this.profile.set('name', name)
  }

  /** The encoded passphrase verifier (two-step verification for linking), or null. */
  passphraseVerifier(): Uint8Array | null {
    const v = this.profile.get('passphrase')
    return v instanceof Uint8Array ? v : null
  }

  setPassphraseVerifier(verifier: Uint8Array | null): void {
    if (verifier === null) this.profile.delete('passphrase')
    else this.profile.set('passphrase', verifier)
  }

  addChat(entry: ChatEntry): void {
    const map = new Y.Map<unknown>()
    for (const [k, v] of Object.entries(entry)) if (k !== 'chatId') map.set(k, v)
    this.chats.set(entry.chatId, map)
  }

  updateChat(chatId: string, patch: Partial<Omit<ChatEntry, 'chatId' | 'createdAt'>>): boolean {
    if (!this.chats.has(chatId)) return false
    this.doc.transact(() => {
      for (const [k, v] of Object.entries(patch)) if (this.field(chatId, k as ChatField) !== v) this.chatFields.set(fieldKey(chatId, k as ChatField), v)
    })
    return true
  }

  getChat(chatId: string): ChatEntry | null {
    const map = this.chats.get(chatId)
    if (!(map instanceof Y.Map)) return null
    return {
      chatId,
      title: String(this.field(chatId, 'title') ?? ''),
      createdAt: Number(map.get('createdAt') ?? 0),
      archived: this.field(chatId, 'archived') === true,
      muted: this.field(chatId, 'muted') === true,
      pinned: this.field(chatId, 'pinned') === true
    }
  }

  /** The chat's draft (what was typed and not sent yet), the same on every device of the account; '' if none. */
  draftOf(chatId: string): string {
    const draft = this.field(chatId, 'draft')
    return typeof draft === 'string' ? draft : ''
  }

  /** Sets or clears ('') a chat's draft; false for a chat the list does not hold. */
  setDraft(chatId: string, text: string): boolean {
    if (!this.chats.has(chatId)) return false
    if (this.draftOf(chatId) !== text) this.chatFields.set(fieldKey(chatId, 'draft'), text)
    return true
  }

  /** A field as changed since the chat was listed, else as it was listed with. */
  private field(chatId: string, field: ChatField): unknown {
    const key = fieldKey(chatId, field)
    return this.chatFields.has(key) ? this.chatFields.get(key) : this.chats.get(chatId)?.get(field)
  }

  chatIds(): string[] {
    return [...this.chats.keys()]
  }

  listChats(): ChatEntry[] {
    const out: ChatEntry[] = []
    for (const id of this.chats.keys()) {
      const c = this.getChat(id)
      if (c !== null) out.push(c)
    }
    return out.sort((a, b) => Number(b.pinned) - Number(a.pinned) || a.createdAt - b.createdAt || (a.chatId < b.chatId ? -1 : 1))
  }
}

/** Separates a chat id from a field name: no chat id holds a space. */
const fieldKey = (chatId: string, field: ChatField): string => `${chatId} ${field}`
