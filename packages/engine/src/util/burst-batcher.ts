/** What a {@link BurstBatcher} does with the items of a burst. */
export interface BurstHandler<K, T> {
  /**
   * The first item after a quiet spell: handled now (latency). Returning `false` leaves it
   * to the end of the burst instead (say, when work already under way would only queue it).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing handled the item
  now(key: K, item: T): boolean | void
  /**
   * The burst is over: called once per key it touched, with the items left for its end in
   * the order they came (empty when only the first came and it was handled now).
   * `firstWentNow`: the burst's first item of this key was handled by {@link now}.
   */
  end(key: K, items: T[], firstWentNow: boolean): void
}

/**
 * Whether each key has quiet spells and bursts of its own (a doc's uploads, a chat's
 * appends), or one burst covers every key (one session's socket: its first frame after a
 * quiet spell, whatever the doc, goes at once).
 */
export type BurstScope = 'per-key' | 'all-keys'

interface Burst<T> {
  items: T[]
  firstWentNow: boolean
  /** Someone waits for this burst's end ({@link BurstBatcher.ended}). */
  done?: PromiseWithResolvers<void>
}

/**
 * The first item after a quiet spell goes at once; the rest of its burst is handled in one
 * go at the end of the burst (`defer`: the runtime's "once the current burst of work is
 * done"). One frame, one transaction or one upload per burst instead of one per item is
 * what makes bursts cheap; the first item going at once is what keeps a lone message fast.
 * Adding an item costs a map lookup and an array push.
 */
export class BurstBatcher<K, T> {
  /** Keys in the current burst, with what waits for its end. */
  private readonly bursts = new Map<K, Burst<T>>()

  constructor(
    private readonly defer: (fn: () => void) => void,
    private readonly handler: BurstHandler<K, T>,
    private readonly scope: BurstScope = 'per-key'
  ) {}

  /** Adds an item: true if it was handled now, false if it waits for the end of the burst. */
  add(key: K, item: T): boolean {
    const burst = this.bursts.get(key)
    if (burst !== undefined) {
      burst.items.push(item)
      return false
    }
    if (this.scope === 'all-keys' && this.bursts.size > 0) {
      this.bursts.set(key, { items: [item], firstWentNow: false })
      return false
    }
    const started: Burst<T> = { items: [], firstWentNow: true }
    this.bursts.set(key, started)
    if (this.scope === 'all-keys') this.defer(this.endAll)
    else
      this.defer(() => {
        this.endOf(key)
      })
    if (this.handler.now(key, item) !== false) return true
    started.firstWentNow = false
    started.items.push(item)
    return false
  }

  /** Whether any key is in a burst whose end has not been handled yet. */
  get pending(): boolean {
    return this.bursts.size > 0
  }

  /**
   * Resolves once the current burst of `key` has been handled (at once if it is in none);
   * rejects with what its {@link BurstHandler.end} threw.
   */
  ended(key: K): Promise<void> {
    const burst = this.bursts.get(key)
    if (burst === undefined) return Promise.resolve()
    burst.done ??= Promise.withResolvers<void>()
    return burst.done.promise
  }

  private endOf(key: K): void {
    const burst = this.bursts.get(key)!
    this.bursts.delete(key)
    this.finish(key, burst)
  }

  private readonly endAll = (): void => {
    const bursts = [...this.bursts]
    this.bursts.clear()
    for (const [key, burst] of bursts) this.finish(key, burst)
  }

  private finish(key: K, burst: Burst<T>): void {
    try {
      this.handler.end(key, burst.items, burst.firstWentNow)
    } catch (err) {
      // nobody waits for this burst: the runtime reports it like any error of a deferred task
      if (burst.done === undefined) throw err
      burst.done.reject(err)
      return
    }
    burst.done?.resolve()
  }
}
