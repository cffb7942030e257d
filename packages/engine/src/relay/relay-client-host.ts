import type { ChainHead, ChainLink, DeviceActivity, SignedMembership, TandemError } from '@tandem/protocol'
import type * as Y from 'yjs'
import type { BlobCodec } from './blob-codec.js'
import type { StateVector } from './state-vector.js'

// What a RelayClient is given (the engine's side of it) and what it tells: the contract its
// parts (reader, uploader) are written against, apart from the client that wires them.

/** Where a doc change came from: ours, a peer's session, or the relay's log. */
export type ChangeSource = 'local' | 'peer' | 'relay'

/** The account's device chain as a relay client sees it. */
export interface RelayChain {
  readonly accountId: string
  head(): ChainHead
  /** What a holder of `head` lacks (the whole chain when `head` is not on ours). */
  linksAfter(head: ChainHead | null): ChainLink[]
  isOnChain(head: ChainHead): boolean
  /** Links the relay holds (confirmed: the relay arbitrates forks while reachable). */
  receive(links: ChainLink[]): Promise<void>
  /** The relay's welcome named this head: it holds that link (and the ones before it). */
  confirmHead(head: ChainHead): Promise<void>
}

export interface RelayClientHost {
  readonly chain: RelayChain
  /** Seals updates into blobs and opens them (the platform's compression). */
  readonly codec: BlobCodec
  /** A relay's report of when it last served each device. */
  deviceActivity(devices: DeviceActivity[]): void
  /** The membership record a chat doc is served under (null for account docs). */
  membership(docId: string): SignedMembership | null
  /** The relay says a record names this account (a chat between accounts, perhaps one this device does not know yet). */
  memberOf(record: SignedMembership): void
  /** Docs to keep in sync with the relay. */
  docIds(): string[]
  open(docId: string): Promise<Y.Doc>
  get(docId: string): Y.Doc | undefined
  /**
   * Why a blob signed by `author` may not be applied to `doc` though it opened (a message in it
   * claims another account than its signer's: ERR_FORGED_AUTHOR), or null. Snapshots are not
   * asked: one device cuts them from what it holds, every member's messages in them.
   */
  refuse?(docId: string, doc: Y.Doc, author: Uint8Array, update: Uint8Array): TandemError | null
  /**
   * The Yjs clients of `update` (cut from `doc` for upload) that wrote another account's
   * messages: this device leaves them out of what it uploads (content goes up only from a
   * device of its author's account, whose readers would refuse it otherwise: ERR_FORGED_AUTHOR).
   */
  foreignWriters?(docId: string, doc: Y.Doc, update: Uint8Array): ReadonlySet<number>
  /** Applies a relay's update to an open doc (and persists it). */
  apply(docId: string, doc: Y.Doc, update: Uint8Array, origin: unknown): void
  /** Messages of ours in this doc are waiting to be reported "sent". */
  awaitsAck(docId: string): boolean
  /** The doc's stored copy was damaged: subscribe with `refetch` (everything, this device's own uploads included). */
  needsRefetch(docId: string): boolean
  /** A `refetch` of the doc caught up: what the relay holds of it is back. */
  refetched(docId: string): void
  /** The last run crashed: subscribe with `resume` (this device's own uploads in the backfill with their bytes). */
  needsResume(docId: string): boolean
  /** A `resume` of the doc caught up. */
  resumed(docId: string): void
}

export interface RelayProgress {
  relay: string
  entriesDone: number
  entriesTotal: number
  bytesDone: number
  bytesTotal: number
  /** Every subscribed doc has reached the relay's head. */
  caughtUp: boolean
}

export interface RelayClientEvents {
  /** The relay acknowledged more of a doc: messages inside `acked` are now "sent". */
  onAcked(docId: string, acked: StateVector): void
  onProgress(progress: RelayProgress): void
  /** The relay became live for every doc we keep there (subscribed and caught up), or stopped being. */
  onLive(relay: string, live: boolean): void
  onConnection(relay: string, connected: boolean, error?: Error): void
  onError(error: TandemError): void
  /** A blob of this relay was not applied: it does not open or verify (or, `waiting`, it awaits a key this device lacks). */
  onRejected(docId: string, error: TandemError, waiting: boolean): void
  onEphemeral(docId: string, from: string, payload: Uint8Array): void
  /** The relay has sent all it holds of a doc (caught up), or refused it. */
  onSettled(relay: string, docId: string): void
}
