import type * as Y from 'yjs'
import type { AccountDoc } from '../model/account-doc.js'

/** Separates chat id and message id in a key: neither holds it. */
const SEP = ' '

/**
 * Messages deleted "for me": hidden on every device of this account, kept for everyone else.
 * They are a map in the account doc (`hidden`: `chatId messageId` → true), not in the chat:
 * the account doc is this account's alone, so the other members never learn what it hid,
 * and a chat doc every member syncs stays the same for all. (Measured, `test/receipts`: an
 * entry costs the same ~60 B in either doc; where it lives is a question of who sees it.)
 */
export class HiddenMessages {
  private indexed: { doc: Y.Doc; byChat: Map<string, Set<string>> } | null = null

  constructor(
    private readonly account: () => AccountDoc | null,
    /** Messages were hidden (here or on another device of the account). */
    private readonly changed: (chatId: string, messageIds: string[], origin: unknown) => void
  ) {}

  /** The account doc opened: hidden messages are indexed and followed from now on. */
  watch(): void {
    this.index()
  }

  isHidden(chatId: string, messageId: string): boolean {
    return this.index()?.get(chatId)?.has(messageId) ?? false
  }

  /** Whether the chat has any hidden message (listing skips the filter when not). */
  anyIn(chatId: string): boolean {
    return (this.index()?.get(chatId)?.size ?? 0) > 0
  }

  /** Hides a message on every device of the account (the caller's transaction on the account doc). */
  hide(account: AccountDoc, chatId: string, messageId: string): void {
    account.doc.getMap<boolean>('hidden').set(`${chatId}${SEP}${messageId}`, true)
  }

  private index(): Map<string, Set<string>> | null {
    const account = this.account()
    if (account === null) return null
    if (this.indexed?.doc !== account.doc) {
      const map = account.doc.getMap<boolean>('hidden')
      const byChat = new Map<string, Set<string>>()
      for (const key of map.keys()) add(byChat, key)
      this.indexed = { doc: account.doc, byChat }
      map.observe(event => {
        const changed = new Map<string, string[]>()
        for (const key of event.keysChanged) {
          const parsed = add(byChat, key)
          if (parsed === null) continue
          changed.set(parsed.chatId, [...(changed.get(parsed.chatId) ?? []), parsed.messageId])
        }
        for (const [chatId, ids] of changed) this.changed(chatId, ids, event.transaction.origin)
      })
    }
    return this.indexed.byChat
  }
}

function add(byChat: Map<string, Set<string>>, key: string): { chatId: string; messageId: string } | null {
  const at = key.indexOf(SEP)
  if (at <= 0) return null
  const chatId = key.slice(0, at)
  const messageId = key.slice(at + 1)
  let ids = byChat.get(chatId)
  if (ids === undefined) {
    ids = new Set()
    byChat.set(chatId, ids)
  }
  ids.add(messageId)
  return { chatId, messageId }
}
