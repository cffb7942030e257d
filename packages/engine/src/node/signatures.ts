import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import type { SignatureBackend } from '@tandem/protocol'

/** DER prefixes of an Ed25519 key (RFC 8410): PKCS#8 before the 32-byte seed, SPKI before the 32-byte public key. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
/** The group order L: a signature's S must be below it (strict RFC 8032, as nobleSignatures checks with zip215: false). */
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n

/** Key objects by their bytes (hex): making one costs about as much as a verify. Oldest dropped first. */
function cached(kept: number, make: (bytes: Uint8Array) => KeyObject): (bytes: Uint8Array) => KeyObject {
  const keys = new Map<string, KeyObject>()
  return bytes => {
    const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
    let key = keys.get(id)
    if (key === undefined) {
      if (keys.size >= kept) keys.delete(keys.keys().next().value!)
      key = make(bytes)
      keys.set(id, key)
    }
    return key
  }
}

function canonicalS(signature: Uint8Array): boolean {
  let s = 0n
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!)
  return s < ED25519_ORDER
}

export interface NodeSignatureOptions {
  /**
   * What the backend says it is ({@link SignatureBackend.native}): true lets a whole chain be
   * checked up front (preverifyLinks); a simulator says false, so its runs stay as they were.
   */
  native: boolean
  /**
   * Messages longer than this are signed and verified on the thread pool (Node's callback
   * form), not on the event loop; Infinity: always on the loop (a simulator's clock).
   */
  offThreadBytes: number
}

/**
 * Ed25519 with Node's own crypto (OpenSSL): called synchronously, ~40 µs a signature and
 * ~120 µs a verify here against WebCrypto's ~110 / ~200 µs (whose promises also wait for a
 * pool thread: on the live path, one message's blob is signed by its sender and verified by
 * every receiver). The same signatures as noble's (Ed25519 is deterministic), and as strict:
 * a non-canonical S is refused here, and the R OpenSSL recomputes is compared as bytes.
 * Long messages (a history entry, a snapshot) may go to the thread pool, so the loop can
 * apply the blobs before them meanwhile.
 */
export function nodeSignatureBackend(options: NodeSignatureOptions): SignatureBackend {
  const secretKey = cached(64, seed => createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' }))
  const publicKey = cached(1024, key => createPublicKey({ key: Buffer.concat([SPKI_ED25519, key]), format: 'der', type: 'spki' }))
  const offThread = (message: Uint8Array): boolean => message.byteLength > options.offThreadBytes
  return {
    native: options.native,
    verify: async (signature, message, key) => {
      if (!(signature instanceof Uint8Array) || signature.length !== 64 || !canonicalS(signature)) return false
      if (!(key instanceof Uint8Array) || key.length !== 32) return false
      try {
        if (!offThread(message)) return verify(null, message, publicKey(key), signature)
        const k = publicKey(key)
        return await new Promise<boolean>((resolve, reject) => {
          verify(null, message, k, signature, (err, ok) => {
            if (err) reject(err)
            else resolve(ok)
          })
        })
      } catch {
        return false
      }
    },
    sign: async (message, seed) => {
      const k = secretKey(seed)
      if (!offThread(message)) return new Uint8Array(sign(null, message, k))
      return await new Promise<Uint8Array>((resolve, reject) => {
        sign(null, message, k, (err, signature) => {
          if (err) reject(err)
          else resolve(new Uint8Array(signature))
        })
      })
    }
  }
}

/**
 * The Node assembly's Ed25519 (what a device signs and verifies blobs, chains and key messages
 * with): messages over 4 KiB — history entries, a burst's uploads — on the thread pool, where
 * a reader's verify runs beside the applying of the blobs before it; one message's blob (a few
 * hundred bytes: the live path) on the loop.
 */
export const nodeSignatures: SignatureBackend = nodeSignatureBackend({ native: true, offThreadBytes: 4 * 1024 })
