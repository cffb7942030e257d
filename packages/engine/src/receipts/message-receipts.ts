import type { MessageRecord, MessageStatus } from '../model/message.js'
import { covers } from './position.js'
import type { ReceiptBook, ReceiptKind } from './receipt-book.js'

/** How far a message got with one recipient account: on one of its devices at least, or read. */
export interface MessageReceipt {
  account: string
  status: ReceiptKind
}

/** Statuses in the order a message moves through them; a message's status only ever moves right (`failed`, final, is off this line). */
const STATUS_ORDER: readonly MessageStatus[] = ['pending', 'sent', 'delivered', 'read']

/**
 * A message's receipts (each recipient account — every member but its author — whose
 * watermark covers it) and its status: `base` (pending or sent, from this device's outbox
 * and the relays' acks), moved on to delivered once every recipient has it, and to read once
 * every recipient read it (WhatsApp's ticks: a group message is read when all have read it).
 * With no recipient (a chat of one account) it stays at `base`.
 *
 * This account's own message (`own`) moves on only once a relay holds it (`sent`): "sent" means
 * durable on a relay, and a watermark says nothing of that. It covers a position in display
 * order, not the messages its account holds: a message written offline is stamped at its send
 * time, so it lands below a watermark raised meanwhile by an account that never got it. Taken as
 * "another account holds it, a relay passed it on", such a message showed sent and delivered
 * while no relay had it, and was gone for good when its device was revoked before it uploaded
 * it (simulator seeds 20261140 and 20261142). Its receipts are listed all the same; its status
 * waits for the ack. Another account's message is not: it came from a relay, and this device
 * hears no ack of it (its base stays pending), so a watermark moves it on as before. Nor is
 * one `failed` (its account was removed from the chat, and this device's upload refused): the
 * device hears of the chat no more, and a sibling's upload may have got it out before the
 * removal (simulator seed 20261138: a2d0 showed it delivered, a2d1 failed, for ever). A
 * `failed` step is never a claim that a relay holds it; the watermark's is the device's best
 * knowledge.
 */
export function receiptsOf(
  book: ReceiptBook | undefined,
  members: readonly string[],
  m: MessageRecord,
  base: MessageStatus,
  own = false
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
  if (own && base === 'pending') return { status: base, receipts }
  let status = base
  if (recipients > 0 && read === recipients) status = 'read'
  else if (recipients > 0 && delivered === recipients) status = 'delivered'
  // another account's message that one account holds: a relay passed it on, so it is sent
  // (`failed` too, in a chat this account was removed from: it did get out)
  else if (delivered > 0 && (base === 'pending' || base === 'failed')) status = 'sent'
  return { status: STATUS_ORDER.indexOf(status) >= STATUS_ORDER.indexOf(base) ? status : base, receipts }
}
