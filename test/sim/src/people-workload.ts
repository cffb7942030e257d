import type { Engine, Message } from '@tandem/engine'
import type { Rng } from './rng.js'
import { recordOf } from './people-record.js'
import type { Tracker } from './tracker.js'
import type { DeviceNode, World } from './world.js'

/** What the people workload does at one of the workload's moments. */
export type PeopleAction = 'invite' | 'group' | 'addMember' | 'removeMember' | 'send' | 'reply' | 'markRead' | 'edit' | 'react' | 'unreact' | 'deleteForEveryone' | 'deleteForMe'

/** Chance that a workload moment also brings a people action (drawn from the people workload's own stream). */
export const PEOPLE_ACTION_CHANCE = 0.45
const PEOPLE_ACTIONS: Readonly<Record<PeopleAction, number>> = {
  invite: 1,
  group: 1.5,
  addMember: 1,
  removeMember: 2,
  send: 6,
  reply: 3,
  markRead: 6,
  edit: 3,
  react: 3,
  unreact: 1,
  deleteForEveryone: 1.2,
  deleteForMe: 1.2
}
const EMOJIS = ['👍', '❤️', '😂', 'ok'] as const

/**
 * The workload between accounts (issue 16), beside the messaging and device-chain ones and
 * drawn from a random stream of its own: accounts invite each other (`createInvite` and
 * `acceptInvite`, which open a 1:1 chat), make groups, add and remove members (a removed account
 * is never added again: what it may receive after its removal stays exactly "nothing"), and
 * in those chats send, reply, read, edit, react, delete for everyone and for themselves, from
 * any of their devices. Each action is one bounded step; what it starts runs on the virtual
 * clock (its promise joins `pending`), and what it did is recorded in the tracker for the
 * invariants (edits' texts, deletions, what a sender knew of removals when it wrote).
 */
export class PeopleWorkload {
  private messageNo = 0
  invites = 0
  groups = 0
  removals = 0
  actions = 0

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly tracker: Tracker,
    private readonly note: (line: string) => void,
    private readonly pending: Array<Promise<unknown>>
  ) {}

  /**
   * The start of a run, on a calm network: each pair of accounts meets by an invite, and the
   * first account makes a group of everyone when there are three (with a chance). Awaited
   * (through `wait`, the scheduler's) so every seed has chats between accounts to work on.
   */
  async setup(wait: <T>(p: Promise<T>) => Promise<T>): Promise<void> {
    const n = this.world.accountIds.length
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) await this.invite(a, b, wait)
    if (n >= 3 && this.rng.chance(0.7)) {
      const d = this.firstLive(0)
      if (d !== null) {
        const members = this.world.accountIds.slice(1)
        const chat = await wait(d.engine!.createGroup({ title: `group by ${d.name}`, members }))
        this.groups++
        this.note(`${d.name} makes group ${chat.chatId.slice(0, 8)} with every account`)
      }
    }
  }

  /** One workload moment: usually nothing, sometimes one people action. */
  async maybeAct(): Promise<void> {
    if (!this.rng.chance(PEOPLE_ACTION_CHANCE)) return
    const action = this.rng.weighted(PEOPLE_ACTIONS)
    const d = this.pickMember()
    if (d === null) return
    const e = d.engine!
    this.actions++
    switch (action) {
      case 'invite': {
        const others = this.world.accountIds.map((_, i) => i).filter(i => i !== d.account && !knows(e, this.world.accountIds[i]!))
        if (others.length > 0) this.pending.push(this.invite(this.rng.pick(others), d.account, p => p).catch(() => {}))
        return
      }
      case 'group': {
        const members = this.world.accountIds.filter((id, i) => i !== d.account && this.rng.chance(0.6) && knowsChain(e, id))
        if (members.length === 0) return
        this.note(`${d.name} makes a group with ${members.length} other accounts`)
        this.pending.push(
          e.createGroup({ title: `group by ${d.name}`, members }).then(
            () => this.groups++,
            err => this.note(`${d.name} could not make a group: ${code(err)}`)
          )
        )
        return
      }
      case 'addMember': {
        const chat = this.sharedChat(e)
        if (chat === null) return
        const now = safeMembers(e, chat)
        const candidates = this.world.accountIds.filter(id => !now.includes(id) && !this.tracker.people.wasMember(chat, id) && knowsChain(e, id))
        if (candidates.length === 0) return
        const add = this.rng.pick(candidates)
        this.note(`${d.name} adds account ${this.world.accountIds.indexOf(add)} to ${chat.slice(0, 8)}`)
        this.pending.push(e.addMembers(chat, [add]).catch(err => this.note(`${d.name} could not add a member: ${code(err)}`)))
        return
      }
      case 'removeMember': {
        const chat = this.sharedChat(e)
        if (chat === null) return
        const others = safeMembers(e, chat).filter(id => id !== e.accountId)
        // a 1:1 chat stays one: removing the other account would leave a chat of one
        if (others.length < 2) return
        const gone = this.rng.pick(others)
        this.removals++
        this.note(`${d.name} removes account ${this.world.accountIds.indexOf(gone)} from ${chat.slice(0, 8)}`)
        this.pending.push(e.removeMember(chat, gone).catch(err => this.note(`${d.name} could not remove a member: ${code(err)}`)))
        return
      }
      case 'send':
      case 'reply': {
        const chat = this.sharedChat(e)
        if (chat === null) return
        const to = action === 'reply' ? this.pickMessage(e, chat) : null
        for (let i = this.rng.int(1, 3); i > 0; i--) this.send(d, chat, to?.id)
        return
      }
      case 'markRead': {
        const chat = this.sharedChat(e)
        const m = chat === null ? null : this.pickMessage(e, chat)
        if (m !== null) this.pending.push(e.markRead(chat!, m.id).catch(() => {}))
        return
      }
      case 'edit': {
        const chat = this.sharedChat(e)
        const own = chat === null ? [] : safeMessages(e, chat).filter(m => m.author === e.accountId)
        if (own.length === 0) return
        const m = this.rng.pick(own)
        const text = `${d.name}~edit${this.messageNo++}`
        this.tracker.people.edited(text, m.id, d.peerId)
        this.pending.push(e.editMessage(chat!, m.id, text).catch(() => {}))
        return
      }
      case 'react':
      case 'unreact': {
        const chat = this.sharedChat(e)
        const m = chat === null ? null : this.pickMessage(e, chat)
        if (m !== null) this.pending.push(e.react(chat!, m.id, this.rng.pick(EMOJIS), action === 'react').catch(() => {}))
        return
      }
      case 'deleteForEveryone': {
        const chat = this.sharedChat(e)
        const own = chat === null ? [] : safeMessages(e, chat).filter(m => m.author === e.accountId)
        if (own.length === 0) return
        const m = this.rng.pick(own)
        this.tracker.people.deleted(m.id)
        this.note(`${d.name} deletes ${m.id} for everyone`)
        this.pending.push(e.deleteMessage(chat!, m.id).catch(() => {}))
        return
      }
      case 'deleteForMe': {
        const chat = this.sharedChat(e)
        const m = chat === null ? null : this.pickMessage(e, chat)
        if (m === null) return
        this.tracker.people.hidden(d.account, m.id)
        this.pending.push(e.deleteForMe(chat!, m.id).catch(() => {}))
        return
      }
    }
  }

  /** Account `b`'s device accepts account `a`'s invite (shown by a device of `a`): a 1:1 chat on both. */
  private async invite(a: number, b: number, wait: <T>(p: Promise<T>) => Promise<T>): Promise<void> {
    const inviter = this.firstLive(a)
    const accepter = this.firstLive(b)
    if (inviter === null || accepter === null) return
    const shown = inviter.engine!.createInvite()
    try {
      const chat = await wait(accepter.engine!.acceptInvite(shown.text))
      this.invites++
      this.note(`${accepter.name} accepts ${inviter.name}'s invite: 1:1 chat ${chat.chatId.slice(0, 8)}`)
    } catch (err) {
      this.note(`${accepter.name} could not accept ${inviter.name}'s invite: ${code(err)}`)
    }
  }

  /**
   * Sends in a chat between accounts, recording which accounts the sender knew were removed
   * from it (members once, not now, in its view): those must never get this message.
   */
  private send(d: DeviceNode, chatId: string, replyTo: string | undefined): void {
    const e = d.engine!
    const text = `${d.name}~${this.messageNo++}`
    this.tracker.issued.set(text, d.peerId)
    const record = recordOf(e, chatId)
    const removed = record === null ? [] : this.tracker.people.removedIn(chatId, record)
    this.pending.push(
      e.sendMessage(chatId, text, replyTo === undefined ? {} : { replyTo }).then(
        m => {
          this.tracker.recordStored(d.account, m.id, text, m.status)
          if (removed.length > 0) this.tracker.people.writtenAfterRemoval(chatId, m.id, removed)
        },
        () => {}
      )
    )
  }

  /** A chat between accounts the device lists (one whose members it knows, itself among them), or null. */
  private sharedChat(e: Engine): string | null {
    let chats: string[]
    try {
      chats = e.listChats().map(c => c.chatId)
    } catch {
      return null
    }
    const shared = chats.filter(c => {
      const record = recordOf(e, c)
      if (record === null) return false
      this.tracker.people.saw(c, record)
      return record.members.length > 1 && record.members.includes(e.accountId!)
    })
    return shared.length === 0 ? null : this.rng.pick(shared)
  }

  private pickMessage(e: Engine, chatId: string): Message | null {
    const ms = safeMessages(e, chatId)
    return ms.length === 0 ? null : this.rng.pick(ms)
  }

  /** A live device in its account (joined), or null. */
  private pickMember(): DeviceNode | null {
    const live = this.world.live().filter(d => d.engine!.accountId !== null && !d.retired)
    return live.length === 0 ? null : this.rng.pick(live)
  }

  /** The first live device of an account that is in it (no draw: deterministic). */
  private firstLive(account: number): DeviceNode | null {
    return this.world.devices.find(d => d.account === account && d.engine !== null && d.engine.accountId !== null && !d.retired) ?? null
  }
}

const code = (err: unknown): string => `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`

/** The chat's members as the device knows them, or [] (a chat of one account, still opening, or not a chat). */
export function safeMembers(e: Engine, chatId: string): string[] {
  try {
    return e.listMembers(chatId).map(m => m.accountId)
  } catch {
    return []
  }
}

function safeMessages(e: Engine, chatId: string): Message[] {
  try {
    return e.listMessages(chatId)
  } catch {
    return []
  }
}

/** Whether the device has the account as a contact. */
function knows(e: Engine, accountId: string): boolean {
  try {
    return e.listContacts().some(c => c.accountId === accountId)
  } catch {
    return false
  }
}

/** Whether the device may name the account in a group: a contact (its relay holds the account's chain either way). */
const knowsChain = knows
