import {
  ChainForkError,
  DEFAULT_CHAIN_POLICY,
  DeviceNotListedError,
  InvalidDeviceListError,
  InvalidMembershipError,
  MAX_CHAIN_LINKS,
  StaleMembershipError,
  TandemError,
  acceptLink,
  chainDeviceStatus,
  checkMembershipSuccessor,
  encodeSignedMembership,
  headOf,
  isAccountId,
  membershipDocOf,
  linkHash,
  listChainDevices,
  peerIdFromSigningKey,
  nativeSignatures,
  preverifyLinks,
  generationAfter,
  StaleEpochError,
  type SignatureBackend,
  verifyChain,
  verifyMembership,
  type ChainHead,
  type ChainLink,
  type ChainPolicy,
  type ChainState,
  type ListedDevice,
  type SignedMembership
} from '@tandem/protocol'
import { EpochGate } from './epoch-gate.js'
import type { AccessRecords } from '../access/access-records.js'

/** What became of links a device offered. */
export interface ChainOffer {
  /** The links the relay appended, in order (links it held already are not among them). */
  accepted: ChainLink[]
  /** Why the first link not appended was refused (ChainForkError, DeviceLimitError, …); null when none was. */
  refused: TandemError | null
  /** The account's chain after the offer; null while it has none. */
  state: ChainState | null
}

/** A verified chain and the hash of each of its links (index = version − 1): where a device's head sits on it. */
interface HeldChain {
  state: ChainState
  hashes: Uint8Array[]
  /** The newest key generation the chain started (public numbers: see generationAfter). */
  generation: number
}

/**
 * Who may read and write what. The relay is the arbiter of each account's device chain:
 * it holds the chain verified from its genesis (cached in memory after the first read) and
 * appends a link only on top of its head (the first valid successor wins; the device
 * limit is its policy). Chat docs: each one's newest membership record, signed by a device
 * listed in its signer account's chain. It trusts only signatures.
 */
export class AccessControl {
  private readonly chains = new Map<string, HeldChain | null>()
  private readonly memberships = new Map<string, SignedMembership | null>()
  /** Per account, the offer being judged now: offers to one chain apply one at a time. */
  private readonly offering = new Map<string, Promise<unknown>>()
  readonly policy: ChainPolicy
  /** Commits beside each other, chain changes alone, per account (see commitInEpoch). */
  private readonly epochs = new EpochGate()
  /** Records (their bytes) that verified: see verifyOnce. */
  private readonly verifiedRecords = new Set<string>()
  /** Ed25519 for whole chains: see preverifyLinks. */
  private readonly signatures: Promise<SignatureBackend>

  constructor(
    private readonly records: AccessRecords,
    options: { policy?: ChainPolicy; signatures?: SignatureBackend } = {}
  ) {
    this.policy = options.policy ?? DEFAULT_CHAIN_POLICY
    this.signatures = options.signatures !== undefined ? Promise.resolve(options.signatures) : nativeSignatures()
  }

  /** The account's verified chain, or null when the relay holds none. Throws when the stored chain does not verify. */
  async chainState(accountId: string): Promise<ChainState | null> {
    return (await this.held(accountId))?.state ?? null
  }

  /** What chainState last read, without reading: undefined when not loaded. */
  cachedState(accountId: string): ChainState | null | undefined {
    const held = this.chains.get(accountId)
    return held === undefined ? undefined : (held?.state ?? null)
  }

  async head(accountId: string): Promise<ChainHead | null> {
    const state = await this.chainState(accountId)
    return state === null ? null : headOf(state)
  }

  async deviceStatus(accountId: string, peerId: string): Promise<'listed' | 'revoked' | 'unlisted'> {
    const state = await this.chainState(accountId)
    return state === null ? 'unlisted' : chainDeviceStatus(state, peerId)
  }

  async listedDevices(accountId: string): Promise<ListedDevice[]> {
    const state = await this.chainState(accountId)
    return state === null ? [] : listChainDevices(state)
  }

  /**
   * The links a device whose head is `deviceHead` lacks: those after it when it is a link of
   * the relay's chain, the whole chain when it is not (or null, or of a later version: it may
   * be a fork's), none when it is the head.
   */
  async linksFor(accountId: string, deviceHead: ChainHead | null): Promise<ChainLink[]> {
    const held = await this.held(accountId)
    if (held === null) return []
    const { state, hashes } = held
    // a head past ours is not known to be on our chain either: it may be a fork's (the device
    // then needs our chain to choose), and a device ahead on our chain offers its links anyway
    const onChain = deviceHead !== null && deviceHead.version <= state.version && sameBytes(hashes[deviceHead.version - 1], deviceHead.hash)
    if (onChain && deviceHead.version === state.version) return []
    const links = ((await this.records.chain(accountId)) ?? []).slice(0, state.version)
    return onChain ? links.slice(deviceHead.version) : links
  }

  /** The relay's whole chain of the account ([] when none). */
  async wholeChain(accountId: string): Promise<ChainLink[]> {
    const state = await this.chainState(accountId)
    return state === null ? [] : ((await this.records.chain(accountId)) ?? []).slice(0, state.version)
  }

  /**
   * Applies links a device offers, in order, each with acceptLink on top of the head (the
   * genesis when the account has no chain yet), and stores those taken with one
   * compare-and-set. Links the relay holds already are skipped; the first link refused ends
   * the offer (its error is `refused`; the links before it stand).
   */
  offerLinks(accountId: string, links: readonly ChainLink[]): Promise<ChainOffer> {
    const before = this.offering.get(accountId) ?? Promise.resolve()
    // alone: a commit checked against the account's key generation lands before the chain moves on
    const run = before.catch(() => {}).then(() => this.epochs.exclusive(accountId, () => this.judge(accountId, links)))
    this.offering.set(accountId, run)
    const forget = (): void => {
      if (this.offering.get(accountId) === run) this.offering.delete(accountId)
    }
    run.then(forget, forget)
    return run
  }

  private async judge(accountId: string, links: readonly ChainLink[]): Promise<ChainOffer> {
    // twice at most: a second try only when another writer of the records moved the head meanwhile
    await preverifyLinks(links, await this.signatures)
    for (let attempt = 0; attempt < 2; attempt++) {
      const held = await this.held(accountId)
      const { accepted, refused, next } = this.apply(accountId, held, links)
      if (accepted.length === 0) return { accepted, refused, state: next?.state ?? null }
      if (await this.records.appendLinks(accountId, accepted, held === null ? null : headOf(held.state))) {
        this.chains.set(accountId, next)
        return { accepted, refused, state: next!.state }
      }
      this.chains.delete(accountId)
    }
    const state = await this.chainState(accountId)
    return { accepted: [], refused: new ChainForkError(`the chain of ${accountId} moved while links were stored: offer again on its new head`), state }
  }

  private apply(accountId: string, held: HeldChain | null, links: readonly ChainLink[]): { accepted: ChainLink[]; refused: TandemError | null; next: HeldChain | null } {
    let state = held?.state ?? null
    const hashes = [...(held?.hashes ?? [])]
    const accepted: ChainLink[] = []
    for (const link of links) {
      try {
        // a device offers from where it believes the relay is: links the relay holds change nothing
        if (state !== null && link.version <= state.version && sameBytes(hashes[link.version - 1], linkHash(link))) continue
        if (link.version > MAX_CHAIN_LINKS) throw new InvalidDeviceListError(`a chain holds at most ${MAX_CHAIN_LINKS} links`)
        const result = acceptLink(state, link, { accountId, policy: this.policy })
        if (!result.added) continue
        state = result.state
        hashes.push(result.state.headHash)
        accepted.push(link)
      } catch (err) {
        if (!(err instanceof TandemError)) throw err
        return { accepted, refused: err, next: state === null ? null : { state, hashes, generation: generationAfter(held?.generation ?? 0, accepted) } }
      }
    }
    return { accepted, refused: null, next: state === null ? null : { state, hashes, generation: generationAfter(held?.generation ?? 0, accepted) } }
  }

  private async held(accountId: string): Promise<HeldChain | null> {
    if (this.chains.has(accountId)) return this.chains.get(accountId)!
    const links = await this.records.chain(accountId)
    // a concurrent load or offer filled the cache meanwhile: that entry is at least as new
    if (this.chains.has(accountId)) return this.chains.get(accountId)!
    if (links !== null) await preverifyLinks(links, await this.signatures)
    const held = links === null ? null : { state: verifyChain(links, { accountId }), hashes: links.map(l => linkHash(l)), generation: generationAfter(0, links) }
    if (this.chains.has(accountId)) return this.chains.get(accountId)!
    this.chains.set(accountId, held)
    return held
  }

  async membership(docId: string): Promise<SignedMembership | null> {
    if (this.memberships.has(docId)) return this.memberships.get(docId)!
    const record = await this.records.membership(docId)
    if (this.memberships.has(docId)) return this.memberships.get(docId)! // see held
    this.memberships.set(docId, record)
    return record
  }

  /**
   * Stores a membership record if valid, signed by a device listed in its signer account's
   * chain, and a successor of the one held; the held record itself is accepted silently
   * (devices send theirs on every connection). Throws InvalidMembershipError,
   * DeviceNotListedError (the relay holds no chain of the signer account), StaleMembershipError.
   * Resolves, when the record is stored as the doc's new one (its members' devices are told),
   * with the accounts the record before it named and this one does not (they are told too: see
   * removalsOf); null when nothing changed.
   */
  async offerMembership(record: SignedMembership): Promise<{ dropped: string[] } | null> {
    if (membershipDocOf(record.docId) !== record.docId)
      throw new InvalidMembershipError(`${record.docId} is a segment of a chat: it is served under the chat's membership, never one of its own`)
    await this.membership(record.docId)
    // the record held, byte for byte, was verified when it was stored: devices send it with every
    // subscription to the chat's docs, and a noble Ed25519 verify each (~3 ms, in the session's turn)
    // held a new device's hundred segment subscriptions in a row (a 100k history: 1.30× plain's)
    const bytes = encodeSignedMembership(record)
    if (this.isHeld(record.docId, bytes)) return null
    this.verifyOnce(record, bytes)
    await this.checkSigner(record)
    // read the cache after the last await: from here to `set` nothing yields, so concurrent offers cannot interleave
    if (this.isHeld(record.docId, bytes) || this.saysTheSame(record)) return null
    const current = this.memberships.get(record.docId) ?? null
    if (current !== null && record.version <= current.version) {
      throw new StaleMembershipError(`membership of ${record.docId} is at version ${current.version}`)
    }
    checkMembershipSuccessor(current, record)
    this.memberships.set(record.docId, record)
    // (a chat of one account has no one to tell: its devices made the record)
    const dropped = record.keys == null ? [] : (current?.members ?? []).filter(m => !record.members.includes(m))
    await this.records.putMembership(record, dropped)
    return { dropped }
  }

  /**
   * The records that removed `accountId` from chats whose current record still leaves it out:
   * what its devices are told at each session, so that they learn they were removed (a device
   * away at the removal never got it live). Only an account a record once named has one.
   */
  async removalsOf(accountId: string): Promise<SignedMembership[]> {
    const out: SignedMembership[] = []
    for (const record of await this.records.removalsOf(accountId)) {
      const current = await this.membership(record.docId)
      if (current !== null && !current.members.includes(accountId)) out.push(record)
    }
    return out
  }

  /** The current records that name `accountId` among their members (what its devices are told at each session). */
  async membershipsNaming(accountId: string): Promise<SignedMembership[]> {
    const out: SignedMembership[] = []
    for (const docId of await this.records.membershipsNaming(accountId)) {
      const record = await this.membership(docId)
      if (record?.members.includes(accountId) === true) out.push(record)
    }
    return out
  }

  /**
   * A record of the held one's doc, version and members, signed by another listed device: it
   * changes nothing, so it is accepted silently like the held record itself. Each device of an
   * account signs its own copy of a chat's record with its own key (the engine's
   * Replication.membershipOf: fixed fields, so the copies differ only in signer and signature);
   * compared byte for byte, every copy but the first one the relay saw was ERR_STALE_MEMBERSHIP,
   * on every connection, and the engine takes that doc-error as a refusal of the doc (a damaged
   * chat on such a device was never fetched again: found by the simulator).
   */
  private saysTheSame(record: SignedMembership): boolean {
    const current = this.memberships.get(record.docId) ?? null
    if (current === null || current.version !== record.version || current.members.length !== record.members.length) return false
    // a chat between accounts: two members' records of one version carry different keys, and only one may stand
    if (current.keys != null || record.keys != null) return false
    const members = new Set(current.members)
    return record.members.every(m => members.has(m))
  }

  /**
   * verifyMembership, once per record's bytes (a pure function of them): a chat of one account
   * is offered by each of its devices under a record of its own signing, not the one held, with
   * every subscription to the chat's docs. Bounded: the oldest is forgotten past VERIFIED_RECORDS.
   */
  private verifyOnce(record: SignedMembership, bytes: Uint8Array): void {
    const key = Buffer.from(bytes).toString('base64')
    if (this.verifiedRecords.has(key)) return
    verifyMembership(record)
    if (this.verifiedRecords.size >= VERIFIED_RECORDS) this.verifiedRecords.delete(this.verifiedRecords.values().next().value!)
    this.verifiedRecords.add(key)
  }

  /** Whether the record held for `docId` is `bytes` (an offered record, encoded once), byte for byte. */
  private isHeld(docId: string, bytes: Uint8Array): boolean {
    const current = this.memberships.get(docId) ?? null
    return current !== null && sameBytes(encodeSignedMembership(current), bytes)
  }

  private async checkSigner(record: SignedMembership): Promise<void> {
    const account = record.signerAccount
    if (!isAccountId(account)) throw new InvalidMembershipError(`membership of ${record.docId}: ${account} is not an account id`)
    const state = await this.chainState(account)
    if (state === null) throw new DeviceNotListedError(`membership of ${record.docId}: the relay holds no device chain of account ${account}, so it cannot tell who signed`)
    const signer = peerIdFromSigningKey(record.signerKey)
    const status = chainDeviceStatus(state, signer)
    if (status !== 'listed') throw new InvalidMembershipError(`membership of ${record.docId} is signed by device ${signer}, ${status} in account ${account}`)
  }

  /**
   * Holds still the chains an upload of `docId` by a device of `accountId` sealed in `epoch`
   * (null: not sealed) is judged against — the uploader's account's, and every member account's
   * of a shared chat — and checks it against {@link epochFloor}: ERR_STALE_EPOCH below it,
   * nothing held. Resolves with the function that lets the chains move again, called once the
   * upload is committed (or dropped): so a revocation accepted meanwhile comes after the commit,
   * and what the relay passed on live before that commit is never refused afterwards.
   */
  async holdEpoch(docId: string, accountId: string, epoch: number | null): Promise<() => void> {
    const record = docId.startsWith('chat:') ? await this.membership(membershipDocOf(docId)) : null
    const leave = await this.epochs.enter(record?.keys != null ? [accountId, ...record.members] : [accountId])
    try {
      const floor = epoch === null ? 0 : await this.epochFloor(docId, accountId)
      if (epoch !== null && epoch < floor) throw new StaleEpochError(`an upload of ${docId} is sealed in key epoch ${epoch}; the doc's floor is ${floor}: seal it again`)
      return leave
    } catch (err) {
      leave()
      throw err
    }
  }

  /**
   * The oldest key epoch an upload of `docId` by a device of `accountId` may be sealed in, so
   * that nothing appended after a revocation opens with the revoked device's keys:
   * - the account doc and chats of the account alone: the account's newest key generation;
   * - a shared chat (its record carries keys): the record's epoch, and the next one when a
   *   member account's chain here has started a newer generation than the one the record's box
   *   for it is sealed to. That account revoked a device, which may hold the account key that
   *   box opens with, so the chat's key of that epoch is no longer the members' alone: the next
   *   writer must start epoch e+1 first (DESIGN §5). Judged from public numbers only: a box's
   *   generation and the chains' counts (generationAfter);
   * - 0 otherwise.
   */
  async epochFloor(docId: string, accountId: string): Promise<number> {
    if (docId === `account:${accountId}`) return (await this.held(accountId))?.generation ?? 0
    if (!docId.startsWith('chat:')) return 0
    const record = await this.membership(membershipDocOf(docId))
    if (sameMembers(record?.members, accountId) && record?.keys == null) return (await this.held(accountId))?.generation ?? 0
    const keys = record?.keys
    if (keys == null) return 0
    for (const box of keys.boxes) if (((await this.held(box.account))?.generation ?? 0) > box.generation) return keys.epoch + 1
    return keys.epoch
  }

  /** Account docs: the account's own devices. Chat docs: devices of member accounts. */
  async canAccess(docId: string, accountId: string): Promise<boolean> {
    if (docId.startsWith('account:')) return docId === `account:${accountId}`
    // a chat's segments are served to the chat's members (doc-ids.ts)
    if (docId.startsWith('chat:')) return (await this.membership(membershipDocOf(docId)))?.members.includes(accountId) ?? false
    return false
  }
}

/** Record bytes remembered as verified (a record is a few hundred bytes to a few KB: at most a few MB). */
const VERIFIED_RECORDS = 1024

const sameMembers = (members: readonly string[] | undefined, accountId: string): boolean => members?.length === 1 && members[0] === accountId

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && a.byteLength === b.byteLength && a.every((x, i) => x === b[i])
