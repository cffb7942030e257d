/**
 * The content keys a chain carries (extension types 1 and 2; PROTOCOL.md, "Key generations").
 * A key generation g is 32 random bytes K_g. The link that starts it (the genesis, and every
 * link that revokes a device or changes the recovery key) seals K_g to every device it lists
 * and to the recovery X25519 key, and wraps K_{g−1} under K_g, so the newest key opens every
 * older one. A link that only adds devices seals the current K_g to the new ones. The relay
 * stores all of it and opens none of it.
 */
import * as encoding from 'lib0/encoding'
import { InvalidDeviceListError } from '../errors.js'
import { KEY_ID_BYTES } from '../crypto/content-keys.js'
import { KEY_BOX_BYTES, WRAPPED_KEY_BYTES } from '../crypto/key-box.js'
import * as wire from '../wire.js'
import { AGREEMENT_KEY_BYTES } from './keys.js'
import { MAX_CHAIN_DEVICES, type ChainLink, type LinkExtension } from './link.js'

export const KEY_GENERATION_EXTENSION = 1
export const RECOVERY_AGREEMENT_EXTENSION = 2
const KEY_GENERATION_FORMAT = 1

/** K_g sealed to one X25519 public key: a listed device's agreementKey, or the recovery agreement key. */
export interface KeyBox {
  recipient: Uint8Array
  box: Uint8Array
}

export interface KeyGeneration {
  /** 1 at the genesis, +1 at each link that starts a generation. */
  generation: number
  /** keyIdOf(K_g): a device that opened a box checks it got this key. */
  keyId: Uint8Array
  /** True on the link that starts the generation (it boxes K_g to every listed device and the recovery key). */
  starts: boolean
  boxes: KeyBox[]
  /** K_{g−1} wrapped under K_g: on the link that starts a generation g > 1, null otherwise. */
  previous: Uint8Array | null
  /**
   * The account's X25519 public key of this generation (accountAgreementKey(K_g)), on the link
   * that starts it: what a chat shared with other accounts seals its key to for this account.
   */
  accountKey: Uint8Array | null
}

const errs: wire.WireErrors = {
  malformed: (m, o) => new InvalidDeviceListError(`key generation ${m}`, o),
  tooLarge: (m, o) => new InvalidDeviceListError(`key generation ${m}`, o)
}

/** The box context: what a box is for, so it cannot be moved to another generation or key and open there. */
export function keyBoxContext(generation: number, keyId: Uint8Array): Uint8Array {
  return encoding.encode(e => {
    encoding.writeVarString(e, 'tandem/key-generation')
    encoding.writeVarUint(e, generation)
    encoding.writeUint8Array(e, keyId)
  })
}

export function encodeKeyGeneration(g: KeyGeneration): LinkExtension {
  const data = encoding.encode(e =>
    wire.guard(
      () => {
        wire.writeUint(e, 'format', KEY_GENERATION_FORMAT, errs)
        wire.writeUint(e, 'generation', g.generation, errs)
        if (g.generation < 1) throw errs.malformed('generation must be at least 1')
        wire.writeFixedBytes(e, 'keyId', g.keyId, KEY_ID_BYTES, errs)
        wire.writeBool(e, 'starts', g.starts, errs)
        wire.writeCount(e, 'boxes', g.boxes.length, MAX_CHAIN_DEVICES + 1, errs)
        for (const b of g.boxes) {
          wire.writeFixedBytes(e, 'box recipient', b.recipient, AGREEMENT_KEY_BYTES, errs)
          wire.writeFixedBytes(e, 'box', b.box, KEY_BOX_BYTES, errs)
        }
        if (g.previous !== null && (!g.starts || g.generation === 1)) throw errs.malformed('only a link that starts a generation after the first wraps the one before')
        wire.writeBool(e, 'has previous', g.previous !== null, errs)
        if (g.previous !== null) wire.writeFixedBytes(e, 'previous', g.previous, WRAPPED_KEY_BYTES, errs)
        const accountKey = g.accountKey ?? null
        if (accountKey !== null && !g.starts) throw errs.malformed('only a link that starts a generation names its account key')
        wire.writeBool(e, 'has account key', accountKey !== null, errs)
        if (accountKey !== null) wire.writeFixedBytes(e, 'account key', accountKey, AGREEMENT_KEY_BYTES, errs)
      },
      'key generation',
      errs
    )
  )
  return { type: KEY_GENERATION_EXTENSION, data }
}

export function decodeKeyGeneration(data: Uint8Array): KeyGeneration {
  return wire.decodeWhole(
    data,
    d => {
      const format = wire.readUint(d, 'format', errs)
      if (format !== KEY_GENERATION_FORMAT) throw errs.malformed(`format ${format} is not supported`)
      const generation = wire.readUint(d, 'generation', errs)
      if (generation < 1) throw errs.malformed('generation must be at least 1')
      const keyId = wire.readFixedBytes(d, 'keyId', KEY_ID_BYTES, errs)
      const starts = wire.readBool(d, 'starts', errs)
      const n = wire.readCount(d, 'boxes', MAX_CHAIN_DEVICES + 1, errs)
      const boxes: KeyBox[] = []
      for (let i = 0; i < n; i++)
        boxes.push({ recipient: wire.readFixedBytes(d, 'box recipient', AGREEMENT_KEY_BYTES, errs), box: wire.readFixedBytes(d, 'box', KEY_BOX_BYTES, errs) })
      const previous = wire.readBool(d, 'has previous', errs) ? wire.readFixedBytes(d, 'previous', WRAPPED_KEY_BYTES, errs) : null
      if (previous !== null && (!starts || generation === 1)) throw errs.malformed('only a link that starts a generation after the first wraps the one before')
      const accountKey = wire.readBool(d, 'has account key', errs) ? wire.readFixedBytes(d, 'account key', AGREEMENT_KEY_BYTES, errs) : null
      if (accountKey !== null && !starts) throw errs.malformed('only a link that starts a generation names its account key')
      return { generation, keyId, starts, boxes, previous, accountKey }
    },
    'key generation',
    errs
  )
}

/** The key generation a link carries, or null (a malformed one is an error: it would leave devices without keys). */
export function keyGenerationOf(link: ChainLink): KeyGeneration | null {
  const x = link.extensions.find(e => e.type === KEY_GENERATION_EXTENSION)
  return x === undefined ? null : decodeKeyGeneration(x.data)
}

export function encodeRecoveryAgreement(publicKey: Uint8Array): LinkExtension {
  const data = encoding.encode(e => {
    wire.writeFixedBytes(e, 'recovery agreement key', publicKey, AGREEMENT_KEY_BYTES, errs)
  })
  return { type: RECOVERY_AGREEMENT_EXTENSION, data }
}

/** The recovery X25519 public key a link sets, or null. */
export function recoveryAgreementOf(link: ChainLink): Uint8Array | null {
  const x = link.extensions.find(e => e.type === RECOVERY_AGREEMENT_EXTENSION)
  if (x === undefined) return null
  return wire.decodeWhole(x.data, d => wire.readFixedBytes(d, 'recovery agreement key', AGREEMENT_KEY_BYTES, errs), 'recovery agreement key', errs)
}

/**
 * The newest key generation a chain has started, reading links after one whose generation is
 * `from` (0 before the genesis): what a relay refuses uploads older than. Public data (the
 * numbers, never a key); a link whose extension does not parse starts nothing here.
 */
export function generationAfter(from: number, links: readonly ChainLink[]): number {
  let generation = from
  for (const link of links) {
    try {
      const kg = keyGenerationOf(link)
      if (kg?.starts === true && kg.generation === generation + 1) generation = kg.generation
    } catch {
      // devices report it; the relay only counts generations
    }
  }
  return generation
}
