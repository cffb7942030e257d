import {
  StaleDeviceListError,
  StaleMembershipError,
  checkDeviceListSuccessor,
  checkMembershipSuccessor,
  deviceStatus,
  encodeSignedMembership,
  verifyDeviceList,
  verifyMembership,
  type SignedDeviceList,
  type SignedMembership
} from '@tandem/protocol'
import type { AccessRecords } from '../access/access-records.js'

/**
 * Who may read and write what. The relay keeps each account's newest signed
 * device list (versions only move forward; revocation is one-way) and each chat
 * doc's newest signed membership record, in its `AccessRecords`, and a copy of
 * each it read in memory; it trusts only signatures.
 */
export class AccessControl {
  private readonly lists = new Map<string, SignedDeviceList | null>()
  private readonly memberships = new Map<string, SignedMembership | null>()

  constructor(private readonly records: AccessRecords) {}

  async deviceList(accountId: string): Promise<SignedDeviceList | null> {
    if (this.lists.has(accountId)) return this.lists.get(accountId)!
    const list = await this.records.deviceList(accountId)
    // a concurrent load or offer filled the cache meanwhile: that entry is at least as new
    if (this.lists.has(accountId)) return this.lists.get(accountId)!
    this.lists.set(accountId, list)
    return list
  }

  /**
   * Stores a device list if it is a valid successor of the one held. Returns
   * false for a stale one (older or equal version); throws on a bad signature
   * or an attempt to un-revoke a device.
   */
  async offerDeviceList(accountId: string, list: SignedDeviceList): Promise<boolean> {
    verifyDeviceList(list, { accountId })
    await this.deviceList(accountId)
    // read the cache after the await: from here to `set` nothing yields, so concurrent offers cannot interleave
    const current = this.lists.get(accountId) ?? null
    if (current !== null && list.version <= current.version) return false
    try {
      checkDeviceListSuccessor(current, list)
    } catch (err) {
      // a "newer" list that un-revokes a device is ignored like a stale one: revocation is one-way
      if (err instanceof StaleDeviceListError) return false
      throw err
    }
    this.lists.set(accountId, list)
    await this.records.putDeviceList(accountId, list)
    return true
  }

  async deviceStatus(accountId: string, peerId: string): Promise<'listed' | 'revoked' | 'unlisted'> {
    const list = await this.deviceList(accountId)
    return list === null ? 'unlisted' : deviceStatus(list, peerId)
  }

  async membership(docId: string): Promise<SignedMembership | null> {
    if (this.memberships.has(docId)) return this.memberships.get(docId)!
    const record = await this.records.membership(docId)
    if (this.memberships.has(docId)) return this.memberships.get(docId)! // see deviceList
    this.memberships.set(docId, record)
    return record
  }

  /** Stores a membership record if valid and a successor of the one held; stale → typed error. */
  async offerMembership(record: SignedMembership): Promise<void> {
    verifyMembership(record)
    await this.membership(record.docId)
    const current = this.memberships.get(record.docId) ?? null // see offerDeviceList
    if (current !== null && sameBytes(encodeSignedMembership(current), encodeSignedMembership(record))) return
    if (current !== null && record.version <= current.version) {
      throw new StaleMembershipError(`membership of ${record.docId} is at version ${current.version}`)
    }
    checkMembershipSuccessor(current, record)
    this.memberships.set(record.docId, record)
    await this.records.putMembership(record)
  }

  /** Account docs: the account's own devices. Chat docs: devices of member accounts. */
  async canAccess(docId: string, accountId: string): Promise<boolean> {
    if (docId.startsWith('account:')) return docId === `account:${accountId}`
    if (docId.startsWith('chat:')) return (await this.membership(docId))?.members.includes(accountId) ?? false
    return false
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((x, i) => x === b[i])
