/** Blobs kept per doc while waiting for a key; more than this and the oldest go (the cursor stays before them: a restart fetches them again). */
export const MAX_PARKED_PER_DOC = 4096

export interface ParkedBlob {
  /** The entry's seq; 0 for a live blob (its notice moves the cursor). */
  seq: number
  blob: Uint8Array
  /** A snapshot (cut by one device from what it held: other accounts' messages in it are not its author's). */
  snapshot?: boolean
}

/**
 * Relay blobs sealed in a key generation this device does not hold yet (ERR_UNKNOWN_EPOCH):
 * kept, not applied and not dropped, until the chain brings the key. While a doc has any, its
 * cursor does not move past them, so a restart fetches them again instead of losing them.
 */
export class ParkedBlobs {
  private readonly byDoc = new Map<string, ParkedBlob[]>()

  has(docId: string): boolean {
    return this.byDoc.has(docId)
  }

  get size(): number {
    let n = 0
    for (const list of this.byDoc.values()) n += list.length
    return n
  }

  /** Keeps a blob; false when the doc's list was full and its oldest blob was let go. */
  park(docId: string, blob: ParkedBlob): boolean {
    let list = this.byDoc.get(docId)
    if (list === undefined) {
      list = []
      this.byDoc.set(docId, list)
    }
    list.push(blob)
    if (list.length <= MAX_PARKED_PER_DOC) return true
    list.shift()
    return false
  }

  /** Every parked blob, in order per doc; the store is empty after. */
  take(): Array<[string, ParkedBlob[]]> {
    const all = [...this.byDoc]
    this.byDoc.clear()
    return all
  }

  clear(): void {
    this.byDoc.clear()
  }
}
