import type { MessageRecord, MessageStatus } from '../model/message.js'
import type { MessageMembers } from './chat-members.js'
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
 * A message's receipts (each account it was written to but its author whose watermark covers
 * it, removed since or not) and its status: `base` (pending or sent, from this device's outbox
 * and the relays' acks), moved on to delivered once every
 * recipient that is a member still has it, and to read once every one of them read it
 * (WhatsApp's ticks: a group message is read when all have read it). Once every recipient has
 * been removed, it shows the furthest any of them got: their watermarks no longer move, and
 * counting none of them took a delivered message back to sent (simulator seeds 20261128 and
 * 20261144 with --people: the one recipient of a message was removed from the group). With no
 * recipient at all (a chat of one account) it stays at `base`.
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
  wroteTo: MessageMembers,
  m: MessageRecord,
  base: MessageStatus,
  own = false
): { status: MessageStatus; receipts: MessageReceipt[] } {
  const receipts: MessageReceipt[] = []
  if (book === undefined) return { status: base, receipts }
  const reached = (account: string): ReceiptKind | null =>
    covers(book.watermark('read', account), m) ? 'read' : covers(book.watermark('delivered', account), m) ? 'delivered' : null
  const members = wroteTo.members.filter(a => a !== m.author)
  const removed = wroteTo.removed.filter(a => a !== m.author)
  let held = 0
  // every recipient while any is a member still; the furthest of the removed ones once none is
  let furthest: number = members.length > 0 ? RANK.read : RANK.none
  for (const account of [...members, ...removed]) {
    const kind = reached(account)
    if (kind !== null) {
      held++
      receipts.push({ account, status: kind })
    }
    const rank = kind === null ? RANK.none : RANK[kind]
    if (members.length > 0 && members.includes(account)) furthest = Math.min(furthest, rank)
    else if (members.length === 0) furthest = Math.max(furthest, rank)
  }
  if (own && base === 'pending') return { status: base, receipts }
  let status = base
  if (furthest === RANK.read) status = 'read'
  else if (furthest === RANK.delivered) status = 'delivered'
  // another account's message that one account holds: a relay passed it on, so it is sent
  // (`failed` too, in a chat this account was removed from: it did get out)
  else if (held > 0 && (base === 'pending' || base === 'failed')) status = 'sent'
  return { status: STATUS_ORDER.indexOf(status) >= STATUS_ORDER.indexOf(base) ? status : base, receipts }
}

const RANK = { none: 0, delivered: 1, read: 2 } as const
