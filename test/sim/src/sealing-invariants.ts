import type { KeyRing } from '@tandem/engine/internal'
import { type ChainLink, docKey, membershipDocOf, openChatKeys, openSealed, peerIdFromSigningKey, readSealedHeader, type SignedMembership } from '@tandem/protocol'
import { type AccessRecords, HistoryStore } from '@tandem/relay'
import type { ChainWatch } from './chain-invariants.js'
import { type SimKeys, ringOf } from './sim-keys.js'
import { simSignatures } from './signatures.js'
import { readOnly } from './step-invariants.js'
import type { Tracker } from './tracker.js'
import type { DeviceNode, World } from './world.js'

/** Something the relay made durable while a device of the account stood revoked: a log entry, or a snapshot. */
interface Appended {
  docId: string
  /** `seq 7`, `the snapshot covering seq 12`: for the report. */
  what: string
  /** Its position among the relay's durable events (ChainWatch's C). */
  at: number
  /** Its bytes, when the relay still held them in memory at its commit; else read from the relay's disk. */
  bytes: Uint8Array | null
  /** Where its bytes are on the relay's disk: a log entry's seq, or a snapshot's upload. */
  seq?: number
  upload?: { key: string; parts: number }
}

/**
 * Revoked reads nothing new (issue 14): no revoked device can open a log entry (or a snapshot)
 * the relay appended after it accepted that device's revocation.
 *
 * "After" is ChainWatch's order of the relay's durable events: R(D), the chain append that first
 * revoked D, and C, an append's commit (a snapshot's commit, once durable, takes a position of its
 * own). For every append with C > R(D) to a doc of D's account, the blob is opened as D could:
 * with a KeyRing holding D's X25519 agreement key (read from D's disk before it erased itself)
 * over the relay's chain on disk, as of the check. That is every key D ever held, and more: every
 * generation sealed to D anywhere in the chain (a chain is no secret from a revoked device, nor
 * from the relay), each older generation unwrapped from it. The blob must not open: its epoch's key
 * is not in that ring, or XChaCha20-Poly1305 refuses it. An unsealed blob opens for anyone. The
 * only exception is a blob D sealed itself (appended late): it holds nothing D did not have.
 *
 * So a device must seal in a generation its revoked devices were never given, even an upload it
 * sealed before it learned of the revocation (an outbox entry, a snapshot under way): the relay
 * is blind, and whoever holds its disk and a revoked device's key reads whatever opens.
 *
 * A chat between accounts too, whoever wrote the blob (a device of any member account): D opens
 * it with the chat's epoch keys it could have held, those of every record the relay ever stored
 * for the chat whose box for D's account is sealed to a generation D's ring holds (DESIGN §5: a
 * member's new generation makes the next writer start a new epoch, which the relay enforces).
 *
 * Checked after every step: what the relay committed since the previous step (each blob once).
 */
export class SealWatch {
  private pending: Appended[] = []
  /** Per revoked device, its ring over the relay's chain as of `appends` chain appends. */
  private readonly rings = new Map<DeviceNode, { appends: number; ring: KeyRing | null }>()
  private readonly reported = new Set<string>()
  /** Pairs (an append after R(D), a revoked device D of its account) checked: the invariant's reach in a run. */
  checked = 0
  /** Per shared chat's doc id, every record with keys the relay stored (what a member's device may have held). */
  private readonly records = new Map<string, SignedMembership[]>()

  constructor(
    private readonly world: World,
    private readonly tracker: Tracker,
    private readonly chain: ChainWatch,
    private readonly keys: SimKeys
  ) {
    const before = world.relayWatch
    world.relayWatch = (history, records) => {
      // ChainWatch's listeners first: a commit's position is taken before this one reads it
      const watched = before?.(history, records) ?? records
      this.watchHistory(history)
      return this.watchRecords(watched)
    }
  }

  /** Opens what the relay made durable since the last step with the keys of each device revoked before it. */
  async check(): Promise<void> {
    if (this.pending.length === 0) return
    const appended = this.pending
    this.pending = []
    let disk: HistoryStore | null = null
    for (const x of appended) {
      let bytes = x.bytes
      if (bytes === null) {
        disk ??= await HistoryStore.open(readOnly(this.world.relay.disk.db), { maxBlobBytes: Number.MAX_SAFE_INTEGER, accountQuotaBytes: Number.MAX_SAFE_INTEGER })
        bytes = await blobOnDisk(disk, x)
        // a snapshot dropped it since (that snapshot is checked itself)
        if (bytes === null) continue
      }
      await this.open(x, bytes)
    }
  }

  private async open(x: Appended, bytes: Uint8Array): Promise<void> {
    let header: ReturnType<typeof readSealedHeader> | null = null
    try {
      header = readSealedHeader(bytes)
    } catch {
      // not sealed: anyone opens it
    }
    const authorId = header === null ? null : peerIdFromSigningKey(header.author)
    const author = authorId === null ? undefined : this.world.devices.find(d => d.peerId === authorId)
    const chat = this.records.get(membershipDocOf(x.docId))
    for (const [peerId, revokedAt] of this.chain.revokedAt) {
      if (revokedAt >= x.at) continue
      const d = this.world.devices.find(n => n.peerId === peerId)
      // (another account's blob of a chat shared with D's: D may hold the chat's keys)
      if (d === undefined || d === author || (author !== undefined && author.account !== d.account && chat === undefined)) continue
      this.checked++
      if (header === null) {
        this.violation(d, x, revokedAt, 'it is not sealed')
        continue
      }
      const ring = await this.ringOf(d)
      if (ring === null) {
        this.violation(d, x, revokedAt, 'the simulator never saw its agreement key, so it cannot tell (a bug of the simulator)')
        continue
      }
      const key = chat === undefined ? ring.docKey(header.epoch, x.docId) : chatKey(chat, this.world.accountIds[d.account] ?? '', ring, header.epoch, x.docId)
      if (key === null) continue // it never held that generation (or that epoch of the chat)
      try {
        await openSealed('blob', x.docId, bytes, { keyFor: () => key, standing: () => 'listed' }, simSignatures)
      } catch {
        continue // the key of its epoch does not open it (another account's doc)
      }
      const by = author?.name ?? authorId?.slice(-6) ?? '?'
      this.violation(d, x, revokedAt, `it is sealed in ${chat === undefined ? 'key generation' : "the chat's epoch"} ${header.epoch} (by ${by}), which ${d.name} holds`)
    }
  }

  /** What a revoked device opens: its agreement key over the relay's chain of its account (null without its key). */
  private async ringOf(d: DeviceNode): Promise<KeyRing | null> {
    const cached = this.rings.get(d)
    if (cached !== undefined && cached.appends === this.chain.appends) return cached.ring
    const agreement = this.keys.agreementOf(d)
    const links: ChainLink[] | null = agreement === null ? null : await this.keys.relayChain(d.account)
    const ring = agreement === null ? null : ringOf(links ?? [], [agreement])
    this.rings.set(d, { appends: this.chain.appends, ring })
    return ring
  }

  /** Keeps every record with keys the relay stores (SealWatch sees the records after the other watches). */
  private watchRecords(records: AccessRecords): AccessRecords {
    const putMembership = async (record: SignedMembership, dropped: string[]): Promise<void> => {
      await records.putMembership(record, dropped)
      if (record.keys == null) return
      const held = this.records.get(record.docId) ?? []
      held.push(record)
      this.records.set(record.docId, held)
    }
    // (every other member as it is, bound to the records: a class's methods read its private state)
    return new Proxy(records, {
      get: (target, name) => {
        if (name === 'putMembership') return putMembership
        const value = Reflect.get(target, name) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
  }

  private watchHistory(history: HistoryStore): void {
    history.onCommit((docId, seq) => {
      if (this.chain.revokedAt.size === 0) return // no device revoked before it
      const cached = history.tailAfter(docId, seq - 1, 1)?.[0]
      const bytes = cached?.entry.seq === seq ? concat(cached.chunks) : null
      this.pending.push({ docId, what: `seq ${seq}`, at: this.chain.now, bytes, seq })
    })
    // a snapshot's commit tells no listener: watched on this history alone
    const commitSnapshot = history.commitSnapshot.bind(history)
    history.commitSnapshot = async (...args: Parameters<HistoryStore['commitSnapshot']>) => {
      const [upload, covers] = args
      const result = await commitSnapshot(...args)
      if (!result.duplicate && this.chain.revokedAt.size > 0) {
        const at = this.chain.next()
        const chunks = upload.buffered
        this.pending.push({
          docId: upload.docId,
          what: `the snapshot covering seq ${covers}`,
          at,
          bytes: chunks === null ? null : concat(chunks),
          upload: { key: upload.key, parts: upload.parts }
        })
      }
      return result
    }
  }

  private violation(d: DeviceNode, x: Appended, revokedAt: number, why: string): void {
    const key = `${d.name} ${x.docId} ${x.what}`
    if (this.reported.has(key)) return
    this.reported.add(key)
    this.tracker.violations.push(
      `revoked opens ${this.tracker.where()}: ${d.name} (revoked at relay event ${revokedAt}) can open ${x.what} of ${x.docId}, appended at relay event ${x.at}: ${why}`
    )
  }
}

/**
 * The key of `docId` in `epoch` of a shared chat that a device of `account` holding `ring` could
 * have held: from any of the chat's records whose box for the account is sealed to a generation
 * the ring opens (each record opens every epoch up to its own); null when none gives it.
 */
function chatKey(records: readonly SignedMembership[], account: string, ring: KeyRing, epoch: number, docId: string): Uint8Array | null {
  for (const record of records) {
    if (record.keys == null || record.keys.epoch < epoch) continue
    try {
      const keys = openChatKeys(record.docId, record.keys, account, g => ring.accountAgreement(g))
      return docKey(keys[epoch - 1]!, docId)
    } catch {
      // not sealed to the account, or to a generation the ring does not hold
    }
  }
  return null
}

const concat = (chunks: readonly Uint8Array[]): Uint8Array => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))

/** A durable blob's bytes from the relay's disk, or null when a snapshot has since dropped it. */
async function blobOnDisk(history: HistoryStore, x: Appended): Promise<Uint8Array | null> {
  let upload = x.upload
  if (upload === undefined) {
    const entry = await history.entry(x.docId, x.seq!)
    if (entry === undefined) return null
    upload = { key: entry.upload, parts: entry.parts }
  }
  const chunks: Uint8Array[] = []
  for (let n = 0; n < upload.parts; n++) {
    const part = await history.readPart(upload.key, n)
    if (part === undefined) return null
    chunks.push(part)
  }
  return concat(chunks)
}
