import type { Engine } from '@tandem/engine'
import { recordOf } from './people-record.js'
import { STATUS_RANK, type Tracker } from './tracker.js'
import type { DeviceNode } from './world.js'

const NONE: ReadonlySet<string> = new Set()

/**
 * A device's whole decoded state, as a string: equal digests ⇔ identical state. The state
 * vectors are those of the docs the account lists (its own doc and its chats): a chat doc
 * no listed chat names is never shown, and one can be left behind when the device that
 * created the chat was revoked and erased before its account-doc entry reached anyone
 * (seed 20261196: a peer got the chat doc, never the entry). Chats in `skip` are left out, docs and all.
 */
export function digest(engine: Engine, skip: ReadonlySet<string> = NONE): string {
  const chats = engine
    .listChats()
    .filter(c => !skip.has(c.chatId))
    .map(c => ({
      ...c,
      messages: engine.listMessages(c.chatId).map(m => [m.id, m.text, m.timestamp.wall, m.timestamp.counter, m.status])
    }))
  const listed = new Set([`account:${engine.accountId}`, ...chats.map(c => `chat:${c.chatId}`)])
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
 * Per account, the chats it was removed from, as its running devices' records say. A device
 * that joined the account after the removal cannot get such a chat from the relay alone: the
 * relay serves a chat's docs to its member accounts' devices only (DESIGN §5), the removal
 * record included, and the chat's history before the removal lives on the account's older
 * devices (which pass it on over the LAN). So once a new device joined from the relay alone,
 * the checks leave those chats out (before it, in the liveness phase, every device of the
 * account was compared on them in full).
 */
export function removedChats(devices: DeviceNode[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>()
  for (const d of devices) {
    const e = d.engine
    if (e === null || e.accountId === null) continue
    let chats: string[]
    try {
      chats = e.listChats().map(c => c.chatId)
    } catch {
      continue
    }
    for (const chatId of chats) {
      const record = recordOf(e, chatId)
      if (record === null || record.members.includes(e.accountId)) continue
      if (!out.has(d.account)) out.set(d.account, new Set())
      out.get(d.account)!.add(chatId)
    }
  }
  return out
}

/** True when every device of each account holds the same state and has nothing left to upload. */
export function converged(devices: DeviceNode[], skip?: Map<number, Set<string>>): boolean {
  return whyNotConverged(devices, skip) === null
}

/** The first reason the world has not converged, or null (`skip`: per account, chats left out: see removedChats). */
export function whyNotConverged(devices: DeviceNode[], skip?: Map<number, Set<string>>): string | null {
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
    const dg = digest(e, skip?.get(d.account))
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
export function checkFinal(devices: DeviceNode[], tracker: Tracker, erased: ReadonlySet<string> = new Set(), skip?: Map<number, Set<string>>): string[] {
  const out: string[] = []
  const accounts = new Set(devices.map(d => d.account))
  for (const account of accounts) {
    const members = devices.filter(d => d.account === account)
    const first = members[0]!
    const left = skip?.get(account) ?? NONE
    const base = digest(first.engine!, left)
    // what the account's devices hold of the chats left out: owed to none of them here
    const leftIds = new Set<string>()
    for (const d of members) for (const chatId of left) for (const m of safeMessages(d.engine!, chatId)) leftIds.add(m)
    for (const d of members.slice(1)) {
      const dg = digest(d.engine!, left)
      if (dg !== base) out.push(`convergence: ${d.name} differs from ${first.name}: ${firstDifference(base, dg)}`)
    }
    for (const d of members) {
      const e = d.engine!
      const ids = new Map<string, number>()
      const texts = new Map<string, number>()
      for (const c of e.listChats()) {
        if (left.has(c.chatId)) continue
        for (const m of e.listMessages(c.chatId)) {
          ids.set(m.id, (ids.get(m.id) ?? 0) + 1)
          texts.set(m.text, (texts.get(m.text) ?? 0) + 1)
        }
      }
      for (const [id, n] of ids) if (n > 1) out.push(`duplicate: ${d.name} holds message ${id} ${n} times`)
      for (const [t, n] of texts) if (n > 1) out.push(`duplicate: ${d.name} holds text "${t}" ${n} times`)
      // (a message deleted for everyone, or by this account for itself, is owed to no one)
      for (const id of tracker.sent.get(account) ?? [])
        if (!ids.has(id) && !leftIds.has(id) && !tracker.people.gone(account, id)) out.push(`durability: ${d.name} lacks message ${id}, which was reported sent`)
      for (const [id, text] of tracker.stored.get(account) ?? [])
        if (!ids.has(id) && !leftIds.has(id) && !erased.has(tracker.issued.get(text) ?? '') && !tracker.people.gone(account, id))
          out.push(`durability: ${d.name} lacks "${text}" (${id}), which was reported stored`)
    }
  }
  return out
}

function safeMessages(e: Engine, chatId: string): string[] {
  try {
    return e.listMessages(chatId).map(m => m.id)
  } catch {
    return []
  }
}

/** Where two digests part, with a little of each. */
export function firstDifference(a: string, b: string): string {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return `…${a.slice(Math.max(0, i - 80), i + 80)}… vs …${b.slice(Math.max(0, i - 80), i + 80)}…`
}
