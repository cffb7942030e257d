import { UnknownEpochError } from '@tandem/protocol'

/**
 * Keys that came, as a relay reader counts them (the account's, a chat's, another account's
 * chain): each change makes one pass over the parked blobs in the reader's turns. Changes that
 * come while a pass waits for its turn join it, since it opens with the keys held when it starts.
 * (A device joining a group of 50 read 49 chains, each a change, and each pass threw again for
 * every blob still parked: 27% of its time, 2026-12-07.) A blob whose turn comes after that pass,
 * and whose open began before those keys, opens again in its turn (`cameSince`).
 */
export class KeyChanges {
  private seen = 0
  private queued: Promise<void> | null = null

  /** What a blob's open notes as it begins. */
  get mark(): number {
    return this.seen
  }

  /**
   * Whether a blob that waits for a key (its open began at `mark`) must open again in its turn:
   * keys came since, and the pass they made may have run before that turn, with the blob not
   * parked yet (seed 20261204 with --people, once passes were joined: a message stayed parked,
   * and unsent, for good).
   */
  cameSince(mark: number, result: unknown): boolean {
    return result instanceof UnknownEpochError && mark !== this.seen
  }

  /** Keys changed: `queue` takes a turn for `pass`, unless a turn taken for it is still to start. */
  changed<A extends unknown[]>(queue: (step: (...args: A) => Promise<void>) => Promise<void>, pass: (...args: A) => Promise<void>): Promise<void> {
    this.seen++
    if (this.queued !== null) return this.queued
    let started = false
    const taken = queue(async (...args: A) => {
      started = true
      this.queued = null
      await pass(...args)
    })
    if (!started) this.queued = taken // (a turn that runs at once has started already)
    return taken
  }
}
