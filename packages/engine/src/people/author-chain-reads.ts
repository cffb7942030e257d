/** Reads of the member chains made for one author key no chain listed, before its blobs are refused. */
export const MAX_AUTHOR_READS = 3

/**
 * Per author key no member chain lists, the reads of the members' chains made for it: after
 * a few, its blobs are refused (a read per blob would be a relay's lever). While one read is
 * under way the author's other blobs wait for it without counting another: a backlog from a
 * device linked since the chains were read came in a burst and used up every read at once,
 * before the first had returned (simulator seed 20261126 with --people --no-chain).
 */
export class AuthorChainReads {
  private readonly asked = new Map<string, { reads: number; reading: boolean }>()

  /** Starts a read for `author` (hex) unless one is under way; false once its reads are used up. */
  ask(author: string, read: () => Promise<unknown>, done: () => void): boolean {
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
    void read().finally(() => {
      entry.reading = false
      done()
    })
    return true
  }
}
