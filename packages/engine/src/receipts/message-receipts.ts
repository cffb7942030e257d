import type { MessageRecord, MessageStatus } from '../model/message.js'
import { covers } from './position.js'
import type { ReceiptBook, ReceiptKind } from './receipt-book.js'

/** How far a message got with one recipient account: on one of its devices at least, or read. */
export interface MessageReceipt {
  account: string
  status: ReceiptKind
}

/** Statuses in the order a message moves through them; a message's status only ever moves right (`failed`, final, is off this line). */
export const STATUS_ORDER: readonly MessageStatus[] = ['pending', 'sent', 'delivered', 'read']

/**
 * A message's receipts (each recipient account — every member but its author — whose
 * watermark covers it) and its status: `base` (pending or sent, from this device's outbox
 * and the relays' acks; sent once any recipient has it), moved on to delivered once every
 * recipient has it, and to read once every recipient read it (WhatsApp's ticks: a group message is read when all have read it).
 * With no recipient (a chat of one account) it stays at `base`.
 */
export function receiptsOf(
  book: ReceiptBook | undefined,
  members: readonly string[],
  m: MessageRecord,
  base: MessageStatus
): { status: MessageStatus; receipts: MessageReceipt[] } {
  const receipts: MessageReceipt[] = []
  if (book === undefined) return { status: base, receipts }
  let recipients = 0
  let delivered = 0
  let read = 0
  for (const account of members) {
    if (account === m.author) continue
    recipients++
    if (covers(book.watermark('read', account), m)) {
      read++
      delivered++
      receipts.push({ account, status: 'read' })
    } else if (covers(book.watermark('delivered', account), m)) {
      delivered++
      receipts.push({ account, status: 'delivered' })
    }
  }
  let status = base
  if (recipients > 0 && read === recipients) status = 'read'
  else if (recipients > 0 && delivered === recipients) status = 'delivered'
  // another account holds it: a relay passed it on, so it is sent whatever the ack says yet
  // (SentTracker.reached reports that step as an event at the same moment)
  // (`failed` too: what another account holds did get out before this one was removed)
  else if (delivered > 0 && (base === 'pending' || base === 'failed')) status = 'sent'
  return { status: STATUS_ORDER.indexOf(status) >= STATUS_ORDER.indexOf(base) ? status : base, receipts }
}
