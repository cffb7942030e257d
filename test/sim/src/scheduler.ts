import type { Runtime } from '@tandem/engine'
import { simSignatures } from './signatures.js'
import type { Rng } from './rng.js'

/**
 * Events in a row at one virtual instant before the run is called a livelock: something retries
 * at once, for ever, and the clock never moves (a relay that kept serving a removed member made
 * its devices offer and be refused in a loop). Legitimate bursts stay in the hundreds.
 */
export const LIVELOCK_STEPS = 50_000

/** The clock stopped: LIVELOCK_STEPS events fired at one virtual instant. */
export class LivelockError extends Error {}

interface Timer {
  id: number
  time: number
  fn: () => void
  owner: string
}

/**
 * The virtual clock: every timer of every engine, relay, link and fault goes
 * through here. Between timers, all pending microtasks run to completion (one
 * macrotask turn), so a run is a pure function of its seed.
 */
export class Scheduler {
  now = 0
  private readonly timers: Timer[] = []
  private nextId = 1
  /** Errors thrown by timer callbacks (a bug somewhere: the run fails). */
  readonly errors: unknown[] = []
  /** Events (timers) fired so far: step N is the world after the Nth, once its work settled. */
  steps = 0
  /**
   * Runs after every step, once the microtasks the step started have settled and before the
   * next timer fires: the simulator's invariants. It may read (asynchronously too) but must
   * not schedule, draw randomness or change the world, or a seed would replay differently.
   */
  afterStep: ((step: number) => void | Promise<void>) | null = null
  private checked = 0
  /** Events fired in a row at the current instant. */
  private sameInstant = 0

  schedule(delayMs: number, fn: () => void, owner = 'world'): number {
    const t: Timer = { id: this.nextId++, time: this.now + Math.max(0, delayMs), fn, owner }
    // keep sorted by (time, id): binary insertion
    let lo = 0
    let hi = this.timers.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const m = this.timers[mid]!
      if (m.time < t.time || (m.time === t.time && m.id < t.id)) lo = mid + 1
      else hi = mid
    }
    this.timers.splice(lo, 0, t)
    return t.id
  }

  cancel(id: number): void {
    const i = this.timers.findIndex(t => t.id === id)
    if (i >= 0) this.timers.splice(i, 1)
  }

  /** A crashed process's timers die with it. */
  cancelOwner(owner: string): void {
    for (let i = this.timers.length - 1; i >= 0; i--) if (this.timers[i]!.owner === owner) this.timers.splice(i, 1)
  }

  /** The Runtime an engine on this clock gets: skewed wall time, virtual timers, seeded randomness. */
  runtime(owner: string, skewMs: number, rng: Rng): Runtime {
    return {
      now: () => 1_800_000_000_000 + Math.floor(this.now) + skewMs,
      setTimeout: (fn, ms) => this.schedule(ms, fn, owner),
      clearTimeout: handle => {
        this.cancel(handle as number)
      },
      randomBytes: n => rng.bytes(n),
      defer: fn => {
        this.schedule(0, fn, owner)
      },
      // WebCrypto's promises settle on a thread pool, outside virtual time: noble settles in microtasks
      signatures: simSignatures
    }
  }

  /** Runs every microtask that is pending now (and those they queue). */
  async settle(): Promise<void> {
    await new Promise<void>(resolve => {
      setImmediate(resolve)
    })
  }

  /** Settles, then fires the next timer; false when none is due by `until`. */
  async step(until: number): Promise<boolean> {
    await this.settle()
    await this.checkpoint()
    const t = this.timers[0]
    if (t === undefined || t.time > until) return false
    this.timers.shift()
    this.sameInstant = t.time === this.now ? this.sameInstant + 1 : 0
    if (this.sameInstant > LIVELOCK_STEPS) {
      this.sameInstant = 0
      throw new LivelockError(`livelock: ${LIVELOCK_STEPS} events at t=${(this.now / 1000).toFixed(3)}s without the clock moving (the next by ${t.owner})`)
    }
    this.now = t.time
    this.steps++
    try {
      t.fn()
    } catch (err) {
      this.errors.push(err)
    }
    return true
  }

  /** Advances virtual time to `time`, firing every timer on the way (bounded). */
  async runUntil(time: number, maxSteps = 1_000_000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) if (!(await this.step(time))) break
    await this.settle()
    await this.checkpoint()
    this.now = Math.max(this.now, time)
  }

  /** The invariants, once per step (a step already checked is not checked again). */
  private async checkpoint(): Promise<void> {
    if (this.afterStep === null || this.checked === this.steps) return
    this.checked = this.steps
    await this.afterStep(this.steps)
  }

  /** Runs the clock until `promise` settles (or `maxMs` of virtual time pass). */
  async await<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let done = false
    let value: T | undefined
    let error: unknown
    let failed = false
    promise.then(
      v => {
        done = true
        value = v
      },
      e => {
        done = true
        failed = true
        error = e
      }
    )
    const deadline = this.now + maxMs
    while (!done) {
      if (!(await this.step(deadline))) {
        await this.settle()
        if (done) break
        if (this.now >= deadline || this.timers.length === 0 || this.timers[0]!.time > deadline) throw new Error(`virtual time ran out waiting (${maxMs} ms)`)
      }
    }
    if (failed) throw error
    return value as T
  }
}
