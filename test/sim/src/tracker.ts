import type { EngineEvent, Message, MessageStatus } from '@tandem/engine'
import { PeopleRecord } from './people-record.js'

/**
 * Where a message's status stands on the way to the other devices: a status may only move
 * forward. Every status the engine has gets a rank here (the compiler insists), so a new one
 * must say where it goes.
 */
// (`failed` is final, past `pending` — a removed account's message no relay took; beside `sent`, the other end of that step)
export const STATUS_RANK: Readonly<Record<MessageStatus, number>> = { pending: 0, sent: 1, failed: 1, delivered: 2, read: 3 }

/**
 * What the workload saw happen, checked against the invariants: which messages were
 * stored (sendMessage resolved) and sent (a relay acked them), and the furthest status each
 * device ever showed for each message (statuses never go back: not within a session, and
 * not across a crash and restart either, since what made a message sent is on the device's
 * disk before the device shows it; only a storage fault that destroys that record lets them).
 */
export class Tracker {
  /** Per account: message id → text, for every send the API reported as stored. */
  readonly stored = new Map<number, Map<string, string>>()
  /** Per account: message ids that some device reported as sent. */
  readonly sent = new Map<number, Set<string>>()
  /** Every text the workload sent (texts are unique), with the peer id of the device it sent it from. */
  readonly issued = new Map<string, string>()
  /** Per device (by name, across incarnations) and chat: message id → the furthest status it showed. */
  private readonly statuses = new Map<string, Map<string, MessageStatus>>()
  readonly violations: string[] = []
  /** What the workload between accounts did (issue 16). */
  readonly people = new PeopleRecord()
  /** Per device, chat and message: member account → the furthest receipt it showed (delivered < read). */
  private readonly receipts = new Map<string, Map<string, 'delivered' | 'read'>>()
  /** Per device: events its engine emitted (any kind), so the step invariants know it may show something new. */
  readonly events = new Map<string, number>()
  /** Names the moment for a violation (seed, step, virtual time); set by the run. */
  where: () => string = () => ''

  recordStored(account: number, id: string, text: string, status: MessageStatus): void {
    if (!this.stored.has(account)) this.stored.set(account, new Map())
    this.stored.get(account)!.set(id, text)
    if (status === 'sent') this.recordSent(account, id)
  }

  onEvent(device: string, account: number, event: EngineEvent): void {
    this.events.set(device, (this.events.get(device) ?? 0) + 1)
    // (the event says a relay acked them, not what they show: a message of a chat between accounts can be
    // delivered before its author hears the ack; what each device shows, the step invariants read)
    if (event.type === 'status' && event.status === 'sent') for (const id of event.messageIds) this.recordSent(account, id)
  }

  /** One status a device showed for a message of a chat: it may not be behind what the device showed before. */
  see(device: string, chatId: string, id: string, status: MessageStatus): void {
    const key = `${device} ${chatId}`
    let seen = this.statuses.get(key)
    if (seen === undefined) {
      seen = new Map()
      this.statuses.set(key, seen)
    }
    const before = seen.get(id)
    if (before === undefined || STATUS_RANK[status] > STATUS_RANK[before]) seen.set(id, status)
    else if (STATUS_RANK[status] < STATUS_RANK[before]) {
      this.violations.push(`monotonicity ${this.where()}: ${device} showed message ${id} as ${before}, then as ${status}`)
      seen.set(id, status) // reported once: a status that stays back is one violation, not one per step
    }
  }

  /** A message as a device showed it: its status and each member's receipt may not be behind what the device showed before. */
  seeMessage(device: string, chatId: string, m: Message): void {
    this.see(device, chatId, m.id, m.status)
    if (m.receipts.length === 0) return
    const key = `${device} ${chatId}`
    let seen = this.receipts.get(key)
    if (seen === undefined) {
      seen = new Map()
      this.receipts.set(key, seen)
    }
    for (const r of m.receipts) {
      const slot = `${m.id} ${r.account}`
      const before = seen.get(slot)
      if (before === 'read' && r.status === 'delivered')
        this.violations.push(`monotonicity ${this.where()}: ${device} showed message ${m.id} read by ${r.account}, then only delivered`)
      seen.set(slot, r.status)
    }
  }

  /**
   * A record that made a chat's statuses on this device is gone (a storage fault damaged it: what
   * the relay acknowledged, or a log entry of the chat doc with the receipts in it): the device
   * rightly shows them lower until a relay acknowledges or sends them again.
   */
  forget(device: string, chatId: string): void {
    this.statuses.delete(`${device} ${chatId}`)
    this.receipts.delete(`${device} ${chatId}`)
  }

  private recordSent(account: number, id: string): void {
    if (!this.sent.has(account)) this.sent.set(account, new Set())
    this.sent.get(account)!.add(id)
  }
}
