import { BlobCodec, KeyRing, nodeCompression } from '@tandem/engine/internal'
import {
  type AgreementKeyPair,
  type ChainLink,
  type SigningKeyPair,
  agreementKeyFromSecret,
  chatIdOfDoc,
  chooseChain,
  decodeChain,
  LINK_HASH_BYTES,
  membershipDocOf,
  preverifyLinks
} from '@tandem/protocol'
import { LevelAccessRecords } from '@tandem/relay'
import { readCheckedRecord } from '@tandem/storage'
import type { Disk } from '@tandem/storage/testing'
import { SimChatKeys } from './sim-chat-keys.js'
import { simSignatures } from './signatures.js'
import { readOnly } from './step-invariants.js'
import { writesOf } from './watched-store.js'
import type { DeviceNode, World } from './world.js'

/** The simulator's rings and codecs only open: anything that would seal (and draw randomness or sign) is a bug here. */
const sealing = (what: string): never => {
  throw new Error(`the simulator's key rings only open blobs (${what})`)
}
const OPEN_ONLY: SigningKeyPair = {
  get publicKey(): Uint8Array {
    return sealing('a signing key')
  },
  get secretKey(): Uint8Array {
    return sealing('a signing key')
  }
}

/**
 * The account's content keys as the simulator sees them, to read what the relay holds (end to
 * end sealed since issue 14) with the engine's own `KeyRing` and `BlobCodec`: each device's
 * X25519 agreement key, read from its disk once the device belongs to an account (before a
 * revocation erases it), and each account's chain as the relay holds it on disk.
 */
export class SimKeys {
  private readonly agreements = new Map<DeviceNode, { key: AgreementKeyPair; final: boolean }>()
  /** Per device, its disk's batch count when last read (a disk that took no batch holds the same key). */
  private readonly readAt = new Map<DeviceNode, number>()

  constructor(private readonly world: World) {}

  /**
   * Per step: remembers each device's agreement key. Once its store names an account the key
   * is final (the engine never makes another for a store with an account); before, a crash may
   * lose it and the next open make another, so it is read again whenever the disk changes.
   */
  async capture(): Promise<void> {
    for (const d of this.world.devices) {
      if (d.peerId === '' || d.revoked || this.agreements.get(d)?.final === true) continue
      const writes = writesOf(d.disk)
      if (this.readAt.get(d) === writes) continue
      this.readAt.set(d, writes)
      const found = await agreementOn(d.disk, this.agreements.get(d)?.key ?? null)
      if (found !== null) this.agreements.set(d, found)
    }
  }

  /** A device's agreement key pair, if the simulator saw it on its disk. */
  agreementOf(d: DeviceNode): AgreementKeyPair | null {
    return this.agreements.get(d)?.key ?? null
  }

  /** Every agreement key of the account's devices the simulator saw (revoked and retired ones too: older generations open with them). */
  holders(account: number): AgreementKeyPair[] {
    return [...this.agreements].filter(([d]) => d.account === account).map(([, a]) => a.key)
  }

  /** The account's chain as the relay holds it on disk (read as a restarted relay would), or null. */
  async relayChain(account: number): Promise<ChainLink[] | null> {
    const accountId = this.world.accountIds[account]
    if (accountId === undefined) return null
    const records = await LevelAccessRecords.open(readOnly(this.world.relay.disk.db))
    return await records.chain(accountId)
  }

  /**
   * A codec that opens the blobs of `d`'s account: the engine's BlobCodec on a KeyRing of the
   * relay's chain of the account (or, while the relay holds none, the chain on `d`'s disk),
   * holding every agreement key of the account's devices; the docs of shared chats among
   * `docIds` with their epoch keys from the relay's records (SimChatKeys). It never seals.
   * `reads(docId)` is false for a shared chat the account is no longer in.
   */
  async opener(d: DeviceNode, docIds: Iterable<string>): Promise<{ codec: BlobCodec; reads(docId: string): boolean }> {
    const links = (await this.relayChain(d.account)) ?? (await chainOn(d.disk))
    const holders = this.holders(d.account)
    const own = this.agreements.has(d) ? null : await agreementOn(d.disk)
    if (own !== null) holders.push(own.key)
    const ring = links === null ? null : ringOf(links, holders)
    const chats = new SimChatKeys(this.world.accountIds[d.account] ?? '', ring, chain => ringOf(chain, []))
    const records = await LevelAccessRecords.open(readOnly(this.world.relay.disk.db))
    for (const docId of new Set([...docIds].filter(id => chatIdOfDoc(id) !== null).map(membershipDocOf))) {
      const record = await records.membership(docId)
      if (record === null) continue // a chat of the account alone, its record not on the disk yet: its own generations
      const chains = new Map<string, ChainLink[]>()
      for (const m of record.members) {
        const chain = await records.chain(m)
        if (chain !== null) chains.set(m, chain)
      }
      chats.add(docId, { record, chains })
    }
    const codec = new BlobCodec(nodeCompression, {
      signing: OPEN_ONLY,
      ring: () => ring,
      signatures: async () => simSignatures,
      randomBytes: () => sealing('randomness'),
      shared: docId => chats.sealing(docId)
    })
    return { codec, reads: docId => chats.reads(docId) }
  }
}

/** A KeyRing holding what `holders` open in the chain `links` (genesis first). It never seals. */
export function ringOf(links: readonly ChainLink[], holders: readonly AgreementKeyPair[]): KeyRing {
  const ring = new KeyRing([...holders], () => sealing('randomness'))
  ring.update(links, () => true)
  return ring
}

/** A device's agreement key on its disk (final once the store names an account), or null; `known`, if its secret is the one there (an X25519 key derivation saved). */
async function agreementOn(disk: Disk, known: AgreementKeyPair | null = null): Promise<{ key: AgreementKeyPair; final: boolean } | null> {
  const secret = await metaOn(disk, 'agreement-key')
  if (secret === null) return null
  try {
    const key = known !== null && Buffer.from(known.secretKey).equals(secret) ? known : agreementKeyFromSecret(secret)
    return { key, final: (await metaOn(disk, 'account')) !== null }
  } catch {
    return null // damaged: the engine refuses this store (ERR_STORE_CORRUPT)
  }
}

/** The winning chain among the links on a device's disk, chosen as its keeper would at its next open (the links its relays confirmed first), or null. */
async function chainOn(disk: Disk): Promise<ChainLink[] | null> {
  const [account, bytes, confirmed] = await Promise.all([metaOn(disk, 'account'), metaOn(disk, 'chain'), metaOn(disk, 'chain-confirmed')])
  if (account === null || bytes === null) return null
  try {
    const links = decodeChain(bytes)
    await preverifyLinks(links, simSignatures)
    const hashes: Uint8Array[] = []
    for (let i = 0; confirmed !== null && i + LINK_HASH_BYTES <= confirmed.length; i += LINK_HASH_BYTES) hashes.push(confirmed.subarray(i, i + LINK_HASH_BYTES))
    return chooseChain(links, { accountId: new TextDecoder().decode(account), confirmed: hashes }).chain
  } catch {
    return null // damaged: the engine refuses this store (ERR_STORE_CORRUPT)
  }
}

/** A metadata value on a device's disk that verifies (checked records), or null. */
async function metaOn(disk: Disk, name: string): Promise<Uint8Array | null> {
  const key = `meta!${name}`
  const stored = await disk.db.get(key)
  return stored === undefined ? null : readCheckedRecord(key, stored)
}
