import { StoreFrameTag, decodeStoreFrame, peerIdFromSigningKey, type ChainLink } from '@tandem/protocol'
import { type AccessRecords, type HistoryStore, LevelAccessRecords } from '@tandem/relay'
import type { Disk } from '@tandem/storage/testing'
import { readOnly } from './step-invariants.js'
import type { Tracker } from './tracker.js'
import { RELAY_ID, type DeviceNode, type World } from './world.js'

/** The relay's chain of an account as it holds it on disk: its head link's devices and revoked devices. */
interface RelayChain {
  listed: string[]
  revoked: string[]
}

/**
 * The device chain's invariants (issue 13):
 *
 * - device lists (after healing, and per step for a device that erased itself): every running
 *   device of an account is listed in the chain the relay holds on its disk, and lists exactly
 *   that chain's devices and the same revoked ones; every device that chain revokes has erased itself (its store holds no
 *   key) or is stopped; and a device that erased itself is not listed in it: revoked, or listed
 *   only by a link that lost there to one revoking its signer (with a relay, only a link the
 *   relay holds may make a device erase its account).
 * - revoked served: no device receives an entry appended after the relay accepted its revocation.
 *
 * "After", exactly. The relay's durable events are put on one sequence, in the order the relay's
 * own code observes them: each history commit as it becomes durable and readable (its
 * `onCommit` listeners run; the relay sends an entry to subscribers only from then on), and each
 * append to an account's chain as its compare-and-set resolves true (the links are durable; the
 * relay's AccessControl learns them in the continuation right after, with no I/O between). The
 * history and the access records each group their writes into batches, and several batches can
 * land at one virtual step (the fsync delays): their order within the step is the order in which
 * their promises resolve, and that is the order here. The revocation of device D is accepted at
 * R(D), the position of the append that first made the relay's chain revoke D (the chain only
 * grows, so it revokes D for good from then on). An entry (doc, seq) is appended at C(doc, seq),
 * the position of its commit. So an entry whose seq was assigned before R(D) but whose batch
 * landed after it is after: the relay never sent it before R(D) (it sends only durable entries),
 * so it must not send it at all. A violation is a frame from the relay reaching D (delivered into
 * D's end of a link, whether or not D's engine reads it) that carries an entry appended after
 * R(D): a `blob` of seq s with C(doc, s) > R(D); a `notices` entry with such a seq (the relay still
 * runs D's subscription); `snapshot-data` covering up to c with C(doc, c) > R(D); or a `live`
 * blob the relay sent at or after R(D) (live blobs go out before their commit, so their moment is
 * the send: the upload arrived whole after the revocation was accepted).
 */
export class ChainWatch {
  /** The position of the relay's latest durable event (see above). */
  private moment = 0
  /** Per device (peer id): R, the position at which the relay accepted the link that revokes it. */
  readonly revokedAt = new Map<string, number>()
  /** Appends to the relay's chains so far (a chain read from its disk is stale once this grows). */
  appends = 0
  /** Per `docId seq`: C, the position of its commit. */
  private readonly committedAt_ = new Map<string, number>()
  /** `live` frames the relay sent to a device at or after its R. */
  private readonly lateLive = new WeakSet<Uint8Array>()
  /** Devices that erased themselves since the last step's check. */
  private erased: DeviceNode[] = []
  private readonly reported = new Set<string>()

  constructor(
    private readonly world: World,
    private readonly tracker: Tracker
  ) {
    world.relayWatch = (history, records) => this.watchRelay(history, records)
    const before = world.net.onSend
    world.net.onSend = (from, frame, to) => {
      before?.(from, frame, to)
      if (from === RELAY_ID && frame[0] === StoreFrameTag.live && this.revokedAt.has(to)) this.lateLive.add(frame)
    }
    world.net.onDeliver = (from, to, frame) => {
      if (from === RELAY_ID && this.revokedAt.has(to)) this.delivered(to, frame)
    }
    world.onRevoked = d => {
      this.erased.push(d)
    }
  }

  /** The position of the relay's latest durable event: a history commit listener registered after this watch's reads its entry's C here. */
  get now(): number {
    return this.moment
  }

  /** C(doc, seq): the position of an entry's commit, if the relay committed it while watched. */
  committedAt(docId: string, seq: number): number | undefined {
    return this.committedAt_.get(`${docId} ${seq}`)
  }

  /** Takes the next position for a durable event of the relay this watch does not see itself (a snapshot's commit). */
  next(): number {
    return ++this.moment
  }

  /** Per step (cheap: only when a device erased itself since the last step): the relay's chain on disk revokes it. */
  async check(): Promise<void> {
    if (this.erased.length === 0) return
    const erased = this.erased
    this.erased = []
    const chains = await this.relayChains()
    for (const d of erased) {
      const chain = chains.get(d.account) ?? null
      // revoked there, or never listed there: only a link of a device the relay's chain revokes listed it
      if (chain === null || chain.listed.includes(d.peerId))
        this.tracker.violations.push(
          `device lists ${this.tracker.where()}: ${d.name} erased itself, but the relay's chain still lists it (${chain === null ? 'the relay holds no chain of its account' : `it lists ${names(this.world, chain.listed)}`})`
        )
    }
  }

  /** After healing: every device agrees with the chain the relay holds on disk (see above). */
  async deviceLists(): Promise<string[]> {
    const out: string[] = []
    const chains = await this.relayChains()
    const where = this.tracker.where()
    for (const [account, accountId] of this.world.accountIds.entries()) {
      const chain = chains.get(account)
      if (chain === undefined) {
        out.push(`device lists ${where}: the relay holds no chain of account ${account} (${accountId})`)
        continue
      }
      const listed = [...chain.listed].sort().join(' ')
      const revoked = [...chain.revoked].sort().join(' ')
      for (const d of this.world.devices) {
        if (d.account !== account || d.peerId === '') continue
        const e = d.engine
        if (chain.revoked.includes(d.peerId)) {
          if (e !== null)
            out.push(
              `device lists ${where}: ${d.name} is revoked in the relay's chain and still runs (it lists ${names(
                this.world,
                e.listDevices().map(x => x.peerId)
              )})`
            )
          else if (d.revoked) {
            const left = await keysOf(d.disk)
            if (left.length > 0) out.push(`device lists ${where}: ${d.name} erased itself, but its store still holds ${left.length} keys (${left.slice(0, 3).join(', ')})`)
          }
          continue
        }
        if (d.revoked) {
          // erased without being revoked there: only right when the chain does not list it (the
          // link that listed it lost to one revoking its signer)
          if (chain.listed.includes(d.peerId)) out.push(`device lists ${where}: ${d.name} erased itself, but the relay's chain lists it (${names(this.world, chain.listed)})`)
          continue
        }
        if (e === null || d.retired || e.accountId !== accountId) continue
        if (!chain.listed.includes(d.peerId)) out.push(`device lists ${where}: ${d.name} runs in account ${account}, but the relay's chain neither lists nor revokes it`)
        const has = e
          .listDevices()
          .map(x => x.peerId)
          .sort()
          .join(' ')
        const hasRevoked = e.listRevokedDevices().sort().join(' ')
        if (has !== listed) out.push(`device lists ${where}: ${d.name} lists ${names(this.world, has.split(' '))}, the relay's chain ${names(this.world, chain.listed)}`)
        if (hasRevoked !== revoked)
          out.push(`device lists ${where}: ${d.name} lists as revoked ${names(this.world, hasRevoked.split(' '))}, the relay's chain ${names(this.world, chain.revoked)}`)
      }
    }
    return out
  }

  /** Each account's chain as the relay holds it on disk, read by access records opened afresh on it (as a restarted relay would). */
  private async relayChains(): Promise<Map<number, RelayChain>> {
    const records = await LevelAccessRecords.open(readOnly(this.world.relay.disk.db))
    const out = new Map<number, RelayChain>()
    for (const [account, accountId] of this.world.accountIds.entries()) {
      const links = await records.chain(accountId)
      const head = links?.[links.length - 1]
      // the relay verified every link before it stored it: its head's lists are the chain's
      if (head !== undefined) out.set(account, { listed: head.devices.map(x => peerIdFromSigningKey(x.signingKey)), revoked: head.revoked.map(k => peerIdFromSigningKey(k)) })
    }
    return out
  }

  private watchRelay(history: HistoryStore, records: AccessRecords): AccessRecords {
    history.onCommit((docId, seq) => {
      this.committedAt_.set(`${docId} ${seq}`, ++this.moment)
    })
    return {
      chain: accountId => records.chain(accountId),
      appendLinks: async (accountId, links, expectedHead) => {
        const ok = await records.appendLinks(accountId, links, expectedHead)
        if (ok && links.length > 0) this.accepted(links)
        return ok
      },
      membership: docId => records.membership(docId),
      putMembership: (record, dropped) => records.putMembership(record, dropped),
      membershipsNaming: accountId => records.membershipsNaming(accountId),
      removalsOf: accountId => records.removalsOf(accountId),
      deviceActivity: accountId => records.deviceActivity(accountId),
      putDeviceActivity: (accountId, devices) => records.putDeviceActivity(accountId, devices),
      close: () => records.close()
    }
  }

  /** Links the relay appended (one batch: one moment); each link carries every device revoked so far. */
  private accepted(links: readonly ChainLink[]): void {
    this.appends++
    const at = ++this.moment
    for (const key of links[links.length - 1]!.revoked) {
      const peerId = peerIdFromSigningKey(key)
      if (!this.revokedAt.has(peerId)) this.revokedAt.set(peerId, at)
    }
  }

  private delivered(to: string, frame: Uint8Array): void {
    const revokedAt = this.revokedAt.get(to)!
    const tag = frame[0]
    if (tag === StoreFrameTag.live) {
      if (this.lateLive.has(frame)) this.violation(to, 'a live blob', 'sent live')
      return
    }
    if (tag !== StoreFrameTag.blob && tag !== StoreFrameTag.notices && tag !== StoreFrameTag['snapshot-data']) return
    const f = decodeStoreFrame(frame)
    const after = (docId: string, seq: number): number | null => {
      const at = this.committedAt_.get(`${docId} ${seq}`)
      return at !== undefined && at > revokedAt ? at : null
    }
    const seqs = f.type === 'blob' ? [f.seq] : f.type === 'notices' ? f.entries.map(n => n.seq) : f.type === 'snapshot-data' ? [f.covers] : []
    for (const seq of seqs) {
      const at = after((f as { docId: string }).docId, seq)
      if (at !== null)
        this.violation(
          to,
          `${f.type === 'snapshot-data' ? 'a snapshot covering' : f.type === 'notices' ? 'a notice of' : 'the blob of'} seq ${seq} of ${(f as { docId: string }).docId}`,
          `committed at relay event ${at}`
        )
    }
  }

  private violation(to: string, what: string, when: string): void {
    const key = `${to} ${what}`
    if (this.reported.has(key)) return
    this.reported.add(key)
    const d = this.world.devices.find(x => x.peerId === to)
    this.tracker.violations.push(
      `revoked served ${this.tracker.where()}: ${d?.name ?? to} received ${what} (${when}) after the relay accepted its revocation (relay event ${this.revokedAt.get(to)})`
    )
  }
}

const names = (world: World, peerIds: readonly string[]): string =>
  `[${peerIds
    .filter(p => p !== '')
    .map(p => world.devices.find(d => d.peerId === p)?.name ?? p.slice(-6))
    .join(', ')}]`

async function keysOf(disk: Disk): Promise<string[]> {
  const keys: string[] = []
  for await (const key of disk.db.keys({})) keys.push(key)
  return keys
}
