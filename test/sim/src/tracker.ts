import type { Engine, EngineEvent, MessageStatus } from '@tandem/engine'

/**
 * What the workload saw happen, checked against the invariants: which messages
 * were stored (sendMessage resolved) and sent (a relay acked them), and every
 * status each device ever showed (statuses and watermarks never go back).
 */
export class Tracker {
  /** Per account: message id → text, for every send the API reported as stored. */
  readonly stored = new Map<number, Map<string, string>>()
  /** Per account: message ids that some device reported as sent. */
  readonly sent = new Map<number, Set<string>>()
  private readonly statuses = new Map<string, Map<string, MessageStatus>>()
  readonly violations: string[] = []

  recordStored(account: number, id: string, text: string, status: MessageStatus): void {
    if (!this.stored.has(account)) this.stored.set(account, new Map())
    this.stored.get(account)!.set(id, text)
    if (status === 'sent') this.recordSent(account, id)
  }

  onEvent(device: string, account: number, event: EngineEvent): void {
    if (event.type === 'status' && event.status === 'sent') {
      for (const id of event.messageIds) {
        this.recordSent(account, id)
        this.see(device, id, 'sent')
      }
    }
  }

  /** Samples a device's view of one chat: no status may have gone back since last seen. */
  observe(device: string, engine: Engine, chatId: string): void {
    for (const m of engine.listMessages(chatId)) this.see(device, m.id, m.status)
  }

  private see(device: string, id: string, status: MessageStatus): void {
    let seen = this.statuses.get(device)
    if (seen === undefined) {
      seen = new Map()
      this.statuses.set(device, seen)
    }
    if (seen.get(id) === 'sent' && status !== 'sent') this.violations.push(`monotonicity: ${device} showed message ${id} as sent, then as ${status}`)
    if (status === 'sent' || !seen.has(id)) seen.set(id, status)
  }

  private recordSent(account: number, id: string): void {
    if (!this.sent.has(account)) this.sent.set(account, new Set())
    this.sent.get(account)!.add(id)
  }
}
