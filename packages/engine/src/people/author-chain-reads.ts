/** Reads of the member chains made for one author key no chain listed, before its blobs are refused. */
export const MAX_AUTHOR_READS = 3

/** How long an author's blobs wait before its chains are read again, when the last read reached no relay. */
export const AUTHOR_READ_RETRY_MS = 1_000

/**
 * Per author key no member chain lists, the reads of the members' chains made for it: after
 * a few, its blobs are refused (a read per blob would be a relay's lever). While one read is
 * under way the author's other blobs wait for it without counting another: a backlog from a
 * device linked since the chains were read came in a burst and used up every read at once,
 * before the first had returned (simulator seed 20261126 with --people --no-chain). A read
 * that reached no relay says nothing of the author and does not count either: the blobs wait
 * and try again a little later (three reads in a partition refused a new device's blobs for
 * good on every other member's device, simulator seed 20261170 with --people).
 */
export class AuthorChainReads {
  private readonly asked = new Map<string, { reads: number; reading: boolean }>()

  constructor(
    /** Runs `fn` once AUTHOR_READ_RETRY_MS is over (the injected timers). */
    private readonly later: (fn: () => void) => void
  ) {}

  /**
   * Starts a read for `author` (hex) unless one is under way; false once its reads are used
   * up. `read` resolves with whether it reached a relay; `done` is called once it has (at
   * once), or else once the wait is over.
   */
  ask(author: string, read: () => Promise<boolean>, done: () => void): boolean {
    let asked = this.asked.get(author)
    if (asked === undefined) {
      asked = { reads: 0, reading: false }
      this.asked.set(author, asked)
    }
    if (asked.reading) return true
    if (asked.reads >= MAX_AUTHOR_READS) return false
    asked.reads++
    asked.reading = true
    const entry = asked
    void read()
      .catch(() => true)
      .then(reached => {
        entry.reading = false
        if (reached) {
          done()
          return
        }
        entry.reads--
        this.later(done)
      })
    return true
  }
}
