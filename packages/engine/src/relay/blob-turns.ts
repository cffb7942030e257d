/**
 * Blobs opened ahead of their turn, at most: each is verified, decrypted and inflated as soon as
 * it arrives (the signature and the inflating run on thread pools), while the ones before it are
 * applied, strictly in order. Past this (or {@link MAX_OPENING_BYTES}) the connection's frames wait.
 */
export const MAX_OPENING = 8
/** Sealed bytes opened ahead of their turn, at most (one blob alone may be more: it waits for the others). */
export const MAX_OPENING_BYTES = 64 * 1024 * 1024

/** Work started ahead of its turn: what it gives, and its place to give back (in its turn). */
export interface Opening<T> {
  readonly result: Promise<T>
  release(): void
}

/**
 * The order a relay reader keeps: what the relay sent is handled in turns, strictly in the order
 * it came, while the blobs among it are opened side by side ahead of their turns (at most
 * {@link MAX_OPENING}, {@link MAX_OPENING_BYTES}). A session counts connections: a turn taken
 * on one that has ended is dropped, as the frames still queued on a closed stream were (the
 * cursor stays before them).
 */
export class BlobTurns {
  /** The last turn taken, and how many are not done. */
  private turns: Promise<void> = Promise.resolve()
  private turnsLeft = 0
  private opening = 0
  private openingBytes = 0
  private roomWaiters: Array<() => void> = []
  private session = 0

  /** `fail`: a turn's step threw on the connection it came on (which the caller then closes). */
  constructor(private readonly fail: (err: unknown) => void) {}

  /** A connection began or ended: turns taken before it are no longer current. */
  newSession(): void {
    this.session++
  }

  /**
   * Runs `step` once every turn taken before it is done (at once when none waits: the live
   * path takes no extra hop). `current()` says whether the connection it came on still runs.
   */
  inTurn(step: (current: () => boolean) => void | Promise<void>): Promise<void> {
    const session = this.session
    const current = (): boolean => session === this.session
    const run = async (): Promise<void> => {
      try {
        await step(current)
      } catch (err) {
        if (current()) this.fail(err)
      } finally {
        this.turnsLeft--
      }
    }
    const done = this.turnsLeft++ === 0 ? run() : this.turns.then(run)
    this.turns = done
    return done
  }

  /** Waits while MAX_OPENING blobs (or MAX_OPENING_BYTES) are opened ahead of their turn; one blob always may be. */
  async roomFor(bytes: number): Promise<void> {
    while (this.opening > 0 && (this.opening >= MAX_OPENING || this.openingBytes + bytes > MAX_OPENING_BYTES))
      await new Promise<void>(resolve => {
        this.roomWaiters.push(resolve)
      })
  }

  /** Starts `open` now, holding `bytes` of the room until `release` (in its turn). */
  startOpening<T>(bytes: number, open: () => Promise<T>): Opening<T> {
    this.opening++
    this.openingBytes += bytes
    let held = true
    return {
      result: open(),
      release: () => {
        if (!held) return
        held = false
        this.opening--
        this.openingBytes -= bytes
        const waiters = this.roomWaiters
        this.roomWaiters = []
        for (const w of waiters) w()
      }
    }
  }
}
