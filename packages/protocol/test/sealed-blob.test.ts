import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type AuthorStanding,
  BadSignatureError,
  DecryptError,
  docKey,
  isSealed,
  MalformedFrameError,
  nativeSignatures,
  nobleSignatures,
  type OpenContext,
  openSealed,
  readSealedHeader,
  SEALED_ENCODING,
  type SealedKind,
  seal,
  type SignatureBackend,
  TandemError,
  UnknownEpochError
} from '../src/index.js'
import { dev, hex } from './chain-fixtures.js'
import { referenceSealed, varuint } from './sealed-reference.js'

/** K_g of epoch g in these tests (any epoch has one, unless a test says otherwise). */
const generationKey = (epoch: number): Uint8Array => new Uint8Array(32).fill((epoch % 251) + 1)

const author = dev(1)
const other = dev(2)
const NONCE = new Uint8Array(24).fill(0x24)
const HEADER_BYTES = 1 + 32 + 24 // tag, author, nonce (the epoch varuint comes on top)
const OVERHEAD = 16 + 64 // Poly1305 tag, signature

/** What a reader knows: the keys of `epochs` (all epochs when omitted), and who may write when. */
function context(
  docId: string,
  options: { epochs?: number[]; standing?: (author: Uint8Array, epoch: number) => AuthorStanding; keyOf?: (epoch: number) => Uint8Array } = {}
): OpenContext {
  const keyOf = options.keyOf ?? generationKey
  return {
    keyFor: epoch => (options.epochs === undefined || options.epochs.includes(epoch) ? docKey(keyOf(epoch), docId) : null),
    standing: options.standing ?? (key => (hex(key) === hex(author.key.publicKey) || hex(key) === hex(other.key.publicKey) ? 'listed' : 'unknown'))
  }
}

function sealAs(
  kind: SealedKind,
  docId: string,
  plaintext: Uint8Array,
  over: { epoch?: number; key?: Uint8Array; by?: typeof author; as?: Uint8Array; nonce?: Uint8Array } = {},
  backend = nobleSignatures
) {
  const epoch = over.epoch ?? 1
  const by = over.by ?? author
  return seal(
    kind,
    {
      docId,
      epoch,
      author: over.as ?? by.key.publicKey,
      authorSeed: by.key.secretKey,
      key: over.key ?? docKey(generationKey(epoch), docId),
      nonce: over.nonce ?? NONCE,
      plaintext
    },
    backend
  )
}

/** The typed error `open` rejects with (it must reject, and with a TandemError). */
async function refusal(promise: Promise<unknown>): Promise<TandemError> {
  let outcome: unknown
  try {
    outcome = await promise
  } catch (e) {
    if (!(e instanceof TandemError)) throw new Error(`not a TandemError: ${String(e)}`, { cause: e })
    return e
  }
  throw new Error(`opened: ${JSON.stringify(outcome)}`)
}

/** A backend that verifies anything: what the AEAD alone binds, with no signature to lean on. */
const forgiving: SignatureBackend = { native: false, verify: async () => true, sign: nobleSignatures.sign }

const PLAIN = new TextEncoder().encode('see you at the station at 9, bring the tickets')

let native: SignatureBackend
beforeAll(async () => {
  native = await nativeSignatures()
})

describe('sealed blobs', () => {
  it('open to what was sealed, for either kind, any doc, epoch and plaintext; the relay reads only the format, epoch, author and size (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<SealedKind>('blob', 'ephemeral'),
        fc.string({ maxLength: 64 }),
        fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
        fc.uint8Array({ maxLength: 2000 }),
        async (kind, docId, epoch, plaintext) => {
          const sealed = await sealAs(kind, docId, plaintext, { epoch })
          expect(isSealed(sealed)).toBe(true)
          expect(sealed.length).toBe(HEADER_BYTES + varuint(epoch).length + plaintext.length + OVERHEAD)
          const header = readSealedHeader(sealed)
          expect(header.epoch).toBe(epoch)
          expect(hex(header.author)).toBe(hex(author.key.publicKey))
          if (plaintext.length >= 8) expect(Buffer.from(sealed).includes(Buffer.from(plaintext))).toBe(false)
          const opened = await openSealed(kind, docId, sealed, context(docId), nobleSignatures)
          expect(hex(opened.plaintext)).toBe(hex(plaintext))
          expect(opened.epoch).toBe(epoch)
          expect(hex(opened.author)).toBe(hex(author.key.publicKey))
        }
      ),
      { numRuns: 100 }
    )
  })

  it("are PROTOCOL.md's bytes, as node:crypto computes them (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<SealedKind>('blob', 'ephemeral'),
        fc.string({ maxLength: 40 }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ maxLength: 300 }),
        async (kind, docId, epoch, nonce, plaintext) => {
          const sealed = await sealAs(kind, docId, plaintext, { epoch, nonce })
          const key = docKey(generationKey(epoch), docId)
          const expected = referenceSealed(kind, { docId, epoch, author: author.key.publicKey, authorSeed: author.key.secretKey, key, nonce, plaintext })
          expect(hex(sealed)).toBe(hex(expected))
        }
      ),
      { numRuns: 50 }
    )
  })

  it('do not write the doc id: it is bound (aad and signature), not sent', async () => {
    const docId = 'chat:0123456789abcdef01234567'
    const sealed = await sealAs('blob', docId, PLAIN)
    expect(Buffer.from(sealed).includes(Buffer.from(docId))).toBe(false)
    expect(sealed[0]).toBe(SEALED_ENCODING)
  })

  it('a blob with any one bit flipped, anywhere, is rejected: ERR_MALFORMED_FRAME in the format tag, ERR_BAD_SIGNATURE everywhere else (every bit)', async () => {
    const docId = 'account:a1'
    const sealed = await sealAs('blob', docId, PLAIN, {}, native)
    const ctx = context(docId)
    expect(hex((await openSealed('blob', docId, sealed, ctx, native)).plaintext)).toBe(hex(PLAIN))
    const seen = new Map<string, number>()
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const flipped = sealed.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      const err = await refusal(openSealed('blob', docId, flipped, ctx, native))
      expect(err.code, `bit ${bit}`).toBe(bit < 8 ? 'ERR_MALFORMED_FRAME' : 'ERR_BAD_SIGNATURE')
      seen.set(err.code, (seen.get(err.code) ?? 0) + 1)
    }
    expect(seen.get('ERR_BAD_SIGNATURE')).toBe((sealed.length - 1) * 8)
  })

  it('the AEAD binds the same on its own: with a verifier that accepts any signature, a flipped bit in the epoch, nonce or ciphertext is ERR_DECRYPT', async () => {
    const docId = 'account:a1'
    const sealed = await sealAs('blob', docId, PLAIN)
    const ctx = context(docId)
    const signatureAt = sealed.length - 64
    for (let bit = 8; bit < signatureAt * 8; bit++) {
      const flipped = sealed.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      const err = await refusal(openSealed('blob', docId, flipped, ctx, forgiving))
      // a flipped author is nobody the chain lists (ERR_BAD_SIGNATURE before any key is looked up)
      const inAuthor = bit >= 16 && bit < 16 + 256
      expect(err.code, `bit ${bit}`).toBe(inAuthor || bit === 15 ? 'ERR_BAD_SIGNATURE' : 'ERR_DECRYPT')
    }
  })

  it('a blob replayed into another doc is rejected (ERR_BAD_SIGNATURE; ERR_DECRYPT by the AEAD alone) (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), async (docId, otherDoc) => {
        fc.pre(docId !== otherDoc)
        const sealed = await sealAs('blob', docId, PLAIN)
        // the reader holds the other doc's key of that epoch, as a device of the account would
        expect((await refusal(openSealed('blob', otherDoc, sealed, context(otherDoc), nobleSignatures))).code).toBe('ERR_BAD_SIGNATURE')
        expect((await refusal(openSealed('blob', otherDoc, sealed, context(otherDoc), forgiving))).code).toBe('ERR_DECRYPT')
        // and even the first doc's key does not open it under the other doc's name
        expect((await refusal(openSealed('blob', otherDoc, sealed, context(docId), forgiving))).code).toBe('ERR_DECRYPT')
      }),
      { numRuns: 40 }
    )
  })

  it("a blob opened with another epoch's key is rejected (ERR_DECRYPT), however it came to be", async () => {
    const docId = 'account:a1'
    // an honest blob of epoch 1, read by a device whose key for epoch 1 is another generation's
    const honest = await sealAs('blob', docId, PLAIN, { epoch: 1 })
    const wrongKey = context(docId, { keyOf: e => generationKey(e + 1) })
    expect(await refusal(openSealed('blob', docId, honest, wrongKey, nobleSignatures))).toBeInstanceOf(DecryptError)
    // a listed device that labels epoch 2 but seals under epoch 1's key (signed, so only the AEAD can tell)
    const mislabelled = await sealAs('blob', docId, PLAIN, { epoch: 2, key: docKey(generationKey(1), docId) })
    expect(readSealedHeader(mislabelled).epoch).toBe(2)
    expect(await refusal(openSealed('blob', docId, mislabelled, context(docId), nobleSignatures))).toBeInstanceOf(DecryptError)
  })

  it('a blob of an epoch this device holds no key of is kept for later (ERR_UNKNOWN_EPOCH), not rejected, and opens once the key is held', async () => {
    const docId = 'account:a1'
    const sealed = await sealAs('blob', docId, PLAIN, { epoch: 3 })
    const err = await refusal(openSealed('blob', docId, sealed, context(docId, { epochs: [1, 2] }), nobleSignatures))
    expect(err).toBeInstanceOf(UnknownEpochError)
    expect(err.code).toBe('ERR_UNKNOWN_EPOCH')
    expect(hex((await openSealed('blob', docId, sealed, context(docId, { epochs: [1, 2, 3] }), nobleSignatures)).plaintext)).toBe(hex(PLAIN))
  })

  it('a blob signed by a device not on the list, or revoked before its epoch, is rejected (ERR_BAD_SIGNATURE) before any key is looked up', async () => {
    const docId = 'account:a1'
    const stranger = dev(9)
    const asked: number[] = []
    const ctx = (standing: AuthorStanding): OpenContext => ({
      keyFor: epoch => {
        asked.push(epoch)
        return docKey(generationKey(epoch), docId)
      },
      standing: () => standing
    })
    const byStranger = await sealAs('blob', docId, PLAIN, { by: stranger, epoch: 2 })
    expect(await refusal(openSealed('blob', docId, byStranger, context(docId), nobleSignatures))).toBeInstanceOf(BadSignatureError)
    expect((await refusal(openSealed('blob', docId, byStranger, ctx('unknown'), nobleSignatures))).message).toMatch(/not on the account's list/)
    expect((await refusal(openSealed('blob', docId, byStranger, ctx('revoked'), nobleSignatures))).message).toMatch(/revoked before epoch 2/)
    expect(asked).toEqual([])

    // the chain says who could write when: revoked at generation 3, the device's blobs of epoch 2 still open, of epoch 3 not
    const revokedAt3: OpenContext['standing'] = (key, epoch) => (hex(key) === hex(other.key.publicKey) && epoch >= 3 ? 'revoked' : 'listed')
    const before = await sealAs('blob', docId, PLAIN, { by: other, epoch: 2 })
    const after = await sealAs('blob', docId, PLAIN, { by: other, epoch: 3 })
    expect(hex((await openSealed('blob', docId, before, context(docId, { standing: revokedAt3 }), nobleSignatures)).plaintext)).toBe(hex(PLAIN))
    expect(await refusal(openSealed('blob', docId, after, context(docId, { standing: revokedAt3 }), nobleSignatures))).toBeInstanceOf(BadSignatureError)

    // a listed device cannot write in another listed device's name
    const impersonated = await sealAs('blob', docId, PLAIN, { by: other, as: author.key.publicKey })
    expect((await refusal(openSealed('blob', docId, impersonated, context(docId), nobleSignatures))).message).toMatch(/does not verify/)
  })

  it('the standing asked is the header author at the header epoch', async () => {
    const docId = 'account:a1'
    const asked: string[] = []
    const sealed = await sealAs('ephemeral', docId, PLAIN, { by: other, epoch: 7 })
    const standing = (key: Uint8Array, epoch: number): AuthorStanding => {
      asked.push(`${hex(key)}@${epoch}`)
      return 'listed'
    }
    await openSealed('ephemeral', docId, sealed, context(docId, { standing }), nobleSignatures)
    expect(asked).toEqual([`${hex(other.key.publicKey)}@7`])
  })

  it('ephemeral messages and blobs cannot stand in for each other (ERR_BAD_SIGNATURE; ERR_DECRYPT by the AEAD alone)', async () => {
    const docId = 'chat:c1'
    const blob = await sealAs('blob', docId, PLAIN)
    const ephemeral = await sealAs('ephemeral', docId, PLAIN)
    expect(hex(blob.subarray(0, -64 - 16 - PLAIN.length))).toBe(hex(ephemeral.subarray(0, -64 - 16 - PLAIN.length))) // same header
    for (const [bytes, as] of [
      [blob, 'ephemeral'],
      [ephemeral, 'blob']
    ] as const) {
      expect((await refusal(openSealed(as, docId, bytes, context(docId), nobleSignatures))).code).toBe('ERR_BAD_SIGNATURE')
      expect((await refusal(openSealed(as, docId, bytes, context(docId), forgiving))).code).toBe('ERR_DECRYPT')
    }
  })

  it('checks in order: header (ERR_MALFORMED_FRAME), author and signature (ERR_BAD_SIGNATURE), key (ERR_UNKNOWN_EPOCH), AEAD (ERR_DECRYPT)', async () => {
    const docId = 'account:a1'
    const sealed = await sealAs('blob', docId, PLAIN, { by: dev(9), epoch: 5 })
    // a stranger's blob of an epoch without a key: the author is refused first
    expect((await refusal(openSealed('blob', docId, sealed, context(docId, { epochs: [1] }), nobleSignatures))).code).toBe('ERR_BAD_SIGNATURE')
    // a listed author's blob of an epoch without a key, altered: refused at once by its signature, never kept waiting
    const mine = (await sealAs('blob', docId, PLAIN, { epoch: 5 })).slice()
    mine[HEADER_BYTES + 5]! ^= 1
    expect((await refusal(openSealed('blob', docId, mine, context(docId, { epochs: [1] }), nobleSignatures))).code).toBe('ERR_BAD_SIGNATURE')
    // with a signature that verifies, a missing key comes before the AEAD: kept for later
    expect((await refusal(openSealed('blob', docId, mine, context(docId, { epochs: [1] }), forgiving))).code).toBe('ERR_UNKNOWN_EPOCH')
    expect((await refusal(openSealed('blob', docId, mine, context(docId), forgiving))).code).toBe('ERR_DECRYPT')
    // nothing readable: nothing else is asked
    expect((await refusal(openSealed('blob', docId, new Uint8Array([SEALED_ENCODING, 1]), context(docId), nobleSignatures))).code).toBe('ERR_MALFORMED_FRAME')
  })

  it('every truncation is rejected: ERR_MALFORMED_FRAME below the smallest sealed blob, ERR_BAD_SIGNATURE above it', async () => {
    const docId = 'account:a1'
    const sealed = await sealAs('blob', docId, PLAIN, {}, native)
    const smallest = 1 + 1 + 32 + 24 + 16 + 64
    for (let n = 0; n < sealed.length; n++) {
      const err = await refusal(openSealed('blob', docId, sealed.subarray(0, n), context(docId), native))
      expect(err.code, `${n} bytes`).toBe(n < smallest ? 'ERR_MALFORMED_FRAME' : 'ERR_BAD_SIGNATURE')
    }
  })

  it('any bytes at all: open rejects with a TandemError, never anything else; the header reader returns a header or ERR_MALFORMED_FRAME (property)', async () => {
    const docId = 'account:a1'
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map(b => Uint8Array.of(SEALED_ENCODING, ...b)),
      fc.tuple(fc.integer({ min: 0, max: 0xff }), fc.uint8Array({ minLength: 130, maxLength: 200 })).map(([e, b]) => Uint8Array.of(SEALED_ENCODING, e, ...b))
    )
    await fc.assert(
      fc.asyncProperty(arb, async bytes => {
        try {
          const h = readSealedHeader(bytes)
          expect(h.author).toHaveLength(32)
          expect(h.signature).toHaveLength(64)
          expect(Number.isSafeInteger(h.epoch)).toBe(true)
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedFrameError)
        }
        await refusal(openSealed('blob', docId, bytes, context(docId, { standing: () => 'listed' }), nobleSignatures))
      }),
      { numRuns: 300 }
    )
    expect(isSealed(new Uint8Array(0))).toBe(false)
    // an epoch past 2^53 − 1 is not read
    const huge = Uint8Array.of(SEALED_ENCODING, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, ...new Uint8Array(200))
    expect(() => readSealedHeader(huge)).toThrow(MalformedFrameError)
  })

  it('sealing refuses an author key that is not 32 bytes or a nonce that is not 24', async () => {
    await expect(sealAs('blob', 'd', PLAIN, { as: new Uint8Array(31) })).rejects.toThrow(RangeError)
    await expect(sealAs('blob', 'd', PLAIN, { nonce: new Uint8Array(12) })).rejects.toThrow(RangeError)
  })
})
