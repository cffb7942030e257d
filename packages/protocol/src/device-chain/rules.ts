/**
 * When a link may follow another. Every device and the relay run exactly these checks, so
 * they agree on which chains are valid; only the device limit is a policy (who appends
 * enforces it), so changing the limit never invalidates history.
 */
import {
  ChainForkError,
  ChainGapError,
  DeviceLimitError,
  InvalidDeviceListError,
  RevocationUndoneError,
  RevokedSignerError,
  SignerNotCurrentError,
  StaleDeviceListError,
  WrongAccountError
} from '../errors.js'
import * as wire from '../wire.js'
import { accountIdFromGenesis, linkHash, linkSignatureVerifies } from './digest.js'
import { isUsableSigningKey, peerIdFromSigningKey } from './keys.js'
import { type ChainLink, keyHex, MAX_CHAIN_DEVICES } from './link.js'
import { type ChainState, stateOf } from './state.js'

export const DEFAULT_MAX_DEVICES = 10

/** What the one appending a link (the relay, the signing device) also enforces. */
export interface ChainPolicy {
  /** Most devices listed at once; a link that adds a device may not leave more (1 … MAX_CHAIN_DEVICES). */
  maxDevices: number
}

export const DEFAULT_CHAIN_POLICY: Readonly<ChainPolicy> = Object.freeze({ maxDevices: DEFAULT_MAX_DEVICES })

const short = (hash: Uint8Array | null): string => (hash === null ? 'none' : keyHex(hash).slice(0, 12))
const who = (link: ChainLink): string => (link.signer.kind === 'recovery' ? 'the recovery key' : `device ${peerIdFromSigningKey(link.signer.publicKey)}`)

/**
 * Checks a genesis (link 1) and returns the chain it founds. Throws InvalidDeviceListError
 * (malformed, not link 1, revocations, unusable keys, bad signature), SignerNotCurrentError
 * (not signed by a device it lists) or WrongAccountError (another account than `expect.accountId`).
 */
export function verifyGenesis(link: ChainLink, expect: { accountId?: string } = {}): ChainState {
  const hash = linkHash(link) // checks every field first
  if (link.version !== 1) throw new InvalidDeviceListError(`a chain starts with link 1, not link ${link.version}`)
  const accountId = accountIdFromGenesis(link, hash)
  if (expect.accountId !== undefined && accountId !== expect.accountId) throw new WrongAccountError(`the chain founds account ${accountId}, expected ${expect.accountId}`)
  if (!linkSignatureVerifies(link, hash)) throw new InvalidDeviceListError('genesis signature does not verify')
  const signer = keyHex(link.signer.publicKey)
  if (link.signer.kind !== 'device' || !link.devices.some(d => keyHex(d.signingKey) === signer)) {
    throw new SignerNotCurrentError(`the genesis must be signed by a device it lists, not by ${who(link)}`)
  }
  if (link.revoked.length > 0) throw new InvalidDeviceListError('the genesis revokes nothing')
  if (!isUsableSigningKey(link.recoveryKey)) throw new InvalidDeviceListError('the recovery key is not a usable Ed25519 key')
  for (const d of link.devices) usableDeviceKey(d.signingKey)
  return stateOf(accountId, link, hash)
}

/**
 * Checks `link` as the successor of the verified `head` and returns the chain it makes.
 * Throws, in the order checked: InvalidDeviceListError (malformed), WrongAccountError (a
 * genesis of another account), StaleDeviceListError (not newer than the head),
 * ChainForkError (builds on another link than the head), ChainGapError (links missing in
 * between), InvalidDeviceListError (versions not consecutive, bad signature),
 * RevokedSignerError / SignerNotCurrentError (signer not current in the head),
 * RevocationUndoneError (un-revokes or re-lists), InvalidDeviceListError (drops a device
 * without revoking it, changes a device's keys or linkedAt, lists an unusable key).
 */
export function verifySuccessor(head: ChainState, link: ChainLink): ChainState {
  const hash = linkHash(link)
  checkPosition(head, link, hash)
  if (!linkSignatureVerifies(link, hash)) throw new InvalidDeviceListError(`link ${link.version}: signature does not verify`)
  checkSigner(head, link)
  checkDevices(head, link)
  return stateOf(head.accountId, link, hash)
}

/**
 * The compare-and-set the relay (and any device) applies to a link offered on top of the
 * chain it holds: the first valid successor of the head wins, and the same link offered
 * again is no change. `head` null means no chain yet: the link must be a genesis. The
 * policy's device limit applies to links that add a device.
 */
export function acceptLink(head: ChainState | null, link: ChainLink, options: { accountId?: string; policy?: ChainPolicy } = {}): { state: ChainState; added: boolean } {
  const policy = checkedPolicy(options.policy ?? DEFAULT_CHAIN_POLICY)
  if (head === null) {
    const state = verifyGenesis(link, options)
    checkDeviceLimit(null, state, policy)
    return { state, added: true }
  }
  if (options.accountId !== undefined && head.accountId !== options.accountId) {
    throw new WrongAccountError(`the held chain is of account ${head.accountId}, expected ${options.accountId}`)
  }
  if (wire.equalBytes(linkHash(link), head.headHash)) return { state: head, added: false }
  const state = verifySuccessor(head, link)
  checkDeviceLimit(head, state, policy)
  return { state, added: true }
}

/** Checks a whole chain, genesis first, and returns its head state. The device limit is not checked (see ChainPolicy). */
export function verifyChain(links: readonly ChainLink[], expect: { accountId?: string } = {}): ChainState {
  if (!Array.isArray(links) || links.length === 0) throw new InvalidDeviceListError('a chain has at least its genesis')
  let state = verifyGenesis(links[0]!, expect)
  for (let i = 1; i < links.length; i++) state = verifySuccessor(state, links[i]!)
  return state
}

/** Throws DeviceLimitError when `next` adds a device and leaves more than the policy allows. */
export function checkDeviceLimit(previous: ChainState | null, next: ChainState, policy: ChainPolicy = DEFAULT_CHAIN_POLICY): void {
  const { maxDevices } = checkedPolicy(policy)
  if (next.devices.size <= maxDevices) return
  const adds = [...next.devices.keys()].some(key => previous === null || !previous.devices.has(key))
  if (adds) throw new DeviceLimitError(`link ${next.version} lists ${next.devices.size} devices, over the account's limit of ${maxDevices}`)
}

/** The policy, or a RangeError for a limit outside 1 … MAX_CHAIN_DEVICES (a configuration mistake, not a peer's). */
export function checkedPolicy(policy: ChainPolicy): ChainPolicy {
  const max = policy?.maxDevices
  if (!Number.isInteger(max) || max < 1 || max > MAX_CHAIN_DEVICES) throw new RangeError(`maxDevices must be an integer from 1 to ${MAX_CHAIN_DEVICES}, got ${max}`)
  return policy
}

function checkPosition(head: ChainState, link: ChainLink, hash: Uint8Array): void {
  const v = link.version
  if (wire.equalBytes(hash, head.headHash)) throw new StaleDeviceListError(`link ${v} is the head itself`)
  if (v === 1) {
    const other = accountIdFromGenesis(link, hash)
    if (other !== head.accountId) throw new WrongAccountError(`a genesis of account ${other} cannot extend account ${head.accountId}`)
    throw new StaleDeviceListError(`the genesis is not newer than the head, link ${head.version}`)
  }
  if (wire.equalBytes(link.prev!, head.headHash)) {
    if (v !== head.version + 1) throw new InvalidDeviceListError(`link ${v} builds on link ${head.version}: versions go up by one`)
    return
  }
  if (v < head.version) throw new StaleDeviceListError(`link ${v} is older than the head, link ${head.version}`)
  if (v === head.version) {
    if (wire.equalBytes(link.prev!, head.head.prev!)) {
      throw new ChainForkError(`another link ${v} (${short(head.headHash)}) was accepted first on top of link ${v - 1}`)
    }
    throw new StaleDeviceListError(`link ${v} is not newer than the head, link ${head.version}`)
  }
  if (v === head.version + 1) {
    throw new ChainForkError(`link ${v} builds on ${short(link.prev)}, not on the head link ${head.version} (${short(head.headHash)})`)
  }
  throw new ChainGapError(`link ${v} does not follow the head, link ${head.version}: links ${head.version + 1} to ${v - 1} are missing`)
}

function checkSigner(head: ChainState, link: ChainLink): void {
  const key = link.signer.publicKey
  if (link.signer.kind === 'recovery') {
    if (!wire.equalBytes(key, head.recoveryKey)) throw new SignerNotCurrentError(`link ${link.version} is signed by a recovery key that is not the current one`)
    return
  }
  const hex = keyHex(key)
  if (head.revoked.has(hex)) throw new RevokedSignerError(`link ${link.version} is signed by ${who(link)}, revoked before link ${head.version + 1}`)
  if (!head.devices.has(hex)) throw new SignerNotCurrentError(`link ${link.version} is signed by ${who(link)}, not a device of link ${head.version}`)
}

function checkDevices(head: ChainState, link: ChainLink): void {
  const revoked = new Set(link.revoked.map(keyHex))
  for (const hex of head.revoked) {
    if (!revoked.has(hex)) throw new RevocationUndoneError(`link ${link.version} un-revokes device ${peerIdOfHex(head, hex)}: revocation is one-way`)
  }
  const listed = new Map(link.devices.map(d => [keyHex(d.signingKey), d]))
  for (const [hex, before] of head.devices) {
    const after = listed.get(hex)
    if (after === undefined) {
      if (!revoked.has(hex)) throw new InvalidDeviceListError(`link ${link.version} drops device ${peerIdFromSigningKey(before.signingKey)} without revoking it`)
    } else if (!wire.equalBytes(after.agreementKey, before.agreementKey) || after.linkedAt !== before.linkedAt) {
      throw new InvalidDeviceListError(`link ${link.version} changes the agreement key or linkedAt of device ${peerIdFromSigningKey(before.signingKey)}`)
    }
  }
  for (const [hex, d] of listed) if (!head.devices.has(hex)) usableDeviceKey(d.signingKey)
  if (!wire.equalBytes(link.recoveryKey, head.recoveryKey) && !isUsableSigningKey(link.recoveryKey)) {
    throw new InvalidDeviceListError(`link ${link.version}: the new recovery key is not a usable Ed25519 key`)
  }
}

function usableDeviceKey(key: Uint8Array): void {
  if (!isUsableSigningKey(key)) throw new InvalidDeviceListError(`device key ${keyHex(key)} is not a usable Ed25519 key`)
}

function peerIdOfHex(head: ChainState, hex: string): string {
  const key = head.head.revoked.find(k => keyHex(k) === hex)
  return key === undefined ? hex : peerIdFromSigningKey(key)
}
