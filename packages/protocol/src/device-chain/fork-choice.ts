/**
 * Which chain wins when links fork: two devices signed successors of the same link while
 * they could not reach each other or the relay. The choice is a function of the set of
 * links alone (never of the order they arrived in), so every device that holds the same
 * links picks the same head. PROTOCOL.md ("Forks") gives the rule and why.
 */
import { InvalidDeviceListError, TandemError } from '../errors.js'
import { linkHash } from './digest.js'
import { type ChainLink, compareBytes, keyHex } from './link.js'
import { verifyGenesis, verifySuccessor } from './rules.js'
import type { ChainState } from './state.js'

export interface ForkChoice {
  /** The winning chain, genesis first. */
  chain: ChainLink[]
  /** Its head. */
  state: ChainState
  /** Valid links off the winning chain, by version: a device finds its own lost links here and rebases them (rebaseLink). */
  orphaned: ChainLink[]
  /** Links that fail the rules against their parent (or are malformed), with why. */
  rejected: { link: ChainLink; error: TandemError }[]
  /** Links none of the others leads to (their parent is missing or rejected): fetch what is missing. */
  detached: ChainLink[]
}

interface Node {
  link: ChainLink
  hash: Uint8Array
  hex: string
  state: ChainState | null
}

/**
 * Picks the account's chain from any set of links (duplicates and foreign links allowed).
 * `confirmed` are hashes of links a relay has accepted: a relay is the arbiter while it is
 * reachable, so a confirmed link beats its unconfirmed siblings. Throws
 * InvalidDeviceListError when no valid genesis of `accountId` is among the links.
 */
export function chooseChain(links: Iterable<ChainLink>, options: { accountId: string; confirmed?: Iterable<Uint8Array> }): ForkChoice {
  const confirmed = new Set([...(options.confirmed ?? [])].map(keyHex))
  const rejected: ForkChoice['rejected'] = []
  const rejectedNodes = new Set<string>()
  const nodes = new Map<string, Node>()
  for (const link of links) {
    try {
      const hash = linkHash(link)
      const hex = keyHex(hash)
      if (!nodes.has(hex)) nodes.set(hex, { link, hash, hex, state: null })
    } catch (error) {
      rejected.push({ link, error: asTandemError(error) })
    }
  }
  const children = new Map<string, Node[]>()
  let genesis: Node | null = null
  for (const node of nodes.values()) {
    if (node.link.prev === null) {
      try {
        node.state = verifyGenesis(node.link, { accountId: options.accountId })
        genesis = node
      } catch (error) {
        rejected.push({ link: node.link, error: asTandemError(error) })
        rejectedNodes.add(node.hex)
      }
      continue
    }
    const key = keyHex(node.link.prev)
    const list = children.get(key)
    if (list === undefined) children.set(key, [node])
    else list.push(node)
  }
  if (genesis === null) throw new InvalidDeviceListError(`no valid genesis of account ${options.accountId} among the links`)

  // Every link reachable from the genesis is checked against its parent once.
  const winner = new Map<string, Node>()
  const stack: Node[] = [genesis]
  while (stack.length > 0) {
    const parent = stack.pop()!
    const valid: Node[] = []
    for (const child of children.get(parent.hex) ?? []) {
      try {
        child.state = verifySuccessor(parent.state!, child.link)
        valid.push(child)
        stack.push(child)
      } catch (error) {
        rejected.push({ link: child.link, error: asTandemError(error) })
        rejectedNodes.add(child.hex)
      }
    }
    if (valid.length > 0) winner.set(parent.hex, preferred(valid, confirmed))
  }

  const chain: ChainLink[] = []
  const onChain = new Set<string>()
  let node: Node | undefined = genesis
  let head = genesis
  while (node !== undefined) {
    chain.push(node.link)
    onChain.add(node.hex)
    head = node
    node = winner.get(node.hex)
  }
  const byVersion = (a: Node, b: Node) => a.link.version - b.link.version || compareBytes(a.hash, b.hash)
  const off = [...nodes.values()].filter(n => !onChain.has(n.hex)).sort(byVersion)
  return {
    chain,
    state: head.state!,
    orphaned: off.filter(n => n.state !== null).map(n => n.link),
    rejected,
    detached: off.filter(n => n.state === null && !rejectedNodes.has(n.hex)).map(n => n.link)
  }
}

/**
 * The rule between valid successors of one link, each step keeping the candidates that
 * pass it when any do: confirmed by a relay; signed by the recovery key (the account's
 * root outranks any device); signer not revoked by a sibling (a revocation beats what the
 * revoked device did at the same time); then the lowest link hash.
 */
function preferred(siblings: Node[], confirmed: Set<string>): Node {
  let candidates = siblings
  const narrow = (keep: (n: Node) => boolean) => {
    const kept = candidates.filter(keep)
    if (kept.length > 0) candidates = kept
  }
  narrow(n => confirmed.has(n.hex))
  narrow(n => n.link.signer.kind === 'recovery')
  const snapshot = candidates
  narrow(n => n.link.signer.kind === 'recovery' || !snapshot.some(other => other !== n && other.state!.revoked.has(keyHex(n.link.signer.publicKey))))
  return candidates.reduce((best, n) => (compareBytes(n.hash, best.hash) < 0 ? n : best))
}

function asTandemError(error: unknown): TandemError {
  return error instanceof TandemError ? error : new InvalidDeviceListError(`chain link: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}
