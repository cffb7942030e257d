import type { DocMeta, LogEntry, SnapshotEntry } from './records.js'
import type { CachedEntry } from './tail.js'

/** The bounds every backend enforces, with typed errors (`ERR_BLOB_TOO_LARGE`, `ERR_QUOTA_EXCEEDED`). */
export interface HistoryLimits {
  /** Largest blob or snapshot a device may store. */
  maxBlobBytes: number
  /** Bytes an account may have stored on the relay. */
  accountQuotaBytes: number
}

/** What a subscriber with cursor `since` will be sent by a backfill. */
export interface Backlog {
  head: number
  entries: number
  bytes: number
  /** Sent first when it covers more than `since`. */
  snapshot: SnapshotEntry | null
}

export interface CommitResult {
  seq: number
  /** The same bytes were already in the log (a retried append), or a newer snapshot is held: `seq` is the earlier one / the refused `covers`. */
  duplicate: boolean
  /** Live log entries after the newest snapshot, and their bytes: devices upload a snapshot when these grow. */
  sinceSnapshot: number
  tailBytes: number
  /** Bytes of the newest snapshot (0 without one). */
  snapshotBytes: number
}

/** Told each new seq of a doc once it is durable and readable, in seq order per doc. */
export type CommitListener = (docId: string, seq: number) => void

/**
 * A blob (or a snapshot) arriving part by part. Nothing of it is visible until `commit()`
 * resolves; `abort()` drops it and refuses any part still being added.
 */
export interface HistoryUpload {
  /** Names the upload: the `upload` of the log entry it becomes (live subscribers are matched by it). */
  readonly key: string
  /** The parts added so far while the backend holds them in memory; null when it does not. */
  readonly buffered: readonly Uint8Array[] | null
  /** Adds the next part; rejects with ERR_BLOB_TOO_LARGE or ERR_QUOTA_EXCEEDED past a limit (nothing of it is kept then). */
  addPart(chunk: Uint8Array): Promise<void>
  /** Resolves once the blob is durable: an acknowledgement may be sent then. */
  commit(): Promise<CommitResult>
  abort(): Promise<void>
}

/**
 * The relay's history as the store service and the relay use it: per doc an ordered log of
 * opaque blobs numbered 1, 2, 3…, plus at most one snapshot replacing a prefix of it. The
 * level `HistoryStore` is one implementation; every implementation must pass the
 * conformance cases in `src/testing/history-contract.ts`.
 */
export interface HistoryBackend {
  /** Starts an upload to `docId`: an append, or a snapshot covering seqs 1…`covers`. The doc's first uploader's account pays for it. */
  beginUpload(docId: string, init: { account: string; uploader: string; covers?: number }): HistoryUpload
  /** The doc's head, sizes and snapshot; null for a doc never written. */
  meta(docId: string): Promise<DocMeta | null>
  backlog(docId: string, since: number): Promise<Backlog>
  /** Up to `limit` live entries with seq > `after`, in seq order (the index only, no blob bytes). */
  entriesAfter(docId: string, after: number, limit: number): Promise<LogEntry[]>
  /**
   * The durable entries after `after` with their bytes, from memory and without waiting;
   * undefined when memory does not hold all of them (read `entriesAfter` and `readPart` then).
   */
  tailAfter(docId: string, after: number, limit: number): CachedEntry[] | undefined
  /** One stored part of a blob or snapshot, or undefined if a snapshot has since dropped it. */
  readPart(upload: string, n: number): Promise<Uint8Array | undefined>
  onCommit(listener: CommitListener): () => void
  /** Docs held and bytes stored, read at every metrics scrape (so kept without I/O). */
  stats(): { docs: number; bytesStored: number }
  /** Resolves once everything acknowledged is stored and the backend has let go of its storage. */
  close(): Promise<void>
}
