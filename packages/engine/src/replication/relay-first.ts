import type { RelayClient } from '../relay/relay-client.js'
import type { Runtime } from '../runtime.js'

/** How long a device that has just started waits for its relays to connect before it asks peers for docs. */
export const RELAY_CONNECT_GRACE_MS = 3_000
/** The longest a doc's request to peers waits for a relay's backfill of it (a stalled relay must not stall the peers). */
export const RELAY_BACKFILL_MAX_MS = 30_000

interface Waiter {
  docIds: readonly string[]
  done: () => void
}

/**
 * History comes once: a device that is catching a doc up from a relay asks its peers for
 * that doc (the y-protocols state-vector request) only once the relay has sent what it
 * holds, so a peer answers with what the relay lacks instead of the whole doc again.
 * Measured before: a new device whose other device was online got a 100,000-message
 * history from the relay (5.6 MB) and again, uncompressed, from that device through the
 * relay's circuit (29–52 MB; 1.5–1.9 s instead of 0.9–1.0 s). Live updates from peers
 * flow meanwhile; only the catch-up request waits, for at most {@link RELAY_BACKFILL_MAX_MS}.
 */
export class RelayFirst {
  private readonly waiters = new Set<Waiter>()

  constructor(
    /** The relays a doc goes to (see DocRoutes): only they can be bringing it. */
    private readonly relays: (docId: string) => Iterable<RelayClient>,
    private readonly runtime: Pick<Runtime, 'now' | 'setTimeout' | 'clearTimeout'>,
    private readonly startedAt: number
  ) {}

  /** Resolves when peers may be asked for `docId`; `null` when they may be asked now. */
  gate(docId: string): Promise<void> | null {
    return this.gateAll([docId])
  }

  /** Resolves when no relay is bringing any of `docIds` (at most {@link RELAY_BACKFILL_MAX_MS}); `null` when none is now. */
  gateAll(docIds: readonly string[]): Promise<void> | null {
    const wait = this.waitAll(docIds)
    if (wait === 0) return null
    return new Promise(resolve => {
      const waiter: Waiter = {
        docIds,
        done: () => {
          this.runtime.clearTimeout(timer)
          this.waiters.delete(waiter)
          resolve()
        }
      }
      const timer = this.runtime.setTimeout(waiter.done, wait)
      this.waiters.add(waiter)
    })
  }

  /** A relay connected, disconnected, caught up or refused a doc: let through every request no longer held. */
  changed(): void {
    for (const w of [...this.waiters]) if (this.waitAll(w.docIds) === 0) w.done()
  }

  /** Releases every waiter (the device leaves the network). */
  releaseAll(): void {
    for (const w of [...this.waiters]) w.done()
  }

  private waitAll(docIds: readonly string[]): number {
    let most = 0
    for (const docId of docIds) most = Math.max(most, this.wait(docId))
    return most
  }

  /** How long at most to hold a request for `docId` now: 0 when no relay is bringing it. */
  private wait(docId: string): number {
    let any = false
    let connected = false
    for (const r of this.relays(docId)) {
      any = true
      if (!r.isConnected) continue
      connected = true
      if (r.backfilling(docId)) return RELAY_BACKFILL_MAX_MS
    }
    // no relay connected yet: right after start, give them a moment to
    const sinceStart = this.runtime.now() - this.startedAt
    return any && !connected && sinceStart < RELAY_CONNECT_GRACE_MS ? RELAY_CONNECT_GRACE_MS - sinceStart : 0
  }
}
