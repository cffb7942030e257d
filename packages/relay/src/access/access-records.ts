import type { SignedDeviceList, SignedMembership } from '@tandem/protocol'

/**
 * Where the relay keeps the signed records that decide who may read and write what: each
 * account's newest device list and each chat doc's newest membership record. It stores
 * what it is given; checking signatures and that a record succeeds the one held is
 * `AccessControl`'s. `LevelAccessRecords` is one implementation; every implementation
 * must pass the cases in `src/testing/access-records-contract.ts`.
 */
export interface AccessRecords {
  /** The account's stored device list, or null. */
  deviceList(accountId: string): Promise<SignedDeviceList | null>
  /** Replaces the account's device list; resolves once it is durable. */
  putDeviceList(accountId: string, list: SignedDeviceList): Promise<void>
  /** The doc's stored membership record, or null. */
  membership(docId: string): Promise<SignedMembership | null>
  /** Replaces the membership record of `record.docId`; resolves once it is durable. */
  putMembership(record: SignedMembership): Promise<void>
  /** Resolves once every put made before it is stored; the store takes no puts after it. */
  close(): Promise<void>
}
