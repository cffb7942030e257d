import type { Engine, Message } from '@tandem/engine'
import { StoreFrameTag, decodeStoreFrame, membershipDocOf } from '@tandem/protocol'
import { LevelAccessRecords, type AccessRecords } from '@tandem/relay'
import type { ChainWatch } from './chain-invariants.js'
import { recordOf, type PeopleRecord } from './people-record.js'
import { readOnly } from './step-invariants.js'
import type { Tracker } from './tracker.js'
import { firstDifference } from './invariants.js'
import { RELAY_ID, type DeviceNode, type World } from './world.js'

/**
 * "A removed member receives nothing after its removal", on the device: no device of an account
 * ever shows a message written by a device that knew the account had been removed from the
 * chat (its membership record, newer than one listing the account, did not list it). Such a
 * message is sealed in an epoch the removed account never gets, and the relay no longer serves
 * it the chat. Returns each finding with a key (reported once).
 */
export function removedReceived(
  node: DeviceNode,
  world: World,
  messages: ReadonlyMap<string, Message[]>,
  people: PeopleRecord,
  where: string
): Array<[key: string, violation: string]> {
  const accountId = world.accountIds[node.account]
  const out: Array<[string, string]> = []
  if (accountId === undefined || people.afterRemoval.size === 0) return out
  for (const list of messages.values())
    for (const m of list) {
      const after = people.afterRemoval.get(m.id)
      if (after?.removed.includes(accountId) !== true) continue
      out.push([
        `removed received ${node.name} ${m.id}`,
        `removed received ${where}: ${node.name} (account ${node.account}) shows message ${m.id} ("${m.text}") of chat ${after.chatId}, written by a device that knew account ${node.account} had been removed from it`
      ])
    }
  return out
}

/**
 * "A removed member receives nothing after its removal", at the relay: once the relay stored a
 * membership record that drops an account (the moment its write resolves, on the relay's
 * sequence of durable events that {@link ChainWatch} keeps), no frame it delivers to a device of
 * that account carries an entry of the chat's docs committed after that moment, nor a live blob
 * sent after it. (The workload never adds a removed account again; a record that lists it again
 * would end the watch for it.)
 */
export class RemovalWatch {
  /** `accountId chatDocId` → the relay event at which a stored record first dropped the account. */
  private readonly removedAt = new Map<string, number>()
  private readonly lateLive = new WeakSet<Uint8Array>()
  private readonly reported = new Set<string>()
  removals = 0

  constructor(
    private readonly world: World,
    private readonly tracker: Tracker,
    private readonly chain: ChainWatch
  ) {
    const watch = world.relayWatch
    world.relayWatch = (history, records) => this.wrap(watch === null ? records : watch(history, records))
    const sent = world.net.onSend
    world.net.onSend = (from, frame, to) => {
      sent?.(from, frame, to)
      if (from === RELAY_ID && frame[0] === StoreFrameTag.live && this.removedAt.size > 0) {
        const key = this.keyOf(to, frame)
        if (key !== null && this.removedAt.has(key)) this.lateLive.add(frame)
      }
    }
    const delivered = world.net.onDeliver
    world.net.onDeliver = (from, to, frame) => {
      delivered?.(from, to, frame)
      if (from === RELAY_ID && this.removedAt.size > 0) this.delivered(to, frame)
    }
  }

  private wrap(records: AccessRecords): AccessRecords {
    return {
      ...bind(records),
      putMembership: async (record, dropped) => {
        const before = await records.membership(record.docId)
        await records.putMembership(record, dropped)
        this.tracker.people.saw(record.docId.slice('chat:'.length), record)
        const at = this.chain.next()
        for (const account of before?.members ?? [])
          if (!record.members.includes(account) && !this.removedAt.has(`${account} ${record.docId}`)) {
            this.removedAt.set(`${account} ${record.docId}`, at)
            this.removals++
          }
        for (const account of record.members) this.removedAt.delete(`${account} ${record.docId}`)
      }
    }
  }

  /** `accountId chatDocId` of a relay frame to a device, or null (not a frame of a chat's doc). */
  private keyOf(to: string, frame: Uint8Array): string | null {
    const d = this.world.devices.find(x => x.peerId === to)
    const accountId = d === undefined ? undefined : this.world.accountIds[d.account]
    if (accountId === undefined) return null
    const f = decodeStoreFrame(frame) as { docId?: string }
    return f.docId?.startsWith('chat:') === true ? `${accountId} ${membershipDocOf(f.docId)}` : null
  }

  private delivered(to: string, frame: Uint8Array): void {
    const tag = frame[0]
    if (tag === StoreFrameTag.live) {
      if (this.lateLive.has(frame)) this.violation(to, 'a live blob', 'sent live after it')
      return
    }
    if (tag !== StoreFrameTag.blob && tag !== StoreFrameTag.notices && tag !== StoreFrameTag['snapshot-data']) return
    const key = this.keyOf(to, frame)
    const removedAt = key === null ? undefined : this.removedAt.get(key)
    if (removedAt === undefined) return
    const f = decodeStoreFrame(frame)
    const seqs = f.type === 'blob' ? [f.seq] : f.type === 'notices' ? f.entries.map(n => n.seq) : f.type === 'snapshot-data' ? [f.covers] : []
    const docId = (f as { docId: string }).docId
    for (const seq of seqs) {
      const at = this.chain.committedAt(docId, seq)
      if (at !== undefined && at > removedAt) this.violation(to, `seq ${seq} of ${docId}`, `committed at relay event ${at}, the removal at ${removedAt}`)
    }
  }

  private violation(to: string, what: string, when: string): void {
    const key = `${to} ${what}`
    if (this.reported.has(key)) return
    this.reported.add(key)
    const d = this.world.devices.find(x => x.peerId === to)
    this.tracker.violations.push(`removed served ${this.tracker.where()}: ${d?.name ?? to} received ${what} (${when}) after the relay stored its account's removal from the chat`)
  }
}

/** An object's methods bound to it (a class instance's are on its prototype: a spread would lose them). */
function bind(records: AccessRecords): AccessRecords {
  return {
    chain: accountId => records.chain(accountId),
    appendLinks: (accountId, links, expectedHead) => records.appendLinks(accountId, links, expectedHead),
    membership: docId => records.membership(docId),
    putMembership: (record, dropped) => records.putMembership(record, dropped),
    membershipsNaming: accountId => records.membershipsNaming(accountId),
    removalsOf: accountId => records.removalsOf(accountId),
    deviceActivity: accountId => records.deviceActivity(accountId),
    putDeviceActivity: (accountId, devices) => records.putDeviceActivity(accountId, devices),
    close: () => records.close()
  }
}

/**
 * "Every device of every member converges": for each chat between accounts, with the members of
 * the membership record the relay holds on its disk, every running device of every member lists
 * the chat, holds that record, and shows the same chat: the same docs (state vectors), messages,
 * texts and edits, replies, reactions, statuses and receipts. (Messages an account deleted for
 * itself are left out: its account doc hides them from its devices alone.) Null when it holds.
 */
export async function whyChatsNotConverged(world: World, people: PeopleRecord): Promise<string | null> {
  const devices = world.devices.filter(d => !d.retired && d.engine !== null && d.engine.accountId !== null)
  const chatIds = new Set<string>()
  for (const d of devices) for (const c of safeChatIds(d.engine!)) if (recordOf(d.engine!, c) !== null) chatIds.add(c)
  if (chatIds.size === 0) return null
  const records = await LevelAccessRecords.open(readOnly(world.relay.disk.db))
  for (const chatId of [...chatIds].sort()) {
    const held = await records.membership(`chat:${chatId}`)
    if (held === null) return `chat ${chatId} is shared, but the relay holds no membership record of it`
    let first: { name: string; digest: string } | null = null
    for (const d of devices) {
      const e = d.engine!
      if (!held.members.includes(e.accountId!)) {
        const removed = whyRemovalUnknown(d.name, e, chatId, held.version)
        if (removed !== null) return removed
        continue
      }
      if (!safeChatIds(e).includes(chatId)) return `${d.name} does not list chat ${chatId}, of which its account is a member`
      const mine = recordOf(e, chatId)
      if (mine === null || mine.version !== held.version) return `${d.name} holds version ${mine?.version ?? 'none'} of chat ${chatId}'s members, the relay ${held.version}`
      const digest = chatDigest(e, chatId, people.hiddenAny)
      if (first === null) first = { name: d.name, digest }
      else if (first.digest !== digest) return `chat convergence: ${d.name} and ${first.name} show chat ${chatId} differently: ${firstDifference(first.digest, digest)}`
    }
  }
  return null
}

/**
 * A device of an account the relay's record leaves out of a chat it holds knows it was removed:
 * the record it holds leaves its account out too (the relay sends a removed account's devices
 * the record that removed it), and none of its messages there shows `pending` for ever (what no
 * relay took is `failed`: the relay refuses it, and the outbox let go of it). Null when it does,
 * or when the device never knew the chat.
 */
function whyRemovalUnknown(name: string, e: Engine, chatId: string, relayVersion: number): string | null {
  const mine = recordOf(e, chatId)
  if (mine === null || !safeChatIds(e).includes(chatId)) return null
  if (mine.members.includes(e.accountId!))
    return `${name} does not know its account was removed from chat ${chatId}: it holds version ${mine.version} naming it, the relay ${relayVersion}`
  const pending = e.listMessages(chatId).find(m => m.status === 'pending')
  return pending === undefined ? null : `${name} shows message ${pending.id} of chat ${chatId} pending, though its account was removed from the chat`
}

/** One chat as a device shows it, the same for every member: its docs' state vectors and its messages, all they show. */
export function chatDigest(e: Engine, chatId: string, skip: ReadonlySet<string>): string {
  const messages = e
    .listMessages(chatId)
    .filter(m => !skip.has(m.id))
    .map(m => [m.id, m.author, m.device, m.timestamp.wall, m.timestamp.counter, m.text, m.edited, m.replyTo?.id ?? null, m.status, m.receipts, m.reactions])
  const svs = Object.entries(e.stateVectors())
    .filter(([id]) => id === `chat:${chatId}` || id.startsWith(`chat:${chatId}:`))
    .filter(([, sv]) => !(sv.byteLength === 1 && sv[0] === 0))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, sv]) => [id, Buffer.from(sv).toString('hex')])
  return JSON.stringify({ svs, messages })
}

function safeChatIds(e: Engine): string[] {
  try {
    return e.listChats().map(c => c.chatId)
  } catch {
    return []
  }
}
