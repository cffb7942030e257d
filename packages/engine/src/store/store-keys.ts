// Key layout of a device store (one level db, string keys; every value a checked record):
//   format               → the store's format: FORMAT (records carry checksums)
//   doc!<docId>          → empty; marks that the doc exists (for listing without a scan of logs)
//   snap!<docId>         → compacted Yjs update holding the doc's state up to the log's start
//   log!<docId>!<seq>    → one Yjs update; seq is zero-padded hex so keys sort in append order
//   meta!<name>          → engine metadata (identity, account, relay cursors, outbox…)

export const FORMAT_KEY = 'format'
/** Format 2: every value is a checked record (crc32 of key and payload, then the payload). Format 1 (no `format` key) had none. */
export const FORMAT = 'tandem-device-store/2'

export const DOC_ID = /^[a-z0-9][a-z0-9:_.-]{0,127}$/
const SEQ_WIDTH = 12

export const docKey = (docId: string): string => `doc!${docId}`
export const snapKey = (docId: string): string => `snap!${docId}`
export const logPrefix = (docId: string): string => `log!${docId}!`
export const logKey = (docId: string, seq: number): string => logPrefix(docId) + seq.toString(16).padStart(SEQ_WIDTH, '0')
export const metaKey = (name: string): string => `meta!${name}`
/** Metadata names `repair/<docId>`: a doc found damaged, to be fetched whole from a relay (store-repair.ts). */
export const REPAIR_MARK = 'repair/'

/** What a key is, read from its shape; `stray` for anything this layout never writes (a garbled key). */
export type ParsedKey =
  | { kind: 'format' }
  | { kind: 'doc' | 'snap'; docId: string }
  | { kind: 'log'; docId: string; seq: number }
  | { kind: 'meta'; name: string }
  | { kind: 'stray'; docId: string | null }

const SEQ = /^[0-9a-f]{12}$/

export function parseKey(key: string): ParsedKey {
  if (key === FORMAT_KEY) return { kind: 'format' }
  const bang = key.indexOf('!')
  const prefix = bang < 0 ? '' : key.slice(0, bang)
  const rest = key.slice(bang + 1)
  switch (prefix) {
    case 'doc':
    case 'snap':
      return DOC_ID.test(rest) ? { kind: prefix, docId: rest } : { kind: 'stray', docId: null }
    case 'log': {
      const sep = rest.lastIndexOf('!')
      const docId = rest.slice(0, sep)
      if (sep < 0 || !DOC_ID.test(docId)) return { kind: 'stray', docId: null }
      const seq = rest.slice(sep + 1)
      return SEQ.test(seq) ? { kind: 'log', docId, seq: parseInt(seq, 16) } : { kind: 'stray', docId }
    }
    case 'meta':
      return { kind: 'meta', name: rest }
    default:
      return { kind: 'stray', docId: null }
  }
}
