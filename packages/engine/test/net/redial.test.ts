import { describe, expect, it } from 'vitest'
import { URGENT_RELAY_MAX_MS, URGENT_RELAY_QUICK_MS, URGENT_RELAY_QUICK_WINDOW_MS, redialDelay } from '../../src/net/redial.js'

/** The delay for a jitter byte (0: half the base, 255: one and a half times). */
const at = (attempt: number, urgent: boolean, sinceLostMs: number | null, randomByte = 0): number => redialDelay({ attempt, urgent, sinceLostMs, randomByte })

describe('redialDelay', () => {
  it('doubles from 250 ms to 30 s, jittered between half and one and a half times', () => {
    expect([0, 1, 2, 3, 7, 20, 40].map(n => at(n, false, null))).toEqual([125, 250, 500, 1_000, 15_000, 15_000, 15_000])
    expect([0, 1, 2, 3, 7, 20].map(n => at(n, false, null, 255))).toEqual([375, 750, 1_500, 3_000, 45_000, 45_000])
  })

  it('keeps a relay with uploads waiting within a second', () => {
    expect(at(10, true, null, 255)).toBe(URGENT_RELAY_MAX_MS * 1.5)
    expect(at(10, true, URGENT_RELAY_QUICK_WINDOW_MS, 255)).toBe(URGENT_RELAY_MAX_MS * 1.5)
  })

  it('redials a relay lost a moment ago with uploads waiting every quarter second', () => {
    expect(at(10, true, 0, 255)).toBe(URGENT_RELAY_QUICK_MS * 1.5)
    expect(at(10, true, URGENT_RELAY_QUICK_WINDOW_MS - 1, 0)).toBe(URGENT_RELAY_QUICK_MS / 2)
    // not urgent: the backoff as ever, however recent the loss
    expect(at(5, false, 0, 0)).toBe(4_000)
  })

  it('takes the options: a first wait and a longest one', () => {
    expect(redialDelay({ attempt: 3, urgent: false, sinceLostMs: null, randomByte: 0 }, { initialMs: 2_000, maxMs: 5_000 })).toBe(2_500)
  })
})
