/** Timers the relay runs on: injected, so the simulator can drive it on its virtual clock. */
export interface RelayTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Node's timers, unref'd: a pending one never keeps a stopping relay alive. */
export const systemTimers: RelayTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref()
    return t
  },
  clearTimeout: handle => {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  }
}
