import type { SignedMembership } from '@tandem/protocol'
import type { PeopleDoc } from '../model/people-doc.js'
import type { ChatKeyRing } from './chat-key-ring.js'

/**
 * Who may have written a shared chat's blobs. `writers` is asked at every blob of the chat
 * another device wrote (its author's account is looked for among them), and the records change
 * far more rarely: its answers are kept until a record changes.
 */
export class ChatWriters {
  /** By chat and epoch, while the chat's newest record is the one it was read under. */
  private readonly held = new Map<string, { record: SignedMembership; accounts: readonly string[] }>()

  constructor(
    private readonly keys: ChatKeyRing,
    private readonly people: () => PeopleDoc | null
  ) {}

  /**
   * The accounts whose devices may have written blobs of the chat sealed in `epoch`: the members
   * now, and those removed since who held that epoch's key (a record naming them seals an epoch
   * at or past it). What a member wrote before its removal stays readable: with the members
   * now alone, every blob a removed account's devices wrote before it was refused for ever
   * (simulator seed 20261128: a group's remaining members never converged).
   */
  writers(chatId: string, epoch: number): readonly string[] {
    const record = this.keys.record(chatId)
    if (record === null) return []
    const key = `${chatId} ${epoch}`
    const held = this.held.get(key)
    if (held?.record === record) return held.accounts
    const accounts = new Set(record.members)
    for (const r of this.people()?.allMemberships(chatId) ?? []) if ((r.keys?.epoch ?? 0) >= epoch) for (const m of r.members) accounts.add(m)
    if (this.held.size >= 1024) this.held.clear()
    const list = [...accounts]
    this.held.set(key, { record, accounts: list })
    return list
  }

  /** A record came or changed (any chat's, any version). */
  recordsChanged(): void {
    this.held.clear()
  }
}
