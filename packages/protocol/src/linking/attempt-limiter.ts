/**
 * Rate limit on passphrase attempts, kept by the device that checks them (the existing
 * device of a link). Pure: time comes from an injected clock, and the state is plain data
 * the device saves (`state`) and restores (`options.state`), so a restart forgets nothing.
 *
 * The limits (README, "Two-step verification"): PASSPHRASE_FREE_ATTEMPTS wrong passphrases
 * cost nothing; from then on every further one waits PASSPHRASE_BACKOFF_BASE_MS doubled per
 * failure past the free ones, up to PASSPHRASE_BACKOFF_MAX_MS:
 *
 *   failures so far  0–4   5     6     7      8      9      10     11     12+
 *   next attempt in  now   30 s  1 min 2 min  4 min  8 min  16 min 32 min 1 h
 *
 * so an online guesser gets ~5 + 24 a day. A right passphrase clears the count, and so does
 * a day without a failure (PASSPHRASE_FAILURES_FORGOTTEN_MS): a person who mistyped last
 * month starts afresh.
 */
import { LinkRateLimitedError } from '../errors.js'

export const PASSPHRASE_FREE_ATTEMPTS = 5
export const PASSPHRASE_BACKOFF_BASE_MS = 30_000
export const PASSPHRASE_BACKOFF_MAX_MS = 60 * 60_000
export const PASSPHRASE_FAILURES_FORGOTTEN_MS = 24 * 60 * 60_000

export interface AttemptLimits {
  freeAttempts: number
  baseDelayMs: number
  maxDelayMs: number
  forgetAfterMs: number
}

export const PASSPHRASE_ATTEMPT_LIMITS: Readonly<AttemptLimits> = Object.freeze({
  freeAttempts: PASSPHRASE_FREE_ATTEMPTS,
  baseDelayMs: PASSPHRASE_BACKOFF_BASE_MS,
  maxDelayMs: PASSPHRASE_BACKOFF_MAX_MS,
  forgetAfterMs: PASSPHRASE_FAILURES_FORGOTTEN_MS
})

/** What to save: consecutive failures, and when the last one was (ms since the epoch). */
export interface AttemptLimiterState {
  failures: number
  lastFailureAt: number
}

export class AttemptLimiter {
  readonly limits: Readonly<AttemptLimits>
  readonly #now: () => number
  #failures: number
  #lastFailureAt: number

  constructor(now: () => number, options: { limits?: Partial<AttemptLimits>; state?: AttemptLimiterState } = {}) {
    this.#now = now
    this.limits = Object.freeze({ ...PASSPHRASE_ATTEMPT_LIMITS, ...options.limits })
    for (const [name, n] of Object.entries(this.limits)) if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, not ${n}`)
    const s = options.state
    const valid = s !== undefined && Number.isSafeInteger(s.failures) && s.failures >= 0 && Number.isSafeInteger(s.lastFailureAt)
    this.#failures = valid ? s.failures : 0
    this.#lastFailureAt = valid ? s.lastFailureAt : 0
  }

  get state(): AttemptLimiterState {
    this.#forget()
    return { failures: this.#failures, lastFailureAt: this.#lastFailureAt }
  }

  /** The wait that `failures` consecutive failures impose before the next attempt. */
  delayAfter(failures: number): number {
    const { freeAttempts, baseDelayMs, maxDelayMs } = this.limits
    if (failures < freeAttempts) return 0
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - freeAttempts, 52))
  }

  /** Milliseconds until an attempt is accepted; 0 when one is now. */
  retryAfterMs(): number {
    this.#forget()
    const delay = this.delayAfter(this.#failures)
    if (delay === 0) return 0
    // A clock set back never makes the wait longer than the delay itself.
    const elapsed = Math.max(0, this.#now() - this.#lastFailureAt)
    return Math.max(0, delay - elapsed)
  }

  /** Throws LinkRateLimitedError, carrying the wait, unless an attempt may be made now. */
  check(): void {
    const wait = this.retryAfterMs()
    if (wait > 0) throw new LinkRateLimitedError(`too many wrong passphrases: try again in ${Math.ceil(wait / 1000)} s`, wait)
  }

  /** Records a wrong passphrase; returns the wait before the next attempt. */
  failed(): number {
    this.#forget()
    this.#failures++
    this.#lastFailureAt = this.#now()
    return this.delayAfter(this.#failures)
  }

  /** The right passphrase: the count starts again. */
  succeeded(): void {
    this.#failures = 0
    this.#lastFailureAt = 0
  }

  #forget(): void {
    if (this.#failures > 0 && this.#now() - this.#lastFailureAt >= this.limits.forgetAfterMs) this.succeeded()
  }
}
