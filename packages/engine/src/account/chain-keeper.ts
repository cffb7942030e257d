import {
  type ChainHead,
  type ChainIntent,
  type ChainLink,
  type ChainPolicy,
  type ChainState,
  chainDeviceStatus,
  chooseChain,
  DEFAULT_CHAIN_POLICY,
  decodeChain,
  encodeChain,
  headOf,
  intentsOfLink,
  linkHash,
  listChainDevices,
  MAX_CHAIN_LINKS,
  peerIdFromSigningKey,
  signingKeyFromPeerId,
  proposeLink,
  rebaseIntents,
  type SigningKeyPair,
  sameHead,
  TandemError,
  preverifyLinks,
  type AgreementKeyPair,
  verifyChain
} from '@tandem/protocol'
import { StoreCorruptError } from '../errors.js'
import { ChainKeys } from '../keys/chain-keys.js'
import type { KeyRing } from '../keys/key-ring.js'
import { type Runtime, signaturesOf } from '../runtime.js'

import { fromHex, toHex as keyHex } from '../util/hex.js'
import type { DocStore } from '../store/doc-store.js'
import { type ChainChange, diff } from './chain-change.js'

export type { ChainChange }

type KeeperRuntime = Pick<Runtime, 'now' | 'signatures' | 'randomBytes'>
/** This device's two keys: it signs links with one, content keys are sealed to the other. */
type DeviceKeys = { signing: SigningKeyPair; agreement: AgreementKeyPair }

const CHAIN_META = 'chain'
const CONFIRMED_META = 'chain-confirmed'
const HASH_BYTES = 32

/**
 * This device's copy of its account's device chain: every valid link it has seen (the
 * winning chain and links that lost a fork), which of them a relay confirmed, and the head
 * fork choice picks from them. Links come from relays (confirmed: a relay is the arbiter
 * while reachable) and from the account's other devices; this device signs new ones with its
 * own key. A link of ours that loses a fork is rebased onto the winner when this device is
 * still current there (two devices that each linked a device while apart both end up
 * listed); when it is not, this device learns it was revoked.
 */
export class ChainKeeper {
  private readonly held = new Map<string, ChainLink>()
  private readonly confirmed = new Set<string>()
  private chain: ChainLink[] = []
  private current!: ChainState
  private listeners: Array<(change: ChainChange) => void> = []
  private confirmWaiters: Array<() => void> = []
  private confirmListeners: Array<() => void> = []
  /** Lost links of ours already signed again on a fork's winner (in memory: a second rebase after a restart finds its intents done). */
  private readonly resigned = new Set<string>()

  private constructor(
    private readonly store: DocStore,
    readonly accountId: string,
    private readonly signer: SigningKeyPair,
    agreement: AgreementKeyPair,
    private readonly runtime: KeeperRuntime,
    private readonly policy: ChainPolicy
  ) {
    this.chainKeys = new ChainKeys(agreement, runtime.randomBytes)
  }

  private readonly chainKeys: ChainKeys

  /** The account's content keys this device holds, read from the winning chain. */
  get keys(): KeyRing {
    return this.chainKeys.ring
  }

  /** A keeper for a chain this device just made or received whole (a genesis, a link grant). */
  static async adopt(store: DocStore, accountId: string, links: ChainLink[], device: DeviceKeys, runtime: KeeperRuntime, policy = DEFAULT_CHAIN_POLICY): Promise<ChainKeeper> {
    const keeper = new ChainKeeper(store, accountId, device.signing, device.agreement, runtime, policy)
    await preverifyLinks(links, await signaturesOf(runtime))
    verifyChain(links, { accountId })
    for (const link of links) keeper.held.set(keyHex(linkHash(link)), link)
    keeper.choose()
    await keeper.save()
    return keeper
  }

  /** The keeper of a stored chain; ERR_STORE_CORRUPT when it is missing or does not verify. */
  static async load(store: DocStore, accountId: string, device: DeviceKeys, runtime: KeeperRuntime, policy = DEFAULT_CHAIN_POLICY): Promise<ChainKeeper> {
    const keeper = new ChainKeeper(store, accountId, device.signing, device.agreement, runtime, policy)
    const bytes = await store.getMeta(CHAIN_META)
    if (bytes === undefined) throw new StoreCorruptError(`the device chain of account ${accountId} is missing from the store`)
    try {
      const links = decodeChain(bytes)
      await preverifyLinks(links, await signaturesOf(runtime))
      for (const link of links) keeper.held.set(keyHex(linkHash(link)), link)
      const confirmed = (await store.getMeta(CONFIRMED_META)) ?? new Uint8Array(0)
      for (let i = 0; i + HASH_BYTES <= confirmed.length; i += HASH_BYTES) keeper.confirmed.add(keyHex(confirmed.subarray(i, i + HASH_BYTES)))
      keeper.choose()
    } catch (err) {
      if (err instanceof StoreCorruptError) throw err
      throw new StoreCorruptError(`the stored device chain of account ${accountId} is unreadable`, { cause: err })
    }
    return keeper
  }

  get state(): ChainState {
    return this.current
  }

  get head(): ChainHead {
    return headOf(this.current)
  }

  /** The winning chain, genesis first. */
  links(): ChainLink[] {
    return [...this.chain]
  }

  /** What a peer holding `head` lacks: the links after it when it is on our chain, else the whole chain. */
  linksAfter(head: ChainHead | null): ChainLink[] {
    if (head === null) return this.links()
    const at = this.chain[head.version - 1]
    if (at !== undefined && sameHead({ version: at.version, hash: linkHash(at) }, head)) return this.chain.slice(head.version)
    return this.links()
  }

  /** True when `head` names a link of our winning chain (the peer is behind or equal). */
  isOnChain(head: ChainHead): boolean {
    const at = this.chain[head.version - 1]
    return at !== undefined && sameHead({ version: at.version, hash: linkHash(at) }, head)
  }

  status(peerId: string): 'listed' | 'revoked' | 'unlisted' {
    return chainDeviceStatus(this.current, peerId)
  }

  /**
   * Whether a held link off the winning chain lists `peerId` and was signed by a device still
   * current: that device signs what it meant again on the winner (a rebase), so a device it
   * listed is only waiting, not out.
   */
  listerStillCurrent(peerId: string): boolean {
    const key = signingKeyFromPeerId(peerId)
    if (key === null) return false
    const hex = keyHex(key)
    const onChain = new Set(this.chain.map(l => keyHex(linkHash(l))))
    for (const [linkHex, link] of this.held) {
      if (onChain.has(linkHex) || link.signer.kind !== 'device') continue
      if (!link.devices.some(d => keyHex(d.signingKey) === hex)) continue
      if (chainDeviceStatus(this.current, peerIdFromSigningKey(link.signer.publicKey)) === 'listed') return true
    }
    return false
  }

  listedPeerIds(): string[] {
    return listChainDevices(this.current).map(d => d.peerId)
  }

  /** Called after every batch of links a relay sent (what it confirms may have changed, the head may not). */
  onConfirmed(listener: () => void): void {
    this.confirmListeners.push(listener)
  }

  onChange(listener: (change: ChainChange) => void): () => void {
    this.listeners.push(listener)
    return () => {
      this.listeners = this.listeners.filter(l => l !== listener)
    }
  }

  /**
   * Links from a relay (`confirmed`: it holds them) or a device. Invalid links are
   * dropped (a forger gains nothing, the rest still count). Returns the change, or null when
   * the head stayed.
   */
  async receive(links: readonly ChainLink[], confirmed: boolean): Promise<ChainChange | null> {
    try {
      await preverifyLinks(links, await signaturesOf(this.runtime))
      return await this.take(links, confirmed)
    } finally {
      if (confirmed) this.confirmationsChanged()
    }
  }

  /**
   * A relay named `head` as the head it holds (its welcome): that link and the ones it
   * builds on are confirmed, when this device holds them. A device that got its chain from
   * another device (a link grant) learns here that the relay holds it, even though the relay
   * sends it no links (it lacks none).
   */
  async confirmHead(head: ChainHead): Promise<ChainChange | null> {
    const hex = keyHex(head.hash)
    const link = this.held.get(hex)
    if (link === undefined) return null
    try {
      let fresh = false
      if (!this.confirmed.has(hex)) {
        this.confirmed.add(hex)
        fresh = true
      }
      if (this.confirmAncestors(link)) fresh = true
      return fresh ? await this.rechoose() : null
    } finally {
      this.confirmationsChanged()
    }
  }

  /** What a relay confirms may have changed: wake whoever waits on it. */
  private confirmationsChanged(): void {
    this.refreshKeys()
    for (const wake of this.confirmWaiters.splice(0)) wake()
    for (const l of this.confirmListeners) l()
  }

  /** True when a relay holds the head link. */
  get headConfirmed(): boolean {
    return this.confirmed.has(keyHex(this.current.headHash))
  }

  /** Resolves once a relay holds the head (true), or after `timeoutMs` (false). */
  whenHeadConfirmed(timeoutMs: number, timers: Pick<Runtime, 'setTimeout' | 'clearTimeout'>): Promise<boolean> {
    if (this.headConfirmed) return Promise.resolve(true)
    return new Promise(resolve => {
      const timer = timers.setTimeout(() => {
        this.confirmWaiters = this.confirmWaiters.filter(w => w !== check)
        resolve(false)
      }, timeoutMs)
      const check = (): void => {
        if (!this.headConfirmed) {
          this.confirmWaiters.push(check)
          return
        }
        timers.clearTimeout(timer)
        resolve(true)
      }
      this.confirmWaiters.push(check)
    })
  }

  private async take(links: readonly ChainLink[], confirmed: boolean): Promise<ChainChange | null> {
    let fresh = false
    for (const link of links) {
      let hex: string
      try {
        hex = keyHex(linkHash(link))
      } catch {
        continue // malformed: the frame decoder lets none through, but a link is checked where it is used
      }
      if (confirmed && !this.confirmed.has(hex)) {
        this.confirmed.add(hex)
        fresh = true
      }
      if (!this.held.has(hex) && this.held.size < MAX_CHAIN_LINKS) {
        this.held.set(hex, link)
        fresh = true
      }
    }
    // a relay holds a link only on top of the links before it: they are confirmed too (it
    // sends a device only what it lacks, so the ancestors' own confirmation may never come)
    if (confirmed) for (const link of links) if (this.confirmAncestors(link)) fresh = true
    if (!fresh) return null
    return await this.rechoose()
  }

  /** Marks the held links `link` builds on as confirmed; true when one was not yet. */
  private confirmAncestors(link: ChainLink): boolean {
    let added = false
    let prev = link.prev
    for (let i = 0; prev !== null && i < MAX_CHAIN_LINKS; i++) {
      const hex = keyHex(prev)
      const parent = this.held.get(hex)
      if (parent === undefined || this.confirmed.has(hex)) break
      this.confirmed.add(hex)
      added = true
      prev = parent.prev
    }
    return added
  }

  /** Signs the next link with this device's key, applying `intents` (typed errors from proposeLink), and adopts it. */
  async propose(intents: readonly ChainIntent[]): Promise<{ link: ChainLink; change: ChainChange | null }> {
    const link = proposeLink(this.current, intents, { kind: 'device', key: this.signer }, { issuedAt: this.runtime.now(), policy: this.policy, extensions: this.chainKeys.forLink })
    this.held.set(keyHex(linkHash(link)), link)
    return { link, change: await this.rechoose() }
  }

  private async rechoose(): Promise<ChainChange | null> {
    const before = this.current
    const orphaned = this.choose()
    const rebased: ChainLink[] = []
    // our own links that lost a fork (a run of them, when this device went on signing on the
    // losing branch): what they meant, in order, signed again as one link on top of the
    // winner. Each one's intents are read against its parent first, while the run is held.
    // a link signed again earlier may be back on the winning chain (the fork flipped), and lose again later
    for (const l of this.chain) this.resigned.delete(keyHex(linkHash(l)))
    const mine = orphaned.filter(l => l.signer.kind === 'device' && keyHex(l.signer.publicKey) === keyHex(this.signer.publicKey) && !this.resigned.has(keyHex(linkHash(l))))
    const intents: ChainIntent[] = []
    for (const lost of mine) {
      const parent = this.parentState(lost)
      if (parent !== null) intents.push(...intentsOfLink(parent, lost))
    }
    // never rebase the same lost link twice; it stays held all the same: a relay may hold it
    // (it took the link, and its echo was lost), and the links after it there build on it
    for (const lost of mine) this.resigned.add(keyHex(linkHash(lost)))
    if (intents.length > 0) {
      const outcome = rebaseIntents(
        this.current,
        intents,
        { kind: 'device', key: this.signer },
        { issuedAt: this.runtime.now(), policy: this.policy, extensions: this.chainKeys.forRebase }
      )
      if (outcome.link !== null) {
        this.held.set(keyHex(linkHash(outcome.link)), outcome.link)
        rebased.push(outcome.link)
      }
    }
    if (rebased.length > 0) this.choose()
    await this.save()
    if (sameHead(headOf(before), headOf(this.current))) return null
    const change = diff(before, this.current, rebased)
    for (const l of this.listeners) l(change)
    return change
  }

  /** A problem with the chain's key material: typed, for the engine to report. */
  onKeyProblem(listener: (problem: TandemError) => void): void {
    this.chainKeys.onProblem(listener)
  }

  /** The ring reads the winning chain again: its links, and which of them a relay holds. */
  private refreshKeys(): void {
    const chain = this.chain
    this.chainKeys.refresh(chain, i => i === 0 || this.confirmed.has(keyHex(linkHash(chain[i]!))))
  }

  /** Picks the head; returns the valid links off the winning chain. */
  private choose(): ChainLink[] {
    const choice = chooseChain(this.held.values(), { accountId: this.accountId, confirmed: [...this.confirmed].map(fromHex) })
    // links that break the rules are never kept: they could only ever be rejected again
    for (const { link } of choice.rejected) {
      try {
        this.held.delete(keyHex(linkHash(link)))
      } catch {}
    }
    this.chain = choice.chain
    this.current = choice.state
    this.refreshKeys()
    return choice.orphaned
  }

  /** The state a held link was signed on, from the links that lead to it. */
  private parentState(link: ChainLink): ChainState | null {
    const path: ChainLink[] = []
    let prev = link.prev
    for (let i = 0; prev !== null && i < MAX_CHAIN_LINKS; i++) {
      const parent = this.held.get(keyHex(prev))
      if (parent === undefined) return null
      path.unshift(parent)
      prev = parent.prev
    }
    try {
      return verifyChain(path, { accountId: this.accountId })
    } catch (err) {
      if (err instanceof TandemError) return null
      throw err
    }
  }

  private async save(): Promise<void> {
    const confirmed = new Uint8Array(this.confirmed.size * HASH_BYTES)
    let i = 0
    for (const hex of this.confirmed) {
      confirmed.set(fromHex(hex), i)
      i += HASH_BYTES
    }
    await Promise.all([this.store.putMeta(CHAIN_META, encodeChain([...this.held.values()])), this.store.putMeta(CONFIRMED_META, confirmed)])
  }
}
