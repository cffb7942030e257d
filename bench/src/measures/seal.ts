// (8) What end-to-end sealing costs (issue 14), in-process, with the engine's own BlobCodec and
// the protocol's seal / open: a relay blob of one message (the live path: one upload per send),
// of 10,000 messages (a history entry) and a snapshot of a whole chat, each with WebCrypto's
// Ed25519 and with noble's (both with noble's XChaCha20-Poly1305, as before the Node assembly had
// its own), and with the Node assembly's backends (what a Node device uses since: node:crypto's
// Ed25519, OpenSSL's ChaCha20-Poly1305 keyed with noble's HChaCha20).
import { randomBytes } from 'node:crypto'
import { nodeAead, nodeSignatures } from '@tandem/engine'
import { BlobCodec, encodeMessageRecord, KeyRing, nodeCompression } from '@tandem/engine/internal'
import {
  type AeadBackend,
  agreementKeyFromSecret,
  BlobEncoding,
  createGenesis,
  decodeBlobEnvelope,
  encodeBlobEnvelope,
  nativeSignatures,
  nobleAead,
  nobleSignatures,
  openSealed,
  type SignatureBackend,
  seal,
  signingKeyFromSeed
} from '@tandem/protocol'
import * as Y from 'yjs'
import { median } from '../stats.js'
import { authorId, messageText, randomId } from '../text.js'

export interface SealTiming {
  /** 'webcrypto' (nativeSignatures()) or 'noble', both with noble's AEAD; 'node': the Node assembly's Ed25519 and AEAD (what the engine uses in Node). */
  signatures: 'webcrypto' | 'noble' | 'node'
  /** µs per blob, medians of the rounds; per message = these / messages. */
  us: {
    /** BlobCodec.encode: compress, envelope, seal (what a device does before an upload). */
    encode: number
    /** BlobCodec.decode: open, then inflate (what a device does with a blob from the relay). */
    decode: number
    /** What 4e8b2c9's codec did: compress + envelope / envelope + inflate (the same calls, no sealing). */
    plainEncode: number
    plainDecode: number
    /** The protocol's seal / open of the envelope alone (XChaCha20-Poly1305 + Ed25519 sign / verify + the copies). */
    seal: number
    open: number
    /** The signature backend alone on a message the size of what seal signs. */
    sign: number
    verify: number
  }
}

export interface SealCase {
  label: string
  messages: number
  /** The Yjs update, its envelope (compressed, what 4e8b2c9 uploaded) and the sealed blob, bytes. */
  updateBytes: number
  envelopeBytes: number
  sealedBytes: number
  iterations: number
  rounds: number
  /** WebCrypto's and noble's Ed25519, with noble's AEAD (the table's rows). */
  timings: SealTiming[]
  /** The Node assembly's backends (node:crypto Ed25519, OpenSSL's ChaCha20-Poly1305): in the JSON. */
  assembly: SealTiming
}

export interface SealResult {
  /** Whether nativeSignatures() gave WebCrypto here (the engine's choice in this runtime). */
  native: boolean
  cases: SealCase[]
}

const DOC_ID = 'c-bench-seal'

/** A chat doc as the engine stores it (Y.Map 'messages', id → binary record) with `n` messages, in transactions of 1,000. */
function chatDoc(n: number): Y.Doc {
  const doc = new Y.Doc()
  const messages = doc.getMap<Uint8Array>('messages')
  const author = `a${authorId(1).slice(1)}`
  const device = `12D3KooW${'x'.repeat(44)}`
  for (let i = 0; i < n; i += 1000) {
    doc.transact(() => {
      for (let j = i; j < Math.min(n, i + 1000); j++)
        messages.set(randomId(), encodeMessageRecord({ id: '', author, device, text: messageText(2, j), wall: 1_790_000_000_000 + j, counter: 0 }))
    })
  }
  return doc
}

const stateOf = (doc: Y.Doc): Map<number, number> => Y.decodeStateVector(Y.encodeStateVector(doc))

/** A device's signing key, a one-device account whose genesis carries key generation 1, and its key ring. */
function account(): { signing: ReturnType<typeof signingKeyFromSeed>; ring: KeyRing } {
  const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))
  const signing = signingKeyFromSeed(new Uint8Array(randomBytes(32)))
  const agreement = agreementKeyFromSecret(new Uint8Array(randomBytes(32)))
  const recovery = signingKeyFromSeed(new Uint8Array(randomBytes(32)))
  const ring = new KeyRing([agreement], random)
  const genesis = createGenesis({
    device: { signingKey: signing.publicKey, agreementKey: agreement.publicKey, name: 'bench', platform: 'node', linkedAt: 1 },
    signer: signing,
    recoveryKey: recovery.publicKey,
    issuedAt: 1,
    extensions: ring.genesisExtensions(agreement.publicKey, null)
  })
  ring.update([genesis], () => true)
  if (ring.writeEpoch() !== 1) throw new Error('the bench key ring holds no generation to write in')
  return { signing, ring }
}

/**
 * µs per call of each function: after a warm-up, `rounds` rounds, each timing `iterations` calls
 * of every function in turn (one after another, awaited), so that a change in the machine's
 * load falls on all of them alike; the median of the rounds.
 */
async function perCallUs<K extends string>(iterations: number, rounds: number, fns: Record<K, () => unknown>): Promise<Record<K, number>> {
  const keys = Object.keys(fns) as K[]
  const xs = Object.fromEntries(keys.map(k => [k, [] as number[]])) as Record<K, number[]>
  for (const k of keys) for (let i = 0; i < Math.min(3, iterations); i++) await fns[k]()
  for (let r = 0; r < rounds; r++) {
    for (const k of keys) {
      const t0 = performance.now()
      for (let i = 0; i < iterations; i++) await fns[k]()
      xs[k].push(((performance.now() - t0) * 1000) / iterations)
    }
  }
  return Object.fromEntries(keys.map(k => [k, median(xs[k])])) as Record<K, number>
}

export async function benchSeal(plan: { snapshot: number; rounds: number; liveCalls: number }): Promise<SealResult> {
  const { signing, ring } = account()
  const native = await nativeSignatures()
  const backends: Array<[SealTiming['signatures'], SignatureBackend, AeadBackend]> = [
    ['webcrypto', native, nobleAead],
    ['noble', nobleSignatures, nobleAead],
    ['node', nodeSignatures, nodeAead]
  ]
  const live = chatDoc(1_000)
  const before = Y.encodeStateVector(live)
  live
    .getMap<Uint8Array>('messages')
    .set(
      randomId(),
      encodeMessageRecord({ id: '', author: `a${authorId(1).slice(1)}`, device: `12D3KooW${'x'.repeat(44)}`, text: messageText(2, 1_000), wall: 1_790_000_000_000, counter: 0 })
    )
  const history = chatDoc(10_000)
  const snapshot = chatDoc(plan.snapshot)
  const inputs = [
    { label: 'one message (the live path: an upload per send)', messages: 1, update: Y.encodeStateAsUpdate(live, before), reach: stateOf(live), iterations: plan.liveCalls },
    { label: 'a history entry of 10,000 messages', messages: 10_000, update: Y.encodeStateAsUpdate(history), reach: stateOf(history), iterations: 5 },
    {
      label: `a snapshot of ${plan.snapshot.toLocaleString('en-US')} messages`,
      messages: plan.snapshot,
      update: Y.encodeStateAsUpdate(snapshot),
      reach: stateOf(snapshot),
      iterations: 1
    }
  ]
  live.destroy()
  history.destroy()
  snapshot.destroy()

  const cases: SealCase[] = []
  for (const input of inputs) {
    const timings: SealTiming[] = []
    let sizes = { envelopeBytes: 0, sealedBytes: 0 }
    for (const [name, backend, aead] of backends) {
      const codec = new BlobCodec(nodeCompression, { signing, ring: () => ring, signatures: async () => backend, aead, randomBytes: n => new Uint8Array(randomBytes(n)) })
      const sealed = await codec.encode(DOC_ID, input.update, input.reach)
      const key = ring.docKey(1, DOC_ID)!
      const context = { keyFor: (epoch: number) => ring.docKey(epoch, DOC_ID), standing: (author: Uint8Array, epoch: number) => ring.standing(author, epoch) }
      const envelope = (await openSealed('blob', DOC_ID, sealed, context, backend, aead)).plaintext
      const { encoding, reach } = decodeBlobEnvelope(envelope)
      if (encoding !== BlobEncoding.Brotli) throw new Error(`a ${input.messages}-message update was not compressed (encoding ${encoding})`)
      sizes = { envelopeBytes: envelope.byteLength, sealedBytes: sealed.byteLength }
      // what seal signs: a domain and the doc id before the sealed body (sealed-blob.ts signedBytes)
      const signed = new Uint8Array(sealed.byteLength - 64 + 40).fill(1)
      const signature = await backend.sign(signed, signing.secretKey)
      const { iterations, messages } = input
      const rounds = plan.rounds
      const us = await perCallUs(iterations, rounds, {
        encode: () => codec.encode(DOC_ID, input.update, input.reach),
        plainEncode: async () => encodeBlobEnvelope({ encoding, reach, payload: await nodeCompression.compress(input.update) }),
        decode: () => codec.decode(DOC_ID, sealed),
        plainDecode: () => {
          const e = decodeBlobEnvelope(envelope)
          return nodeCompression.decompress(e.encoding, e.payload, 512 * 2 ** 20)
        },
        seal: () =>
          seal(
            'blob',
            { docId: DOC_ID, epoch: 1, author: signing.publicKey, authorSeed: signing.secretKey, key, nonce: new Uint8Array(randomBytes(24)), plaintext: envelope },
            backend,
            aead
          ),
        open: () => openSealed('blob', DOC_ID, sealed, context, backend, aead),
        sign: () => backend.sign(signed, signing.secretKey),
        verify: () => backend.verify(signature, signed, signing.publicKey)
      })
      if (messages === 1 && !(await backend.verify(signature, signed, signing.publicKey))) throw new Error(`${name}: a signature does not verify`)
      timings.push({ signatures: name, us })
    }
    const assembly = timings.find(t => t.signatures === 'node')!
    cases.push({
      label: input.label,
      messages: input.messages,
      updateBytes: input.update.byteLength,
      ...sizes,
      iterations: input.iterations,
      rounds: plan.rounds,
      timings: timings.filter(t => t !== assembly),
      assembly
    })
  }
  return { native: native.native, cases }
}
