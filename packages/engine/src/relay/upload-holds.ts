/**
 * Why a doc's writes are not going to the relay now, each until what may lift it happens:
 * - **resealing**: an upload was refused as stale; the doc's uploads wait while they are sealed
 *   again in a newer generation (OutboxReseal), then all go, in order;
 * - **denied**: the relay refused the doc's uploads as not allowed again after a reconnect
 *   (this account removed from the chat, say): they stay in the outbox, not sent, until the
 *   device chain or a membership changes. Sent at every connection, and the connection closed
 *   at each refusal, they made a reconnect loop that never ended (simulator seed 20261128 with --people);
 * - **parked**: the doc's writes are not even cut while its blobs may not be sealed (a shared
 *   chat's record its relay has not confirmed: BlobCodec.sealable), until the keys change.
 *   Waiting in the codec instead held every other doc's flush behind this one (flushes go one
 *   at a time), for ever when the confirmation never comes (an account removed from the chat).
 */
export class UploadHolds {
  readonly resealing = new Set<string>()
  private readonly denied = new Set<string>()
  /** Parked docs, each with whether the whole doc is to be cut once it may be sealed. */
  private readonly parked = new Map<string, boolean>()

  /** Whether the doc's outbox entries may be sent now. */
  goes(docId: string): boolean {
    return !this.resealing.has(docId) && !this.denied.has(docId)
  }

  deny(docId: string): void {
    this.denied.add(docId)
  }

  undeny(docId: string): void {
    this.denied.delete(docId)
  }

  deniedIds(): string[] {
    return [...this.denied]
  }

  isDenied(docId: string): boolean {
    return this.denied.has(docId)
  }

  /** Lifts every denial: the docs that were denied. */
  allowDenied(): Set<string> {
    const docs = new Set(this.denied)
    this.denied.clear()
    return docs
  }

  /** Parks the doc's writes until `change` settles, then calls `flush` once with whether to cut all of it (a doc parked again meanwhile is flushed once). */
  park(docId: string, all: boolean, change: () => Promise<void>, flush: (all: boolean) => void): void {
    const waiting = this.parked.get(docId)
    this.parked.set(docId, all || waiting === true)
    if (waiting !== undefined) return
    void change().then(() => {
      const again = this.parked.get(docId)
      this.parked.delete(docId)
      if (again !== undefined) flush(again)
    })
  }
}
