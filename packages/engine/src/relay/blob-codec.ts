import {
  type AeadBackend,
  BadSignatureError,
  BlobEncoding,
  DecryptError,
  decodeBlobEnvelope,
  encodeBlobEnvelope,
  isSealed,
  MalformedFrameError,
  nobleAead,
  openSealed,
  type OpenedSealed,
  type AuthorStanding,
  type SealedKind,
  seal,
  sealedEpoch,
  type SignatureBackend,
  type SigningKeyPair,
  UnknownEpochError,
  UnsupportedVersionError
} from '@tandem/protocol'
import type { KeyRing } from '../keys/key-ring.js'
import type { Compression } from '../platform/compression.js'
import { decodeSv, encodeSv, type StateVector } from './state-vector.js'

/** Largest update a blob may inflate to: a relay cannot make a device allocate more. */
export const MAX_INFLATED_BLOB_BYTES = 512 * 1024 * 1024

/**
 * Updates shorter than this go uncompressed. One message's update (~235 B: its id, author,
 * device and text, nothing repeated) came out of brotli 4 B longer, so it went raw anyway
 * after a compression that cost the sender 28 µs hot and ~100 µs on a cold loop, which is the
 * lone message's case; two messages' (~460 B) shrink by 30 %.
 */
export const MIN_COMPRESSED_BYTES = 320

export interface DecodedBlob {
  update: Uint8Array
  /** The clocks the update reaches (see BlobEnvelope.reach). */
  reach: StateVector
  /** The Ed25519 key of the device that signed the blob. */
  author: Uint8Array
}

/**
 * How the docs of a chat between accounts are sealed (issue 16): under the chat's epoch keys,
 * not the account's generations, and written by devices of its member accounts.
 */
export interface DocSealing {
  /** The epoch to seal in now, or null while this device holds none of the chat's keys. */
  writeEpoch(): number | null
  keyFor(epoch: number): Uint8Array | null
  /** May throw UnknownEpochError: the blob waits (an author whose chain is being read). */
  standing(author: Uint8Array, epoch: number): AuthorStanding
  /**
   * The newest epoch the chat's relay may ask blobs to be sealed in, as far as this device
   * knows: the record's, or the next one when a member account started a newer key generation
   * than the one the record seals to (the relay refuses the record's epoch then: ERR_STALE_EPOCH).
   */
  latestEpoch(): number
  /**
   * Whether this device's key of `epoch` may yet be replaced: it came in a record the chat's
   * relay has not confirmed. Two members that start an epoch at once each sign a record with a
   * key of their own, and the relay keeps one; a blob sealed under the kept key does not open
   * with the other, and waits for the relay's record instead of being dropped (a device that
   * dropped it never showed the message: concurrent-epochs, 4 failures in 80 runs).
   */
  provisional(epoch: number): boolean
  /** Learns what the relay knows of the chat's epoch: records it sent that are being checked, and the members' chains read again. */
  refresh(): Promise<void>
}

/** What sealing needs from the device: its signing key, its account's keys (once it has an account), Ed25519, XChaCha20-Poly1305 and randomness. */
export interface SealingKeys {
  readonly signing: SigningKeyPair
  /** The account's key ring; null while this device has no account. */
  ring(): KeyRing | null
  signatures(): Promise<SignatureBackend>
  /** The platform's XChaCha20-Poly1305 (the same bytes from every backend); noble's when absent. */
  readonly aead?: AeadBackend
  randomBytes(n: number): Uint8Array
  /** A doc of a chat between accounts: how it is sealed (null: the account's own keys). */
  shared?(docId: string): DocSealing | null
  /**
   * False while this device must not seal a blob of `docId` yet (SharedChats.sealable: a chat
   * whose record the relay has not confirmed, or one not known to be this account's alone);
   * sealing waits for `keysChanged`. Ephemerals do not wait: they live for seconds.
   */
  sealable?(docId: string): boolean
}

/**
 * A Yjs update as a relay blob and back. The update is compressed with the platform's encoding
 * (unless that does not make it smaller) and put in an envelope with the clocks it reaches;
 * the envelope is then sealed end to end (PROTOCOL.md, "Sealed blobs"): XChaCha20-Poly1305
 * under the doc's key of the newest settled generation, signed by this device. What the relay
 * can read is the epoch, the author device and the size. Reading checks the author, the
 * signature and the AEAD before anything is inflated; an unsealed blob is refused (a relay
 * must not be able to make a device show what no device of the account wrote).
 */
export class BlobCodec {
  private writable: Array<() => void> = []
  private readonly aead: AeadBackend

  constructor(
    private readonly compression: Compression,
    private readonly keys: SealingKeys
  ) {
    this.aead = keys.aead ?? nobleAead
  }

  /** Seals in the newest generation this device writes in; with `minEpoch`, waits until that is at least `minEpoch`. */
  /** `minEpoch`: seal in this key epoch or a newer one; `dense`: a snapshot (see Compression.compress). */
  async encode(docId: string, update: Uint8Array, reach: StateVector, options: { minEpoch?: number; dense?: boolean } = {}): Promise<Uint8Array> {
    const packed = update.byteLength < MIN_COMPRESSED_BYTES ? update : await this.compression.compress(update, options.dense === true)
    const compressed = packed.byteLength + 1 < update.byteLength
    const inner = encodeBlobEnvelope({ encoding: compressed ? this.compression.encoding : BlobEncoding.Raw, reach: encodeSv(reach), payload: compressed ? packed : update })
    return this.seal('blob', docId, inner, options.minEpoch ?? 0)
  }

  /** The Yjs update inside a relay blob of `docId`. Throws a typed error: ERR_BAD_SIGNATURE, ERR_UNKNOWN_EPOCH, ERR_DECRYPT, or a bad envelope. */
  async decode(docId: string, blob: Uint8Array, maxBytes = MAX_INFLATED_BLOB_BYTES): Promise<DecodedBlob> {
    const opened = await this.open('blob', docId, blob)
    const author = opened.author
    const { encoding, reach: reachBytes, payload } = decodeBlobEnvelope(opened.plaintext)
    let reach: StateVector
    try {
      reach = decodeSv(reachBytes)
    } catch (err) {
      throw new MalformedFrameError('relay blob has an unreadable reach', { cause: err })
    }
    if (encoding === BlobEncoding.Raw) return { update: payload, reach, author }
    try {
      return { update: await this.compression.decompress(encoding, payload, maxBytes), reach, author }
    } catch (err) {
      if (err instanceof UnsupportedVersionError) throw err
      throw new MalformedFrameError('relay blob does not decompress', { cause: err })
    }
  }

  /** Typing, presence: sealed like a blob (another domain), not compressed (small). */
  sealEphemeral(docId: string, payload: Uint8Array): Promise<Uint8Array> {
    return this.seal('ephemeral', docId, payload)
  }

  async openEphemeral(docId: string, sealed: Uint8Array): Promise<Uint8Array> {
    return (await this.open('ephemeral', docId, sealed)).plaintext
  }

  /** The epoch this device seals `docId` in now (see KeyRing.writeEpoch, DocSealing.writeEpoch), or null while it has none. */
  writeEpoch(docId: string): number | null {
    const shared = this.keys.shared?.(docId) ?? null
    return shared !== null ? shared.writeEpoch() : (this.keys.ring()?.writeEpoch() ?? null)
  }

  /**
   * The newest epoch the relay may ask `docId`'s blobs to be sealed in: a shared chat's (see
   * DocSealing.latestEpoch), else the newest generation the account's chain has started (held
   * or not, settled or not); 0 without an account.
   */
  latestEpoch(docId: string): number {
    const shared = this.keys.shared?.(docId) ?? null
    return shared !== null ? shared.latestEpoch() : (this.keys.ring()?.latest ?? 0)
  }

  /**
   * The relay refused an upload of `docId` as stale: resolves once this device knows what the
   * relay does of the doc's epoch. The account's own chain came before the refusal (the relay
   * sends its new links first, and they are read in turn); a shared chat's records and its
   * members' chains are another account's doing, and are read again (DocSealing.refresh).
   */
  async refresh(docId: string): Promise<void> {
    await this.keys.shared?.(docId)?.refresh()
  }

  /** Whether a blob of `docId` may be sealed now (see SealingKeys.sealable): the uploader holds a doc's writes back while not. */
  sealable(docId: string): boolean {
    return this.keys.sealable?.(docId) ?? true
  }

  /** Resolves at the next {@link keysChanged}. */
  keysChange(): Promise<void> {
    return new Promise<void>(resolve => {
      this.writable.push(resolve)
    })
  }

  /** The ring gained keys: sealing that waited for a writable generation goes on. */
  keysChanged(): void {
    const waiting = this.writable
    this.writable = []
    for (const w of waiting) w()
  }

  private async seal(kind: SealedKind, docId: string, plaintext: Uint8Array, minEpoch = 0): Promise<Uint8Array> {
    const { key, epoch } = await this.writableEpoch(docId, minEpoch, kind === 'blob')
    return seal(
      kind,
      {
        docId,
        epoch,
        author: this.keys.signing.publicKey,
        authorSeed: this.keys.signing.secretKey,
        key,
        nonce: this.keys.randomBytes(24),
        plaintext
      },
      await this.keys.signatures(),
      this.aead
    )
  }

  private async open(kind: SealedKind, docId: string, bytes: Uint8Array): Promise<OpenedSealed> {
    const ring = this.keys.ring()
    if (!isSealed(bytes)) throw new BadSignatureError(`an unsealed ${kind} of ${docId}: no device of the account wrote it`)
    if (ring === null) throw new BadSignatureError(`a ${kind} of ${docId} came before this device had an account`)
    const shared = this.keys.shared?.(docId) ?? null
    try {
      return await openSealed(
        kind,
        docId,
        bytes,
        shared ?? { keyFor: epoch => ring.docKey(epoch, docId), standing: (author, epoch) => ring.standing(author, epoch) },
        await this.keys.signatures(),
        this.aead
      )
    } catch (err) {
      const epoch = err instanceof DecryptError ? sealedEpoch(bytes) : null
      if (epoch !== null && shared?.provisional(epoch) === true)
        throw new UnknownEpochError(
          `a ${kind} of ${docId} does not open with this device's key of epoch ${epoch}, from a record the chat's relay has not confirmed: it waits for the relay's record`,
          {
            cause: err
          }
        )
      throw err
    }
  }

  /**
   * The key and the epoch to write `docId` in: the account's generation (see KeyRing.writeEpoch),
   * or a shared chat's epoch; waits while this device holds none it may write in.
   */
  private async writableEpoch(docId: string, minEpoch: number, durable: boolean): Promise<{ key: Uint8Array; epoch: number }> {
    for (;;) {
      if (durable && !this.sealable(docId)) {
        await this.keysChange()
        continue
      }
      const shared = this.keys.shared?.(docId) ?? null
      const ring = this.keys.ring()
      const epoch = shared !== null ? shared.writeEpoch() : (ring?.writeEpoch() ?? null)
      const key = epoch === null ? null : shared !== null ? shared.keyFor(epoch) : (ring?.docKey(epoch, docId) ?? null)
      if (key !== null && epoch !== null && epoch >= minEpoch) return { key, epoch }
      await new Promise<void>(resolve => {
        this.writable.push(resolve)
      })
    }
  }
}
