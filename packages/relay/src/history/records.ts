import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** One blob in a doc's log: where its parts are and what it cost. */
export interface LogEntry {
  seq: number
  /** Key under which the blob's parts are stored. */
  upload: string
  parts: number
  size: number
  /** Peer id of the device that appended it (it gets an `echo`, not the bytes, back). */
  uploader: string
  /** sha256 of the blob, for dedupe of retried appends. */
  hash: string
  /** Bytes appended to this doc up to and including this entry: O(1) backlog sizes. */
  cum: number
}

export interface SnapshotEntry {
  covers: number
  upload: string
  parts: number
  size: number
  /** `cum` of the entry at `covers`, so the tail's size is still O(1). */
  cumAtCovers: number
}

/** Per-doc counters, kept in memory for open docs and persisted with every commit. */
export interface DocMeta {
  head: number
  /** Total bytes ever appended (the last entry's `cum`). */
  cum: number
  /** Bytes currently stored for this doc: live entries plus snapshot. */
  stored: number
  /** Live log entries after the snapshot. */
  entries: number
  /** Account charged for the doc's storage (the first uploader's). */
  account: string
  snapshot: SnapshotEntry | null
}

export function encodeLogEntry(e: LogEntry): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, e.seq)
  encoding.writeVarString(enc, e.upload)
  encoding.writeVarUint(enc, e.parts)
  encoding.writeVarUint(enc, e.size)
  encoding.writeVarString(enc, e.uploader)
  encoding.writeVarString(enc, e.hash)
  encoding.writeVarUint(enc, e.cum)
  return encoding.toUint8Array(enc)
}

export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  const dec = decoding.createDecoder(bytes)
  return {
    seq: decoding.readVarUint(dec),
    upload: decoding.readVarString(dec),
    parts: decoding.readVarUint(dec),
    size: decoding.readVarUint(dec),
    uploader: decoding.readVarString(dec),
    hash: decoding.readVarString(dec),
    cum: decoding.readVarUint(dec)
  }
}

export function encodeDocMeta(m: DocMeta): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, m.head)
  encoding.writeVarUint(enc, m.cum)
  encoding.writeVarUint(enc, m.stored)
  encoding.writeVarUint(enc, m.entries)
  encoding.writeVarString(enc, m.account)
  encoding.writeUint8(enc, m.snapshot === null ? 0 : 1)
  if (m.snapshot !== null) {
    encoding.writeVarUint(enc, m.snapshot.covers)
    encoding.writeVarString(enc, m.snapshot.upload)
    encoding.writeVarUint(enc, m.snapshot.parts)
    encoding.writeVarUint(enc, m.snapshot.size)
    encoding.writeVarUint(enc, m.snapshot.cumAtCovers)
  }
  return encoding.toUint8Array(enc)
}

export function decodeDocMeta(bytes: Uint8Array): DocMeta {
  const dec = decoding.createDecoder(bytes)
  const head = decoding.readVarUint(dec)
  const cum = decoding.readVarUint(dec)
  const stored = decoding.readVarUint(dec)
  const entries = decoding.readVarUint(dec)
  const account = decoding.readVarString(dec)
  const hasSnapshot = decoding.readUint8(dec) === 1
  const snapshot = hasSnapshot
    ? {
        covers: decoding.readVarUint(dec),
        upload: decoding.readVarString(dec),
        parts: decoding.readVarUint(dec),
        size: decoding.readVarUint(dec),
        cumAtCovers: decoding.readVarUint(dec)
      }
    : null
  return { head, cum, stored, entries, account, snapshot }
}
