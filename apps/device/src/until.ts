import type { Engine } from '@tandem/engine'

/**
 * Resolves true once `predicate` holds (checked now and after each engine event), false
 * after `timeoutMs`: the one bounded wait the one-shot commands use (a relay to connect, its
 * report to arrive) where "not yet" is an answer, not a failure.
 */
export function until(engine: Engine, predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  if (predicate()) return Promise.resolve(true)
  return new Promise(resolve => {
    const timer = setTimeout(() => {
      off()
      resolve(false)
    }, timeoutMs)
    const off = engine.subscribe(() => {
      if (!predicate()) return
      clearTimeout(timer)
      off()
      resolve(true)
    })
  })
}

/** Waits (bounded) until a relay the device was given is connected; false without one or after `timeoutMs`. */
export const relayConnected = (engine: Engine, timeoutMs: number): Promise<boolean> =>
  engine.relayStatus().length === 0 ? Promise.resolve(false) : until(engine, () => engine.relayStatus().some(r => r.connected), timeoutMs)
