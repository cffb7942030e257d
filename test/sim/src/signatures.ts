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
    const id = Buffer.from(bytes).toString('hex')
    let key = keys.get(id)
    if (key === undefined) {
      if (keys.size >= kept) keys.delete(keys.keys().next().value!)
      key = make(bytes)
      keys.set(id, key)
    }
    return key
  }
}

const secretKey = cached(64, seed => createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' }))
const publicKey = cached(1024, key => createPublicKey({ key: Buffer.concat([SPKI_ED25519, key]), format: 'der', type: 'spki' }))

function canonicalS(signature: Uint8Array): boolean {
  let s = 0n
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!)
  return s < ED25519_ORDER
}

/**
 * The simulator's Ed25519: Node's own (OpenSSL), called synchronously behind a promise, so it
 * settles in a microtask like `nobleSignatures` and never on a thread pool (WebCrypto would,
 * outside virtual time). The same signatures (Ed25519 is deterministic), the same promise shape
 * and `native: false` (no batch preverification), so a seed runs exactly as with noble (the same
 * trace, stats and final state: compared on 7 seeds). Every relay blob is signed and every one
 * opened verified (issue 14): noble's Ed25519 took 43% of a run; a verify here takes ~0.13 ms
 * against noble's ~1.3 ms, and a seed ~0.5 s against ~0.9 s (X25519, memberships and chain
 * links still use noble inside the protocol package).
 */
export const simSignatures: SignatureBackend = {
  native: false,
  verify: async (signature, message, key) => {
    if (!(signature instanceof Uint8Array) || signature.length !== 64 || !canonicalS(signature)) return false
    if (!(key instanceof Uint8Array) || key.length !== 32) return false
    try {
      return verify(null, message, publicKey(key), signature)
    } catch {
      return false
    }
  },
  sign: async (message, seed) => new Uint8Array(sign(null, message, secretKey(seed)))
}
