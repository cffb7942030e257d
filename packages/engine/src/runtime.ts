import { randomBytes as nodeRandomBytes } from 'node:crypto'

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
  /** Runs `fn` once the current burst of work is done (setImmediate): batches a burst's updates. */
  defer(fn: () => void): void
}

/** Random bytes are drawn 4 KiB at a time: one getrandom call per message id cost more than the rest of a send. */
const pool = { bytes: new Uint8Array(0), used: 0 }
function pooledRandomBytes (length: number): Uint8Array {
  if (length > 1024) return new Uint8Array(nodeRandomBytes(length))
  if (pool.used + length > pool.bytes.byteLength) { pool.bytes = new Uint8Array(nodeRandomBytes(4096)); pool.used = 0 }
  const out = pool.bytes.slice(pool.used, pool.used + length)
  pool.used += length
  return out
}

export const systemRuntime: Runtime = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) },
  randomBytes: pooledRandomBytes,
  defer: (fn) => { setImmediate(fn) }
}
