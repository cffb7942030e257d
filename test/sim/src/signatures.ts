import { nodeSignatureBackend } from '@tandem/engine'
import type { SignatureBackend } from '@tandem/protocol'

/**
 * The simulator's Ed25519: the Node assembly's own (OpenSSL, `node/signatures.ts`), always
 * called synchronously behind a promise, so it settles in a microtask like `nobleSignatures`
 * and never on a thread pool (WebCrypto, or Node's callback form for long messages, would,
 * outside virtual time). The same signatures (Ed25519 is deterministic), the same promise shape
 * and `native: false` (no batch preverification), so a seed runs exactly as with noble (the same
 * trace, stats and final state: compared on 7 seeds). Every relay blob is signed and every one
 * opened verified (issue 14): noble's Ed25519 took 43% of a run; a verify here takes ~0.13 ms
 * against noble's ~1.3 ms, and a seed ~0.5 s against ~0.9 s (X25519, memberships and chain
 * links still use noble inside the protocol package). Blobs are sealed with the Node assembly's
 * XChaCha20-Poly1305 (OpenSSL's, synchronous, noble's bytes).
 */
export const simSignatures: SignatureBackend = nodeSignatureBackend({ native: false, offThreadBytes: Number.POSITIVE_INFINITY })
