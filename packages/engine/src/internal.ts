// Internals for the simulator's fault injection (its "teeth" tests patch these prototypes) and the benchmarks.
// Not a stable API: apps must not import this entry point.
export { RelayClient } from './relay/relay-client.js'
export { RelayState } from './relay/relay-state.js'
// The chat doc's message record, for the benchmarks' in-process Yjs limits.
export { encodeMessageRecord, type MessageRecord } from './model/message.js'
export { BlobCodec, type DocSealing } from './relay/blob-codec.js'
export { nodeCompression } from './node/compression.js'
// The account's key ring: the simulator opens relay blobs with it (a device's chain and agreement key) and patches it (teeth).
export { KeyRing } from './keys/key-ring.js'
// The search index's MiniSearch options: the benchmark measures a saved index (the road not taken) with them.
export { INDEX_OPTIONS, type IndexedDoc } from './search/message-index.js'
// Watermarks and message annotations: the simulator's teeth patch them (a watermark merged by minimum, a stale edit index).
export { ReceiptBook } from './receipts/receipt-book.js'
export { MessageAnnotations } from './model/message-annotations.js'
// The segment a message id names: the simulator's teeth and the process tests group messages by it.
export { segmentOfMessage } from './chat/chat-view.js'
