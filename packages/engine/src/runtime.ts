import { nativeSignatures, type SignatureBackend } from '@tandem/protocol'
/** Opaque handle returned by {@link Timers.setTimeout}. */
export type TimerHandle = unknown

/**
 * Everything time- or chance-dependent the engine does goes through this, so a
 * seeded simulator can drive the real code with a virtual clock.
 */
export interface Runtime {
  /** Wall-clock milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
  randomBytes(length: number): Uint8Array
  /** Runs `fn` once the current burst of work is done (a macrotask): batches a burst's updates. */
  defer(fn: () => void): void
  /**
   * Ed25519 for hot paths (whole chains, blobs). Default: WebCrypto's where the platform has
   * it (its promises settle on a thread pool, whenever they do); a simulator passes noble's.
   */
  signatures?: SignatureBackend
}

/** The runtime's signature backend, or the platform's native one. */
export function signaturesOf(runtime: Pick<Runtime, 'signatures'>): Promise<SignatureBackend> {
  return runtime.signatures !== undefined ? Promise.resolve(runtime.signatures) : nativeSignatures()
}

/** `crypto.getRandomValues` fills at most this much per call (WebCrypto's limit). */
const MAX_RANDOM_FILL = 65_536

/** Random bytes are drawn 4 KiB at a time: one getrandom call per message id cost more than the rest of a send. */
function pooledRandomBytes(): (length: number) => Uint8Array {
  const pool = { bytes: new Uint8Array(0) as Uint8Array<ArrayBuffer>, used: 0 }
  const fill = (out: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => {
    for (let at = 0; at < out.byteLength; at += MAX_RANDOM_FILL) globalThis.crypto.getRandomValues(out.subarray(at, at + MAX_RANDOM_FILL))
    return out
  }
  return length => {
    if (length > 1024) return fill(new Uint8Array(length))
    if (pool.used + length > pool.bytes.byteLength) {
      pool.bytes = fill(new Uint8Array(4096))
      pool.used = 0
    }
    const out = pool.bytes.slice(pool.used, pool.used + length)
    pool.used += length
    return out
  }
}

/**
 * The real clock, timers and randomness (WebCrypto's `getRandomValues`, in Node and
 * browsers alike); `defer` is the platform's cheapest macrotask.
 */
export function createSystemRuntime(defer: (fn: () => void) => void): Runtime {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, ms) as unknown as { unref?: () => void }
      t.unref?.() // Node: a pending timer must not keep a finished process alive
      return t
    },
    clearTimeout: handle => {
      clearTimeout(handle as ReturnType<typeof setTimeout>)
    },
    randomBytes: pooledRandomBytes(),
    defer
  }
}
