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

/**
 * Typed view of the account doc: profile and chat list. Each chat entry is its own Y.Map
 * so that muting on one device and pinning on another merge field by field. The devices
 * are not here: they are the signed device chain (account/chain-keeper.ts), which nobody
 * but a current device can change (a Yjs map anyone syncing the doc could write to).
 */
export class AccountDoc {
  readonly profile: Y.Map<unknown>
  readonly chats: Y.Map<Y.Map<unknown>>

  constructor(readonly doc: Y.Doc) {
    this.profile = doc.getMap('profile')
    this.chats = doc.getMap('chats')
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
    const map = this.chats.get(chatId)
    if (map === undefined) return false
    this.doc.transact(() => {
      for (const [k, v] of Object.entries(patch)) map.set(k, v)
    })
    return true
  }

  getChat(chatId: string): ChatEntry | null {
    const map = this.chats.get(chatId)
    if (!(map instanceof Y.Map)) return null
    return {
      chatId,
      title: String(map.get('title') ?? ''),
      createdAt: Number(map.get('createdAt') ?? 0),
      archived: map.get('archived') === true,
      muted: map.get('muted') === true,
      pinned: map.get('pinned') === true
    }
  }

  /** The chat's draft (what was typed and not sent yet), the same on every device of the account; '' if none. */
  draftOf(chatId: string): string {
    const draft = this.chats.get(chatId)?.get('draft')
    return typeof draft === 'string' ? draft : ''
  }

  /** Sets or clears ('') a chat's draft; false for a chat the list does not hold. */
  setDraft(chatId: string, text: string): boolean {
    const map = this.chats.get(chatId)
    if (map === undefined) return false
    if (text === '') map.delete('draft')
    else if (map.get('draft') !== text) map.set('draft', text)
    return true
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
