import {
  MAX_ACTIVITY_ENTRIES,
  MAX_CHAIN_LINKS,
  decodeChainLink,
  decodeSignedMembership,
  encodeChainLink,
  encodeSignedMembership,
  headOfLinks,
  isAccountId,
  sameHead,
  type ChainHead,
  type ChainLink,
  type DeviceActivity,
  type SignedMembership
} from '@tandem/protocol'
import { WriteQueue, type KeyValueStore } from '@tandem/storage'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { AccessRecords } from './access-records.js'

// Keys (beside the history's, in the same level store; see history/keys.ts):
//   rec!chain!<accountId>!<version, 10 digits>   encodeChainLink: one key per link, so an append never rewrites the chain
//   rec!membership!<docId>                      encodeSignedMembership (the layout HistoryStore wrote it in)
//   rec!activity!<accountId>                    varuint(n) n × (varstring(peerId) varuint(lastSeenAt))
//   rec!member-of!<accountId>!<docId>           empty: a record of docId named the account (the current record decides)
//   rec!removed!<accountId>!<docId>             encodeSignedMembership: the newest record of docId that removed the account
const VERSION_DIGITS = 10
const chainPrefix = (accountId: string): string => `rec!chain!${accountId}!`
const linkKey = (accountId: string, version: number): string => chainPrefix(accountId) + String(version).padStart(VERSION_DIGITS, '0')
const membershipKey = (docId: string): string => `rec!membership!${docId}`
const activityKey = (accountId: string): string => `rec!activity!${accountId}`
const memberOfPrefix = (accountId: string): string => `rec!member-of!${accountId}!`
const removedPrefix = (accountId: string): string => `rec!removed!${accountId}!`

/**
 * Access records in a level store, under their own `rec!` keys: the relay keeps them in
 * its history's database. Nothing is cached here (`AccessControl` keeps the verified
 * chain state); appends to one account are serialised so the compare-and-set reads the
 * head no other append of this process is about to move. A level database belongs to one
 * process, so that is every writer.
 */
export class LevelAccessRecords implements AccessRecords {
  private readonly queue: WriteQueue
  private closed = false
  /** Per account, the append running now (each waits for the one before). */
  private readonly appending = new Map<string, Promise<boolean>>()

  private constructor(
    private readonly db: KeyValueStore,
    sync: boolean
  ) {
    this.queue = new WriteQueue(db, sync)
  }

  /**
   * Opens `db` (a no-op if the history opened it already). `sync` (default true) fsyncs
   * each put. `close()` leaves `db` open: whoever shares it (the history) closes it, after.
   */
  static async open(db: KeyValueStore, options: { sync?: boolean } = {}): Promise<LevelAccessRecords> {
    await db.open()
    return new LevelAccessRecords(db, options.sync ?? true)
  }

  async chain(accountId: string): Promise<ChainLink[] | null> {
    const links: ChainLink[] = []
    const prefix = chainPrefix(accountId)
    // the range also holds accounts whose id extends this one ('a' and 'a!b'): only exact version suffixes count
    for await (const [key, value] of this.db.iterator({ gte: prefix, lt: `${prefix}~` })) {
      const suffix = key.slice(prefix.length)
      if (suffix.length !== VERSION_DIGITS || !/^\d+$/.test(suffix)) continue
      // one batch per append keeps versions contiguous; stop at a gap rather than hand out a broken chain
      if (Number(suffix) !== links.length + 1 || links.length >= MAX_CHAIN_LINKS) break
      links.push(decodeChainLink(value))
    }
    return links.length === 0 ? null : links
  }

  appendLinks(accountId: string, links: readonly ChainLink[], expectedHead: ChainHead | null): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error(`access records are closed: links of ${accountId} were not stored`))
    const before = this.appending.get(accountId) ?? Promise.resolve(false)
    const run = before
      .catch(() => false)
      .then(async () => {
        const stored = await this.chain(accountId)
        const head = stored === null ? null : headOfLinks(stored)
        if (head === null ? expectedHead !== null : !sameHead(head, expectedHead)) return false
        if (links.length === 0) return true
        const from = (head?.version ?? 0) + 1
        // one batch: the links land together or not at all, so a crash leaves the chain as it was
        await this.queue.enqueue(links.map((link, i) => ({ type: 'put' as const, key: linkKey(accountId, from + i), value: encodeChainLink(link) })))
        return true
      })
    this.appending.set(accountId, run)
    const forget = (): void => {
      if (this.appending.get(accountId) === run) this.appending.delete(accountId)
    }
    run.then(forget, forget)
    return run
  }

  async membership(docId: string): Promise<SignedMembership | null> {
    const bytes = await this.db.get(membershipKey(docId))
    return bytes === undefined ? null : decodeSignedMembership(bytes)
  }

  putMembership(record: SignedMembership, dropped: readonly string[] = []): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`access records are closed: the membership of ${record.docId} was not stored`))
    // the index entries go in the record's batch; one a later record dropped stays, and membershipsNaming
    // reads past it (a delete would need the record before, which racing puts may not have written yet)
    const index = record.members.filter(isAccountId).map(m => ({ type: 'put' as const, key: memberOfPrefix(m) + record.docId, value: new Uint8Array(0) }))
    const bytes = encodeSignedMembership(record)
    const removals = dropped.filter(isAccountId).map(m => ({ type: 'put' as const, key: removedPrefix(m) + record.docId, value: bytes }))
    return this.queue.enqueue([{ type: 'put', key: membershipKey(record.docId), value: bytes }, ...index, ...removals])
  }

  async removalsOf(accountId: string): Promise<SignedMembership[]> {
    const prefix = removedPrefix(accountId)
    const out: SignedMembership[] = []
    for await (const [, value] of this.db.iterator({ gte: prefix, lt: `${prefix}~` })) out.push(decodeSignedMembership(value))
    return out
  }

  async membershipsNaming(accountId: string): Promise<string[]> {
    const prefix = memberOfPrefix(accountId)
    const out: string[] = []
    for await (const key of this.db.keys({ gte: prefix, lt: `${prefix}~` })) {
      const docId = key.slice(prefix.length)
      if ((await this.membership(docId))?.members.includes(accountId) === true) out.push(docId)
    }
    return out
  }

  async deviceActivity(accountId: string): Promise<DeviceActivity[]> {
    const bytes = await this.db.get(activityKey(accountId))
    return bytes === undefined ? [] : decodeActivity(bytes)
  }

  putDeviceActivity(accountId: string, devices: readonly DeviceActivity[]): Promise<void> {
    return this.put(activityKey(accountId), encodeActivity(devices))
  }

  async close(): Promise<void> {
    this.closed = true
    // appends already started finish (their callers wait for them), then whatever they queued
    await Promise.allSettled([...this.appending.values()])
    await this.queue.drain()
  }

  private put(key: string, value: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`access records are closed: ${key} was not stored`))
    return this.queue.enqueue([{ type: 'put', key, value }])
  }
}

function encodeActivity(devices: readonly DeviceActivity[]): Uint8Array {
  const encoder = encoding.createEncoder()
  const kept = devices.slice(0, MAX_ACTIVITY_ENTRIES)
  encoding.writeVarUint(encoder, kept.length)
  for (const d of kept) {
    encoding.writeVarString(encoder, d.peerId)
    encoding.writeVarUint(encoder, d.lastSeenAt)
  }
  return encoding.toUint8Array(encoder)
}

/** Damaged bytes read as no activity: it is a hint for people, never a decision's input. */
function decodeActivity(bytes: Uint8Array): DeviceActivity[] {
  try {
    const decoder = decoding.createDecoder(bytes)
    const n = Math.min(decoding.readVarUint(decoder), MAX_ACTIVITY_ENTRIES)
    const out: DeviceActivity[] = []
    for (let i = 0; i < n; i++) out.push({ peerId: decoding.readVarString(decoder), lastSeenAt: decoding.readVarUint(decoder) })
    return out
  } catch {
    return []
  }
}
