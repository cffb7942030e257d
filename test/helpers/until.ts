import type { Engine } from '@tandem/engine'

/** Resolves once `predicate` holds, checked now and after every event of `engine`; rejects after `timeoutMs`. */
export function untilEngine(engine: Pick<Engine, 'subscribe'>, predicate: () => boolean, what = 'the condition', timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) {
      resolve()
      return
    }
    const timer = setTimeout(() => {
      off()
      reject(new Error(`${what}: not reached within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = engine.subscribe(() => {
      if (predicate()) {
        clearTimeout(timer)
        off()
        resolve()
      }
    })
  })
}
