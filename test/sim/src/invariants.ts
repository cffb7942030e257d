import type { Engine } from '@tandem/engine'
import { recordOf } from './people-record.js'
import { STATUS_RANK, type Tracker } from './tracker.js'
import type { DeviceNode } from './world.js'

/**
 * A device's whole decoded state, as a string: equal digests ⇔ identical state. The state
 * vectors are those of the docs the account lists (its own doc and its chats): a chat doc
 * no listed chat names is never shown, and one can be left behind when the device that
 * created the chat was revoked and erased before its account-doc entry reached anyone
 * (seed 20261196: a peer got the chat doc, never the entry).
 */
export function digest(engine: Engine): string {
  const chats = engine.listChats().map(c => {
    // a chat the account was removed from: only what the account doc says of it (see leftChat)
    if (leftChat(engine, c.chatId)) return { chatId: c.chatId, title: c.title, archived: c.archived, muted: c.muted, pinned: c.pinned, draft: c.draft, left: true }
    return { ...c, messages: engine.listMessages(c.chatId).map(m => [m.id, m.text, m.timestamp.wall, m.timestamp.counter, m.status]) }
  })
  const listed = new Set([`account:${engine.accountId}`, ...chats.filter(c => !('left' in c)).map(c => `chat:${c.chatId}`)])
  // a listed chat's segments (`chat:<id>:<n>`) too
  const svs = Object.entries(engine.stateVectors())
    .filter(([id]) => listed.has(id) || listed.has(id.split(':').slice(0, 2).join(':')))
    // an empty doc is the state of no doc: a segment opened for a blob that was then refused (its author revoked) holds nothing
    .filter(([, sv]) => !(sv.byteLength === 1 && sv[0] === 0))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, sv]) => [id, Buffer.from(sv).toString('hex')])
  const account = engine.accountInfo
  return JSON.stringify({ name: account?.name, chats, svs, devices: engine.listDevices().map(d => d.peerId) })
}

/**
 * Whether the device's record of a chat no longer lists its account. The relay serves a chat's
 * docs only to devices of its members (DESIGN §5): what a device of the account held at the
 * removal it keeps, a device linked since gets none of it, and one that was away then lacks
 * what came meanwhile. So the devices of the account are not compared on that chat's history
 * (seeds 20261128 and 20261144 with --people: a new device of the removed account had nothing).
 */
export function leftChat(engine: Engine, chatId: string): boolean {
  const record = recordOf(engine, chatId)
  return record !== null && engine.accountId !== null && !record.members.includes(engine.accountId)
}

/** True when every device of each account holds the same state and has nothing left to upload. */
export function converged(devices: DeviceNode[]): boolean {
  return whyNotConverged(devices) === null
}

/** The first reason the world has not converged, or null. */
export function whyNotConverged(devices: DeviceNode[]): string | null {
  const byAccount = new Map<number, { name: string; digest: string }>()
  for (const d of devices) {
    const e = d.engine
    if (e === null) return `${d.name} is down`
    if (e.accountId === null) return `${d.name} has not joined its account yet`
    for (const r of e.relayStatus()) {
      if (!r.connected) return `${d.name} is not connected to the relay`
      if (r.pendingUploads > 0) return `${d.name} has ${r.pendingUploads} uploads waiting for an ack`
    }
    const repairing = e.storeDamage().repairing
    if (repairing.length > 0) return `${d.name} still waits to fetch ${repairing.join(', ')} whole again (damaged in its store)`
    for (const c of e.listChats()) {
      // sent or beyond: in a chat between accounts a message goes on to delivered and read
      const unsent = e.listMessages(c.chatId).filter(m => STATUS_RANK[m.status] < STATUS_RANK.sent)
      if (unsent.length > 0) return `${d.name} shows ${unsent.length} messages of ${c.chatId} not sent (e.g. ${unsent[0]!.text})`
    }
    const dg = digest(e)
    const seen = byAccount.get(d.account)
    if (seen === undefined) byAccount.set(d.account, { name: d.name, digest: dg })
    else if (seen.digest !== dg) return `${d.name} differs from ${seen.name}: ${firstDifference(seen.digest, dg)}`
  }
  return null
}

/**
 * The end-of-seed checks (the step invariants' findings are the tracker's); returns violations (empty when all hold).
 * `erased`: peer ids of devices that were revoked and erased their stores; a message one of them stored and no relay
 * acknowledged may be gone with it (a message reported sent may not).
 */
export function checkFinal(devices: DeviceNode[], tracker: Tracker, erased: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = []
  const accounts = new Set(devices.map(d => d.account))
  // the chat of every message any device shows (for one a device lacks)
  const chatOf = new Map<string, string>()
  for (const d of devices) for (const c of d.engine!.listChats()) for (const m of d.engine!.listMessages(c.chatId)) chatOf.set(m.id, c.chatId)
  for (const account of accounts) {
    const members = devices.filter(d => d.account === account)
    const first = members[0]!
    const base = digest(first.engine!)
    for (const d of members.slice(1)) {
      const dg = digest(d.engine!)
      if (dg !== base) out.push(`convergence: ${d.name} differs from ${first.name}: ${firstDifference(base, dg)}`)
    }
    for (const d of members) {
      const e = d.engine!
      const ids = new Map<string, number>()
      const texts = new Map<string, number>()
      // chats the account left of which this device holds nothing: linked since, it was never owed their history
      const never = new Set<string>()
      for (const c of e.listChats()) {
        const shown = e.listMessages(c.chatId)
        if (shown.length === 0 && leftChat(e, c.chatId)) never.add(c.chatId)
        for (const m of shown) {
          ids.set(m.id, (ids.get(m.id) ?? 0) + 1)
          texts.set(m.text, (texts.get(m.text) ?? 0) + 1)
        }
      }
      const owed = (id: string): boolean => !tracker.people.gone(account, id) && !never.has(chatOf.get(id) ?? '')
      for (const [id, n] of ids) if (n > 1) out.push(`duplicate: ${d.name} holds message ${id} ${n} times`)
      for (const [t, n] of texts) if (n > 1) out.push(`duplicate: ${d.name} holds text "${t}" ${n} times`)
      // (a message deleted for everyone, or by this account for itself, is owed to no one)
      for (const id of tracker.sent.get(account) ?? []) if (!ids.has(id) && owed(id)) out.push(`durability: ${d.name} lacks message ${id}, which was reported sent`)
      for (const [id, text] of tracker.stored.get(account) ?? [])
        if (!ids.has(id) && !erased.has(tracker.issued.get(text) ?? '') && owed(id)) out.push(`durability: ${d.name} lacks "${text}" (${id}), which was reported stored`)
    }
  }
  return out
}

/** Where two digests part, with a little of each. */
export function firstDifference(a: string, b: string): string {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return `…${a.slice(Math.max(0, i - 80), i + 80)}… vs …${b.slice(Math.max(0, i - 80), i + 80)}…`
}
