import {
  type AgreementKeyPair,
  type AuthorStanding,
  type ChainLink,
  type ChainState,
  type Draft,
  accountAgreementKey,
  docKey,
  encodeKeyGeneration,
  encodeRecoveryAgreement,
  type KeyBox,
  type KeyGeneration,
  type KeyShareEntry,
  keyBoxContext,
  keyGenerationOf,
  keyIdOf,
  type LinkExtension,
  openKey,
  recoveryAgreementOf,
  sealKey,
  type TandemError,
  UnknownEpochError,
  unwrapKey,
  wrapKey
} from '@tandem/protocol'
import { toHex as keyHex } from '../util/hex.js'

/** A generation as the chain carries it, with the key once this device opened it. */
interface Generation extends KeyGeneration {
  key: Uint8Array | null
  /** Whether the link that started it can no longer lose a fork (the genesis, or a relay holds it). */
  settled: boolean
}

/** What the ring found wrong in a chain: reported (typed), never thrown at the chain. */
export type KeyRingProblem = TandemError

/**
 * The account's content keys on this device, read from its device chain (key generations:
 * PROTOCOL.md, "Key generations"). It opens the boxes sealed to this device's X25519 key
 * (and, while recovering, to the recovery key), unwraps every older generation from the
 * newest it holds, and says who could write in which epoch. It also makes the key material
 * a new link must carry: a new generation when a link revokes a device or changes the
 * recovery key, boxes of the current one for devices a link adds.
 *
 * Nothing here is stored: the chain holds every key, sealed, so the ring is rebuilt from it
 * (one X25519 per generation this device opens; ~1 ms with noble).
 */
export class KeyRing {
  private generations: Generation[] = []
  /** Signing key (hex) → the first generation it may not write in (the one its revocation started). */
  private revokedFrom = new Map<string, number>()
  private everListed = new Set<string>()
  /** The recovery X25519 key of the winning chain (extension 2), or null (an account without a phrase). */
  private recoveryAgreement: Uint8Array | null = null
  /** Recovery agreement keys by recovery signing key (hex): a link that sets a recovery key carries its X25519 key. */
  private readonly recoveryAgreements = new Map<string, Uint8Array>()
  private readonly docKeys = new Map<string, Uint8Array>()
  private listeners: Array<() => void> = []

  constructor(
    private readonly holders: readonly AgreementKeyPair[],
    private readonly random: (n: number) => Uint8Array
  ) {}

  /**
   * Reads the winning chain (genesis first). `settled(i)` says whether link i can no longer
   * lose a fork. Returns what was wrong with the chain's key material, if anything; listeners
   * hear of any change in the keys held.
   */
  update(links: readonly ChainLink[], settled: (index: number) => boolean): KeyRingProblem[] {
    const problems: KeyRingProblem[] = []
    const writingIn = this.writeEpoch()
    const known = new Map(this.generations.map(g => [`${g.generation}:${keyHex(g.keyId)}`, g.key]))
    const generations: Generation[] = []
    const revokedFrom = new Map<string, number>()
    const everListed = new Set<string>()
    let recovery: Uint8Array | null = null
    let previous: ChainLink | null = null
    links.forEach((link, index) => {
      let kg: KeyGeneration | null = null
      try {
        kg = keyGenerationOf(link)
        const agreement = recoveryAgreementOf(link)
        if (agreement !== null) {
          recovery = agreement
          this.recoveryAgreements.set(keyHex(link.recoveryKey), agreement)
        } else if (previous !== null && keyHex(link.recoveryKey) !== keyHex(previous.recoveryKey)) {
          // a new recovery key without its X25519 key: never seal to the old one again
          recovery = this.recoveryAgreements.get(keyHex(link.recoveryKey)) ?? null
        }
      } catch (err) {
        problems.push(err as TandemError)
      }
      const latest = generations.at(-1) ?? null
      if (kg !== null) {
        if (kg.starts && kg.generation === (latest?.generation ?? 0) + 1) {
          const key = known.get(`${kg.generation}:${keyHex(kg.keyId)}`) ?? null
          generations.push({ ...kg, boxes: [...kg.boxes], key, settled: settled(index) })
        } else if (!kg.starts && latest !== null && kg.generation === latest.generation && equal(kg.keyId, latest.keyId)) {
          latest.boxes.push(...kg.boxes)
        } else {
          problems.push(new UnknownEpochError(`link ${link.version} carries key generation ${kg.generation}, which does not follow generation ${latest?.generation ?? 0}`))
        }
      }
      const current = generations.at(-1)?.generation ?? 0
      for (const d of link.devices) everListed.add(keyHex(d.signingKey))
      if (previous !== null) {
        for (const key of link.revoked) {
          const hex = keyHex(key)
          // a revoking link that started no generation leaves the revoked device able to read: it may still write in this one
          if (!revokedFrom.has(hex)) revokedFrom.set(hex, kg?.starts === true ? current : current + 1)
        }
      }
      previous = link
    })
    this.generations = generations
    this.revokedFrom = revokedFrom
    this.everListed = everListed
    this.recoveryAgreement = recovery
    const before = this.heldCount()
    this.openBoxes(problems)
    if (this.heldCount() !== before || known.size !== generations.length) this.docKeys.clear()
    // more keys, or a held generation now settled (a relay confirmed its link): sealing that waited may go on
    if (this.heldCount() !== before || this.writeEpoch() !== writingIn) for (const l of this.listeners) l()
    return problems
  }

  /** Called whenever the ring comes to hold more keys (blobs waiting for one may open now) or writes in another generation. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener)
    return () => {
      this.listeners = this.listeners.filter(l => l !== listener)
    }
  }

  /** Boxes of the generations asked for that this device holds, sealed to `recipient` (a listed device's X25519 key). */
  share(generations: readonly number[], recipient: Uint8Array): KeyShareEntry[] {
    const out: KeyShareEntry[] = []
    for (const n of new Set(generations)) {
      const g = this.generations[n - 1]
      if (g?.key == null) continue
      out.push({ generation: n, keyId: g.keyId, box: sealKey(g.key, recipient, keyBoxContext(n, g.keyId), this.random) })
    }
    return out
  }

  /**
   * A generation's key another device shared (a key request answered): kept when it opens with
   * one of this device's keys and is that generation's (its keyId); older ones unwrap from it.
   * True when the ring holds more than before.
   */
  adopt(entries: readonly KeyShareEntry[]): boolean {
    const before = this.heldCount()
    for (const entry of entries) {
      const g = this.generations[entry.generation - 1]
      if (g === undefined || g.key !== null || !equal(g.keyId, entry.keyId)) continue
      for (const holder of this.holders) {
        try {
          const key = openKey(entry.box, holder.secretKey, holder.publicKey, keyBoxContext(g.generation, g.keyId))
          if (equal(keyIdOf(key), g.keyId)) {
            g.key = key
            break
          }
        } catch {
          // sealed to another of our keys, or not at all to us
        }
      }
    }
    this.openBoxes([])
    const gained = this.heldCount() !== before
    if (gained) {
      this.docKeys.clear()
      for (const l of this.listeners) l()
    }
    return gained
  }

  /** The generation this device writes in: the newest it holds whose start can no longer be undone by a fork. */
  writeEpoch(): number | null {
    for (let i = this.generations.length - 1; i >= 0; i--) {
      const g = this.generations[i]!
      if (g.key !== null && (g.settled || g.generation === 1)) return g.generation
    }
    return null
  }

  /** The newest generation of the chain (whether held or not); 0 before any. */
  get latest(): number {
    return this.generations.at(-1)?.generation ?? 0
  }

  /** Generations of the chain this device holds no key of. */
  missing(): number[] {
    return this.generations.filter(g => g.key === null).map(g => g.generation)
  }

  /** The key of `docId`'s blobs in `epoch`, or null when this device does not hold that generation. */
  docKey(epoch: number, docId: string): Uint8Array | null {
    const g = this.generations[epoch - 1]
    if (g?.key == null) return null
    const id = `${epoch}:${docId}`
    let key = this.docKeys.get(id)
    if (key === undefined) {
      if (this.docKeys.size >= 4096) this.docKeys.delete(this.docKeys.keys().next().value!)
      key = docKey(g.key, docId)
      this.docKeys.set(id, key)
    }
    return key
  }

  /** The account's X25519 key pair of generation `generation` (what chats between accounts seal to), or null when not held. */
  accountAgreement(generation: number): { publicKey: Uint8Array; secretKey: Uint8Array } | null {
    const key = this.generations[generation - 1]?.key ?? null
    return key === null ? null : accountAgreementKey(key)
  }

  /** Whether `author` could write in `epoch`: listed, and not revoked at or before it. */
  standing(author: Uint8Array, epoch: number): AuthorStanding {
    const hex = keyHex(author)
    if (!this.everListed.has(hex)) return 'unknown'
    const from = this.revokedFrom.get(hex)
    return from !== undefined && epoch >= from ? 'revoked' : 'listed'
  }

  /** The X25519 key of a recovery key this device is about to set (from the same phrase). */
  noteRecovery(recoveryKey: Uint8Array, agreement: Uint8Array): void {
    this.recoveryAgreements.set(keyHex(recoveryKey), agreement)
  }

  /** The genesis' key material: generation 1 sealed to the first device and to the recovery key (when the account has a phrase). */
  genesisExtensions(device: Uint8Array, recoveryAgreement: Uint8Array | null): LinkExtension[] {
    const key = this.random(32)
    const recipients = recoveryAgreement === null ? [device] : [device, recoveryAgreement]
    const extensions = [encodeKeyGeneration(this.sealed(1, key, recipients, true, null))]
    if (recoveryAgreement !== null) extensions.push(encodeRecoveryAgreement(recoveryAgreement))
    return extensions
  }

  /**
   * The key material a link proposed on `head` must carry, for the list `draft` holds:
   * a new generation (sealed to every listed device and the recovery key, the current one
   * wrapped under it) when the draft revokes a device or changes the recovery key; boxes of
   * the current generation for each device it adds; nothing otherwise. ERR_UNKNOWN_EPOCH when
   * this device lacks the current generation (it cannot give a new device the history).
   * A draft that sets a recovery key carries its X25519 key when {@link noteRecovery} named it.
   */
  extensionsFor(head: ChainState, draft: Draft): LinkExtension[] {
    const latest = this.generations.at(-1) ?? null
    if (latest === null) return [] // a chain from before key generations: nothing to seal
    const revokes = [...draft.revoked.keys()].some(hex => !head.revoked.has(hex))
    const recoveryChanged = keyHex(draft.recoveryKey) !== keyHex(head.recoveryKey)
    const adds = [...draft.devices.keys()].some(hex => !head.devices.has(hex))
    if (!revokes && !recoveryChanged && !adds) return [] // a rename: no key material
    if (latest.key === null) throw new UnknownEpochError(`this device holds no key of the account's generation ${latest.generation}: another device must make this change`)
    const newRecovery = recoveryChanged ? (this.recoveryAgreements.get(keyHex(draft.recoveryKey)) ?? null) : this.recoveryAgreement
    const extensions: LinkExtension[] = []
    if (recoveryChanged && newRecovery !== null) extensions.push(encodeRecoveryAgreement(newRecovery))
    if (revokes || recoveryChanged) {
      const key = this.random(32)
      const g = latest.generation + 1
      const recipients = [...draft.devices.values()].map(d => d.agreementKey)
      if (newRecovery !== null) recipients.push(newRecovery)
      const wrapped = wrapKey(latest.key, key, keyBoxContext(g, keyIdOf(key)), this.random)
      extensions.unshift(encodeKeyGeneration(this.sealed(g, key, recipients, true, wrapped)))
      return extensions
    }
    const added = [...draft.devices.entries()].filter(([hex]) => !head.devices.has(hex)).map(([, d]) => d.agreementKey)
    if (added.length > 0) extensions.unshift(encodeKeyGeneration(this.sealed(latest.generation, latest.key, added, false, null)))
    return extensions
  }

  private sealed(generation: number, key: Uint8Array, recipients: Uint8Array[], starts: boolean, previous: Uint8Array | null): KeyGeneration {
    const keyId = keyIdOf(key)
    const context = keyBoxContext(generation, keyId)
    const boxes: KeyBox[] = recipients.map(recipient => ({ recipient, box: sealKey(key, recipient, context, this.random) }))
    return { generation, keyId, starts, boxes, previous, accountKey: starts ? accountAgreementKey(key).publicKey : null }
  }

  private heldCount(): number {
    return this.generations.filter(g => g.key !== null).length
  }

  /** Opens the boxes sealed to a holder, then unwraps older generations from newer ones. */
  private openBoxes(problems: KeyRingProblem[]): void {
    for (const g of this.generations) {
      if (g.key !== null) continue
      const context = keyBoxContext(g.generation, g.keyId)
      for (const holder of this.holders) {
        const box = g.boxes.find(b => equal(b.recipient, holder.publicKey))
        if (box === undefined) continue
        try {
          const key = openKey(box.box, holder.secretKey, holder.publicKey, context)
          if (equal(keyIdOf(key), g.keyId)) {
            g.key = key
            break
          }
          problems.push(new UnknownEpochError(`the box of generation ${g.generation} sealed to this device holds another key`))
        } catch (err) {
          problems.push(err as TandemError)
        }
      }
    }
    for (let i = this.generations.length - 1; i > 0; i--) {
      const g = this.generations[i]!
      const before = this.generations[i - 1]!
      if (g.key === null || before.key !== null || g.previous === null) continue
      try {
        const key = unwrapKey(g.previous, g.key, keyBoxContext(g.generation, g.keyId))
        if (equal(keyIdOf(key), before.keyId)) before.key = key
        else problems.push(new UnknownEpochError(`generation ${g.generation} wraps a key that is not generation ${before.generation}'s`))
      } catch (err) {
        problems.push(err as TandemError)
      }
    }
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
