/**
 * After a fork, the loser's signer re-applies what it meant on top of the winner, if it
 * is still current there: two devices that each linked a new device while apart both end
 * up listed; a device revoked by the winning link learns that it was, and why nothing it
 * signed can stand.
 */
import { TandemError } from '../errors.js'
import * as wire from '../wire.js'
import { applyIntent, type ChainIntent, type ChainSigner, checkDraftLimit, type ExtensionsFor, checkSignerCurrent, draftOf, signDraft } from './intents.js'
import { peerIdFromSigningKey } from './keys.js'
import { type ChainLink, keyHex } from './link.js'
import { type ChainPolicy, DEFAULT_CHAIN_POLICY } from './rules.js'
import type { ChainState } from './state.js'

export interface RebaseOutcome {
  /** The new link on top of the winner, or null when nothing is left to sign. */
  link: ChainLink | null
  applied: ChainIntent[]
  /** Intents the winner already carries out (the same device added, revoked, named). */
  alreadyDone: ChainIntent[]
  /** Intents that cannot apply any more, each with its typed reason; all of them when the signer is no longer current. */
  dropped: { intent: ChainIntent; reason: TandemError }[]
}

/** What a link did to its parent's list, as intents: additions, revocations, renames, a new recovery key. */
export function intentsOfLink(parent: ChainState, link: ChainLink): ChainIntent[] {
  const intents: ChainIntent[] = []
  for (const d of link.devices) {
    const before = parent.devices.get(keyHex(d.signingKey))
    if (before === undefined) intents.push({ type: 'add-device', device: d })
    else if (before.name !== d.name || before.platform !== d.platform)
      intents.push({ type: 'rename-device', peerId: peerIdFromSigningKey(d.signingKey), name: d.name, platform: d.platform })
  }
  for (const key of link.revoked) if (!parent.revoked.has(keyHex(key))) intents.push({ type: 'revoke-device', peerId: peerIdFromSigningKey(key) })
  if (!wire.equalBytes(link.recoveryKey, parent.recoveryKey)) intents.push({ type: 'set-recovery-key', recoveryKey: link.recoveryKey })
  return intents
}

/**
 * Re-applies `intents` on top of `winner`. Every intent is judged on its own (one that
 * cannot apply does not stop the others); additions come last and are dropped with
 * DeviceLimitError once the limit is reached. Extensions are not carried over: what they
 * hold (key material) depends on the list they were made for; `extensions` makes them anew.
 */
export function rebaseIntents(
  winner: ChainState,
  intents: readonly ChainIntent[],
  signer: ChainSigner,
  options: { issuedAt: number; policy?: ChainPolicy; extensions?: ExtensionsFor }
): RebaseOutcome {
  const outcome: RebaseOutcome = { link: null, applied: [], alreadyDone: [], dropped: [] }
  try {
    checkSignerCurrent(winner, signer)
  } catch (reason) {
    if (!(reason instanceof TandemError)) throw reason
    outcome.dropped = intents.map(intent => ({ intent, reason }))
    return outcome
  }
  const draft = draftOf(winner)
  const ordered = [...intents.filter(i => i.type !== 'add-device'), ...intents.filter(i => i.type === 'add-device')]
  for (const intent of ordered) {
    const before = { devices: new Map(draft.devices), revoked: new Map(draft.revoked), recoveryKey: draft.recoveryKey }
    try {
      const result = applyIntent(draft, intent)
      if (intent.type === 'add-device') checkDraftLimit(winner, draft, options.policy ?? DEFAULT_CHAIN_POLICY)
      ;(result === 'applied' ? outcome.applied : outcome.alreadyDone).push(intent)
    } catch (reason) {
      if (!(reason instanceof TandemError)) throw reason
      Object.assign(draft, before)
      outcome.dropped.push({ intent, reason })
    }
  }
  if (outcome.applied.length > 0) outcome.link = signDraft(winner, draft, signer, options.issuedAt, options.extensions?.(winner, draft) ?? [])
  return outcome
}

/** rebaseIntents with the intents of a lost link (`parent` is the state it was signed on). */
export function rebaseLink(
  winner: ChainState,
  lost: { parent: ChainState; link: ChainLink },
  signer: ChainSigner,
  options: { issuedAt: number; policy?: ChainPolicy; extensions?: ExtensionsFor }
): RebaseOutcome {
  return rebaseIntents(winner, intentsOfLink(lost.parent, lost.link), signer, options)
}
