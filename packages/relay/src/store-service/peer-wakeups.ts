/**
 * Wake-ups per peer id: "something about this peer's standing may have changed" (a session
 * of it passed its hello, its account's device list changed). The store service waits on
 * these while a reservation request waits for the device's hello: a device connects, opens
 * /tandem/store and says hello at once, while libp2p's identify runs and its circuit relay
 * transport asks for a reservation beside it, so that request often arrives before the
 * hello has been checked.
 */
export class PeerWakeups {
  private readonly waiters = new Map<string, Set<() => void>>()

  /**
   * Resolves true at the next {@link wake} of `peerId`, false if `signal` aborts first.
   * Register before checking what you wait for, then await: a wake-up between the two is
   * not lost.
   */
  next(peerId: string, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false)
    return new Promise(resolve => {
      let set = this.waiters.get(peerId)
      if (set === undefined) {
        set = new Set()
        this.waiters.set(peerId, set)
      }
      const waiting = set
      const woken = (): void => {
        signal.removeEventListener('abort', giveUp)
        resolve(true)
      }
      const giveUp = (): void => {
        waiting.delete(woken)
        if (waiting.size === 0 && this.waiters.get(peerId) === waiting) this.waiters.delete(peerId)
        resolve(false)
      }
      waiting.add(woken)
      signal.addEventListener('abort', giveUp, { once: true })
    })
  }

  wake(peerId: string): void {
    const waiting = this.waiters.get(peerId)
    if (waiting === undefined) return
    this.waiters.delete(peerId)
    for (const woken of waiting) woken()
  }

  /** Peer ids with a waiter right now. */
  get size(): number {
    return this.waiters.size
  }
}
