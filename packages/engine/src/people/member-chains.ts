import { type ChainLink, type ChainState, chainDeviceStatus, chainKeyStatus, keyGenerationOf } from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import { fetchChain } from '../account/chain-fetch.js'
import { RelayUnavailableError, UnknownAccountError } from '../errors.js'
import type { Runtime } from '../runtime.js'

/** How long reading another account's chain from a relay may take. */
const FETCH_TIMEOUT_MS = 10_000

/** What a chain says of an account's key generations: the account key of each one started. */
interface HeldChain {
  state: ChainState
  /** generation → its account key (the `accountKey` of the link that started it). */
  accountKeys: Map<number, Uint8Array>
}

/**
 * Other accounts' device chains, read from a relay (a store hello naming the account and no
 * head: the relay sends any such stream the whole chain, and it must verify and found the
 * account id asked for: the relay is trusted for nothing). What a device of this account
 * checks a chat between accounts against: that a membership record's signer is a listed device
 * of its account, that an invite's account key is its account's, and who wrote a blob of the
 * chat. Kept in memory; read again when something names a device the held copy does not list.
 */
export class MemberChains {
  private readonly chains = new Map<string, HeldChain>()
  private readonly fetching = new Map<string, Promise<HeldChain>>()

  constructor(
    /** A store stream to the relay at `relay` (an address), or with null to a home relay; null when none is reachable. */
    private readonly open: (relay: string | null) => Promise<Link | null>,
    private readonly runtime: Pick<Runtime, 'setTimeout' | 'clearTimeout'>,
    /** A chain came in or grew: blobs parked for an unknown author may open now. */
    private readonly changed: () => void
  ) {}

  /** The account's chain as last read, or null. */
  state(accountId: string): ChainState | null {
    return this.chains.get(accountId)?.state ?? null
  }

  /**
   * Reads the account's chain from a relay that holds it: `relay` (the address of a chat's
   * relay, an invite's), or a home relay when null. One read at a time per account. Throws
   * RelayUnavailableError, or the chain's own error.
   */
  fetch(accountId: string, relay: string | null = null): Promise<ChainState> {
    let running = this.fetching.get(accountId)
    if (running === undefined) {
      running = this.read(accountId, relay)
      this.fetching.set(accountId, running)
      const done = (): void => {
        this.fetching.delete(accountId)
      }
      running.then(done, done)
    }
    return running.then(held => held.state)
  }

  /** The account key of generation `generation` of the account's chain as held, or null. */
  accountKey(accountId: string, generation: number): Uint8Array | null {
    return this.chains.get(accountId)?.accountKeys.get(generation) ?? null
  }

  /** The newest generation the held chain started, with its account key; null when none is held. */
  latestAccountKey(accountId: string): { generation: number; accountKey: Uint8Array } | null {
    const keys = this.chains.get(accountId)?.accountKeys
    if (keys === undefined || keys.size === 0) return null
    const generation = Math.max(...keys.keys())
    return { generation, accountKey: keys.get(generation)! }
  }

  /** Whether device `peerId` is listed (or was, and is revoked) in the held chain of `accountId`. */
  deviceStatus(accountId: string, peerId: string): 'listed' | 'revoked' | 'unlisted' {
    const state = this.state(accountId)
    return state === null ? 'unlisted' : chainDeviceStatus(state, peerId)
  }

  /** The member account among `accounts` whose held chain has ever listed the author key, or null. */
  accountOfAuthor(author: Uint8Array, accounts: readonly string[]): string | null {
    for (const a of accounts) {
      const state = this.state(a)
      if (state !== null && chainKeyStatus(state, author) !== 'unlisted') return a
    }
    return null
  }

  private async read(accountId: string, relay: string | null): Promise<HeldChain> {
    const { links, state } = await this.readFromRelay(accountId, relay)
    const held = { state, accountKeys: accountKeysOf(links) }
    const before = this.chains.get(accountId)
    this.chains.set(accountId, held)
    if (before === undefined || before.state.version !== state.version) this.changed()
    return held
  }

  private async readFromRelay(accountId: string, relay: string | null): Promise<{ links: ChainLink[]; state: ChainState }> {
    for (let attempt = 0; ; attempt++) {
      const link = await this.open(relay)
      if (link === null) throw new RelayUnavailableError(`no relay is reachable to read the device chain of account ${accountId}`)
      try {
        return await fetchChain(link, accountId, this.runtime, FETCH_TIMEOUT_MS)
      } catch (err) {
        const wait = UNKNOWN_ACCOUNT_RETRIES_MS[attempt]
        if (!(err instanceof UnknownAccountError) || wait === undefined) throw err
        await new Promise<void>(resolve => this.runtime.setTimeout(resolve, wait))
      }
    }
  }
}

/** Tries when a relay holds no chain of the account yet (a device that just made it may be offering its first link), and the waits between. */
const UNKNOWN_ACCOUNT_RETRIES_MS = [200, 400, 800, 1600]

function accountKeysOf(links: readonly ChainLink[]): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>()
  for (const link of links) {
    try {
      const g = keyGenerationOf(link)
      if (g?.starts === true && g.accountKey !== null) out.set(g.generation, g.accountKey)
    } catch {
      // a link whose key material does not parse names no account key
    }
  }
  return out
}
