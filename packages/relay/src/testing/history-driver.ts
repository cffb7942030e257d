// Drives a HistoryBackend as a store session does, for the history contract's cases.
import { patternBytes } from '@tandem/storage/testing'
import type { CommitResult, HistoryBackend, HistoryLimits } from '../history/backend.js'
import type { LogEntry } from '../history/records.js'
import { withBackend } from './checks.js'

export const ACCOUNT = 'acct-a'
export const UPLOADER = 'peer-1'
/** Roomy limits for cases that are not about limits. */
export const LIMITS: HistoryLimits = { maxBlobBytes: 1024 * 1024, accountQuotaBytes: 64 * 1024 * 1024 }

/** A new, empty, open backend with these limits. */
export type OpenHistory = (limits: HistoryLimits) => Promise<HistoryBackend>
/** Closes `history` (or kills it, for a crash test) and opens its data again with the same limits: a restarted relay. */
export type ReopenHistory = (history: HistoryBackend) => Promise<HistoryBackend>

export interface HistoryContractCase {
  name: string
  run(open: OpenHistory, reopen: ReopenHistory): Promise<void>
}

/** A history open for the length of a case; `reopen()` restarts it, and `history` is the new one after. */
export interface HistorySession {
  readonly history: HistoryBackend
  reopen(): Promise<HistoryBackend>
}

/** Runs `body` on a new backend and closes whichever one is open at the end. */
export function withHistory(open: OpenHistory, reopen: ReopenHistory, limits: HistoryLimits, body: (s: HistorySession) => Promise<void>): Promise<void> {
  return withBackend(
    () => open(limits),
    reopen,
    s =>
      body({
        get history() {
          return s.current
        },
        reopen: s.reopen
      })
  )
}

/** Distinct blobs: each call gives other bytes (the log dedupes equal ones). */
export function blobMaker(): (size: number) => Uint8Array {
  let seed = 0
  return size => patternBytes(size, ++seed)
}

/** Parts of at most `partSize` bytes, as frames carry them; an empty blob is one empty part. */
export function split(bytes: Uint8Array, partSize: number): Uint8Array[] {
  if (bytes.byteLength === 0) return [bytes]
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength; at += partSize) out.push(bytes.subarray(at, at + partSize))
  return out
}

export interface UploadOptions {
  account?: string
  uploader?: string
  partSize?: number
}

/** Appends a blob part by part; a refused part aborts the upload (as the store session does) and rethrows. */
export async function append(history: HistoryBackend, docId: string, bytes: Uint8Array, o: UploadOptions = {}): Promise<CommitResult> {
  return await upload(history, docId, bytes, o, undefined)
}

export async function snapshot(history: HistoryBackend, docId: string, covers: number, bytes: Uint8Array, o: UploadOptions = {}): Promise<CommitResult> {
  return await upload(history, docId, bytes, o, covers)
}

async function upload(history: HistoryBackend, docId: string, bytes: Uint8Array, o: UploadOptions, covers: number | undefined): Promise<CommitResult> {
  const u = history.beginUpload(docId, { account: o.account ?? ACCOUNT, uploader: o.uploader ?? UPLOADER, ...(covers !== undefined ? { covers } : {}) })
  try {
    for (const part of split(bytes, o.partSize ?? 1024)) await u.addPart(part)
  } catch (err) {
    await u.abort()
    throw err
  }
  return await u.commit()
}

/** A stored blob or snapshot read back part by part and joined; undefined if a part is missing. */
export async function readBlob(history: HistoryBackend, upload: string, parts: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = []
  for (let n = 0; n < parts; n++) {
    const chunk = await history.readPart(upload, n)
    if (chunk === undefined) return undefined
    chunks.push(chunk)
  }
  return join(chunks)
}

export function join(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

/** Every live entry of the doc, in seq order. */
export async function readLog(history: HistoryBackend, docId: string): Promise<LogEntry[]> {
  return await history.entriesAfter(docId, 0, Number.MAX_SAFE_INTEGER)
}

/** What the store service reads of an entry (a backend may keep more). */
export const served = (e: LogEntry): { seq: number; upload: string; parts: number; size: number; uploader: string } => ({
  seq: e.seq,
  upload: e.upload,
  parts: e.parts,
  size: e.size,
  uploader: e.uploader
})

/** The doc's head and snapshot as the store service reads them (a copy: a backend may hand out a live object). */
export async function headOf(
  history: HistoryBackend,
  docId: string
): Promise<{ head: number; snapshot: { covers: number; upload: string; parts: number; size: number } | null } | null> {
  const meta = await history.meta(docId)
  if (meta === null) return null
  const s = meta.snapshot
  return { head: meta.head, snapshot: s === null ? null : { covers: s.covers, upload: s.upload, parts: s.parts, size: s.size } }
}
