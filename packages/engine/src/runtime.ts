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

export const systemRuntime: Runtime = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) },
  randomBytes: (length) => new Uint8Array(nodeRandomBytes(length)),
  defer: (fn) => { setImmediate(fn) }
}
