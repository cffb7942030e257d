export type { Link, LinkHandlers } from './link.js'
export { StreamLink } from './stream-link.js'
export { createMemoryLinkPair } from './memory-link.js'
export { withJoinedWrites } from './joined-writes.js'
