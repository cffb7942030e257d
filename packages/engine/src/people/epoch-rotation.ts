import type { ChatKeyRecipient } from '@tandem/protocol'
import { EngineStateError } from '../errors.js'
import type { PeopleHost, SharedChats } from './shared-chats.js'

/**
 * A shared chat's next epoch, started by the chat's next writer that knows a member account
 * moved to a newer key generation (DESIGN §5: it revoked a device, which may hold the older
 * account key): a new random key sealed to every member's newest account key, in the chat's
 * next record version. The record goes to the relay; the device writes under it once the relay
 * confirms it (SharedChats.sealable), or under the record that won there.
 */
export class EpochRotation {
  /** Rotations under way, and records a rotation failed on (not tried again: the chat is written in its epoch). */
  private readonly rotating = new Set<string>()
  private readonly unrotatable = new Set<string>()

  constructor(
    private readonly host: PeopleHost,
    private readonly chats: Pick<SharedChats, 'keys' | 'currentRecipients' | 'selfRecipient' | 'sign'>
  ) {}

  /** Whether the chat's next epoch is due before this device writes in it; if so, it is started (see rotate). */
  due(chatId: string): boolean {
    if (!this.stale(chatId)) return false
    void this.rotate(chatId)
    return true
  }

  /**
   * Whether a member account's key generation is past the one the chat's newest epoch is sealed
   * to (DESIGN §5: it revoked a device, which may hold the older account key): this account's
   * own, or another's as its chain was last read.
   */
  private stale(chatId: string): boolean {
    const record = this.chats.keys.record(chatId)
    const me = this.host.accountId()
    if (record?.keys == null || !record.members.includes(me) || this.unrotatable.has(`${chatId}:${record.version}`)) return false
    return record.keys.boxes.some(b => this.newerKey(b.account, b.generation) !== null)
  }

  /**
   * Whether a member account's chain, as this device last read it, started a newer key
   * generation than the one the chat's newest epoch is sealed to: its own account's counted
   * from the newest link held (settled or not), as the relay counts it. The relay then refuses
   * blobs sealed in that epoch (ERR_STALE_EPOCH), and the next one is due.
   */
  behind(chatId: string): boolean {
    const record = this.chats.keys.record(chatId)
    if (record?.keys == null) return false
    const me = this.host.accountId()
    const own = this.host.ring()?.latest ?? 0
    return record.keys.boxes.some(b => (b.account === me ? own > b.generation : (this.host.chains.latestAccountKey(b.account)?.generation ?? 0) > b.generation))
  }

  /** The account's newer account key than `generation`'s, when this device knows one. */
  private newerKey(account: string, generation: number): ChatKeyRecipient | null {
    if (account === this.host.accountId()) {
      const g = this.host.ring()?.writeEpoch() ?? null
      return g !== null && g > generation ? this.chats.selfRecipient() : null
    }
    const latest = this.host.chains.latestAccountKey(account)
    return latest !== null && latest.generation > generation ? { account, ...latest } : null
  }

  /** Starts the chat's next epoch, sealed to every member's newest account key (one rotation at a time per chat). */
  async rotate(chatId: string): Promise<void> {
    if (this.rotating.has(chatId)) return
    this.rotating.add(chatId)
    const record = this.chats.keys.record(chatId)!
    try {
      const keys = this.chats.keys.keys(chatId)
      if (keys === null) throw new EngineStateError(`this device does not hold the keys of chat ${chatId}`)
      const recipients = this.chats.currentRecipients(record).map(r => this.newerKey(r.account, r.generation) ?? r)
      await this.chats.sign(chatId, record, recipients, keys.length + 1, this.host.runtime.randomBytes(32), keys)
    } catch (err) {
      this.unrotatable.add(`${chatId}:${record.version}`)
      this.host.events.emit({ type: 'error', error: err as Error })
    } finally {
      this.rotating.delete(chatId)
      this.host.keysChanged()
    }
  }
}
