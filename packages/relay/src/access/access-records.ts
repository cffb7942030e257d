import type { ChainHead, ChainLink, DeviceActivity, SignedMembership } from '@tandem/protocol'

/**
 * Where the relay keeps the signed records that decide who may read and write what: each
 * account's device chain and each chat doc's newest membership record, and beside them
 * when it last served each device. It stores what it is given; checking signatures and
 * that a link or record may follow the one held is `AccessControl`'s. The one promise
 * about content is the chain's compare-and-set: an append lands only on the head it was
 * checked against, so two relay processes sharing a backend cannot both extend one link.
 * `LevelAccessRecords` is one implementation; every implementation must pass the cases in
 * `src/testing/access-records-contract.ts`.
 */
export interface AccessRecords {
  /** The account's stored chain, genesis first, or null when none is stored. */
  chain(accountId: string): Promise<ChainLink[] | null>
  /**
   * Appends `links` (consecutive, genesis first for a new chain) to the account's chain if
   * its stored head is `expectedHead` now (null: no chain stored yet). Resolves true once
   * they are durable, false (nothing stored) when the head is another. Appends to one
   * account apply one at a time; a crash part-way leaves a prefix of the links, never a gap.
   */
  appendLinks(accountId: string, links: readonly ChainLink[], expectedHead: ChainHead | null): Promise<boolean>
  /** The doc's stored membership record, or null. */
  membership(docId: string): Promise<SignedMembership | null>
  /**
   * Replaces the membership record of `record.docId`; resolves once it is durable. `dropped`:
   * the accounts the record before it named and this one does not — the record is kept for
   * each of them too (see removalsOf).
   */
  putMembership(record: SignedMembership, dropped?: readonly string[]): Promise<void>
  /**
   * The docs whose stored record names `accountId` among its members now (a record that
   * dropped it no longer counts), in no set order: how a member account's devices learn of
   * chats other accounts made (the `member-of` frame).
   */
  membershipsNaming(accountId: string): Promise<string[]>
  /**
   * The newest record that removed `accountId` from each chat it was removed from (in no set
   * order; one of a chat whose record names it again is among them too: the caller skips it).
   * How a removed account's devices learn of it: the record that removes it no longer names it.
   */
  removalsOf(accountId: string): Promise<SignedMembership[]>
  /** When the relay last served each device of the account, as last put ([] when never). */
  deviceActivity(accountId: string): Promise<DeviceActivity[]>
  /** Replaces the account's device activity; resolves once it is durable. */
  putDeviceActivity(accountId: string, devices: readonly DeviceActivity[]): Promise<void>
  /** Resolves once every put and append made before it is stored (or refused); the store takes none after it. */
  close(): Promise<void>
}
