/**
 * When to dial a lost peer again: doubling backoff, jittered from the injected randomness.
 * Pure, so that the schedule is tested without a network.
 */

/**
 * A relay this device has uploads waiting for is redialed at least this often (with jitter,
 * 0.5–1.5×). Doubling to 30 s kept a device that had been sending off its relay for 14 s after
 * the relay came back; one dial a second to one address is cheap while there is work waiting.
 */
export const URGENT_RELAY_MAX_MS = 1_000

/**
 * For this long after its connection was lost, a relay with uploads waiting is redialed every
 * {@link URGENT_RELAY_QUICK_MS} (jittered 0.5–1.5×), not up to every second: most losses are
 * blips (a proxy's reset, a Wi-Fi handover), and the second-long wait after one was most of
 * the time two devices took to merge 10,000 + 10,000 messages from the network's return
 * (~0.7 of 1.1–1.3 s, bench `merge`, 2026-12-07). A refused dial costs a device nothing and a
 * relay's kernel one reset; a relay that stays down gets one dial a second after the window.
 */
export const URGENT_RELAY_QUICK_WINDOW_MS = 10_000
export const URGENT_RELAY_QUICK_MS = 250

export interface RedialOptions {
  /** The first wait and the longest (defaults 250 and 30,000 ms). */
  initialMs?: number
  maxMs?: number
}

export interface RedialState {
  /** Failed or lost dials since the peer last accepted us. */
  attempt: number
  /** A relay with uploads waiting. */
  urgent: boolean
  /** How long ago the connection was lost (null: it never was, or it is back). */
  sinceLostMs: number | null
  /** One random byte: the jitter, 0.5× at 0 to 1.5× at 255. */
  randomByte: number
}

/** The longest wait between redials of a relay with uploads waiting, `sinceLostMs` after its loss. */
export function urgentMaxMs(sinceLostMs: number | null): number {
  return sinceLostMs !== null && sinceLostMs < URGENT_RELAY_QUICK_WINDOW_MS ? URGENT_RELAY_QUICK_MS : URGENT_RELAY_MAX_MS
}

/** The jitter's top: a wait is 0.5–1.5× its base. */
export const MAX_JITTER = 1.5

/** The wait before the next dial. */
export function redialDelay(state: RedialState, options: RedialOptions = {}): number {
  const max = Math.min(options.maxMs ?? 30_000, state.urgent ? urgentMaxMs(state.sinceLostMs) : Infinity)
  const base = Math.min(max, (options.initialMs ?? 250) * 2 ** Math.min(state.attempt, 20))
  return Math.round(base * (MAX_JITTER - 1 + state.randomByte / 255))
}
