import type { TandemError } from '@tandem/protocol'
import type { Runtime } from '../runtime.js'
import type { OutboxEntry, RelayState } from './relay-state.js'
import type { StateVector } from './state-vector.js'

/**
 * A doc's cursor alone (no new "sent" status in it) is saved at most this often. A crash
 * loses only where we were in the relay's log, and the next start fetches those entries
 * again (applying them twice is harmless); saving it at once cost every message received,
 * and every echo of our own, a disk write of its own.
 */
export const CURSOR_SAVE_MS = 250

export interface RelayStateSaverEvents {
  /** The relay acknowledged more of a doc, and our disk now says so: messages inside `acked` are "sent". */
  onAcked(docId: string, acked: StateVector): void
  onError(error: TandemError): void
}

/**
 * Saves one relay's per-doc state (cursor, state vectors) and outbox changes. A "sent"
 * status is saved at once and reported only once it is on disk; a cursor-only change waits
 * up to {@link CURSOR_SAVE_MS}, or goes along with the doc's next save.
 */
export class RelayStateSaver {
  /** Per doc, a save of its relay state in progress (see saveSoon). */
  private readonly saving = new Map<string, { dirty: boolean }>()
  /** Docs whose `acked` grew since the last save that reported it. */
  private readonly ackUnreported = new Set<string>()
  /** Docs with a cursor-only save waiting out {@link CURSOR_SAVE_MS}. */
  private readonly cursorTimers = new Map<string, unknown>()
  private stopped = false

  constructor(
    private readonly state: RelayState,
    private readonly runtime: Runtime,
    private readonly events: RelayStateSaverEvents
  ) {}

  /** The doc's `acked` grew: the next save that takes it to disk reports it. */
  ackGrew(docId: string): void {
    this.ackUnreported.add(docId)
  }

  /**
   * Persists a doc's cursor and state vectors without holding up the next blob: one save
   * at a time per doc, and one more if anything changed meanwhile (a backfill of many
   * blobs waited for a disk write per blob). "Sent" is reported only once the state that
   * says so is on disk: it never goes back.
   */
  saveSoon(docId: string): void {
    const running = this.saving.get(docId)
    if (running !== undefined) {
      running.dirty = true
      return
    }
    const run = { dirty: true }
    this.saving.set(docId, run)
    void (async () => {
      try {
        while (run.dirty) {
          run.dirty = false
          const report = this.ackUnreported.delete(docId)
          await this.persist(docId)
          if (report) this.events.onAcked(docId, this.state.doc(docId).ackedDurable)
        }
      } catch (err) {
        this.events.onError(err as TandemError)
      } finally {
        this.saving.delete(docId)
      }
    })()
  }

  /** Saves a doc's relay state (and outbox changes); a cursor waiting for its timer goes along. */
  persist(docId: string, add?: OutboxEntry[], remove?: OutboxEntry[]): Promise<void> {
    const timer = this.cursorTimers.get(docId)
    if (timer !== undefined) {
      this.runtime.clearTimeout(timer)
      this.cursorTimers.delete(docId)
    }
    return this.state.save(docId, add, remove)
  }

  /** Saves the doc now if its `acked` grew since the last save that reported it (else nothing: the state on disk says as much). */
  saveIfAckUnreported(docId: string): void {
    if (this.ackUnreported.has(docId)) this.saveSoon(docId)
  }

  /** A cursor-only change: saved with the next save of the doc, or after {@link CURSOR_SAVE_MS}. */
  saveLater(docId: string): void {
    // a save under way takes it along; a stopped client saves it now
    if (this.stopped || this.saving.has(docId)) {
      this.saveSoon(docId)
      return
    }
    if (this.cursorTimers.has(docId)) return
    this.cursorTimers.set(
      docId,
      this.runtime.setTimeout(() => {
        this.cursorTimers.delete(docId)
        this.saveSoon(docId)
      }, CURSOR_SAVE_MS)
    )
  }

  /** From now on every change is saved at once; cursors still waiting go to disk now (the store drains its queue before it closes). */
  stop(): void {
    this.stopped = true
    for (const docId of [...this.cursorTimers.keys()]) this.saveSoon(docId)
  }
}
