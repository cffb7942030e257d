import type { ReceiptKind } from './receipt-book.js'

/** The receipt events one step released: one per kind and account, delivered before read. */
export interface ReleasedReceipts {
  kind: ReceiptKind
  account: string
  ids: string[]
}

/**
 * Receipts of this account's messages that came before a relay acked them. A watermark covers
 * a position in display order, so it can cover a message before its `sent` step (a recipient's
 * mark fanned out before the relay's fsync'd ack came back; or a message written offline,
 * stamped below a mark raised meanwhile). Its status waits for the ack (receiptsOf); its
 * receipt events wait here, so that `sent` is told before `delivered` and `delivered` before
 * `read`. Bounded by this account's messages no relay acked yet: each leaves at its `sent` or
 * `failed` step.
 */
export class EarlyReceipts {
  /** chat id → message id → (account → the furthest kind its watermark reached). */
  private readonly held = new Map<string, Map<string, Map<string, ReceiptKind>>>()

  hold(chatId: string, messageId: string, kind: ReceiptKind, account: string): void {
    let chat = this.held.get(chatId)
    if (chat === undefined) {
      chat = new Map()
      this.held.set(chatId, chat)
    }
    let accounts = chat.get(messageId)
    if (accounts === undefined) {
      accounts = new Map()
      chat.set(messageId, accounts)
    }
    if (accounts.get(account) !== 'read') accounts.set(account, kind)
  }

  /** The messages took their step: what was held of them, as events to tell (a read one is told delivered first). */
  release(chatId: string, messageIds: readonly string[]): ReleasedReceipts[] {
    const chat = this.held.get(chatId)
    if (chat === undefined) return []
    const delivered = new Map<string, string[]>()
    const read = new Map<string, string[]>()
    for (const id of messageIds) {
      const accounts = chat.get(id)
      if (accounts === undefined) continue
      chat.delete(id)
      for (const [account, kind] of accounts) {
        push(delivered, account, id)
        if (kind === 'read') push(read, account, id)
      }
    }
    if (chat.size === 0) this.held.delete(chatId)
    const out: ReleasedReceipts[] = []
    for (const [account, ids] of delivered) out.push({ kind: 'delivered', account, ids })
    for (const [account, ids] of read) out.push({ kind: 'read', account, ids })
    return out
  }
}

function push(map: Map<string, string[]>, key: string, id: string): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [id])
  else list.push(id)
}
