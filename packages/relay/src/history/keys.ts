// Key layout of the relay's level store (string keys, binary values):
//   doc!<docId>                 DocMeta: head, sizes, snapshot
//   log!<docId>!<seq>           LogEntry (seq as fixed-width hex so keys sort in seq order)
//   part!<upload>!<n>           one stored part (≤ one frame chunk) of a blob or snapshot
//   hash!<docId>!<sha256>       seq of the blob with that hash (dedupe of retried appends)
//   pending!<upload>            an upload whose parts are on disk but not yet committed
//   acct!<accountId>            bytes stored on the account's behalf (quota)
// `rec!` keys in the same store are the access records' (src/access/level-access-records.ts).
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0')

export const docKey = (docId: string): string => `doc!${docId}`
export const logPrefix = (docId: string): string => `log!${docId}!`
export const logKey = (docId: string, seq: number): string => logPrefix(docId) + hex(seq, 14)
/**
 * True if `key`, found in a range scan under logPrefix(docId), is a log key of that doc. Doc
 * ids may contain '!', so the log keys of doc `<docId>!<14 hex>…` sort inside this doc's range.
 */
export const isLogKeyOf = (docId: string, key: string): boolean => key.length === logPrefix(docId).length + 14
export const partKey = (upload: string, n: number): string => `part!${upload}!${hex(n, 8)}`
export const hashKey = (docId: string, hash: string): string => `hash!${docId}!${hash}`
export const pendingKey = (upload: string): string => `pending!${upload}`
export const accountKey = (accountId: string): string => `acct!${accountId}`
