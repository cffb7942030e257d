import { decodeSignedDeviceList, decodeSignedMembership, encodeSignedDeviceList, encodeSignedMembership, type SignedDeviceList, type SignedMembership } from '@tandem/protocol'
import { WriteQueue, type KeyValueStore } from '@tandem/storage'
import type { AccessRecords } from './access-records.js'

// Keys (beside the history's, in the same level store; see history/keys.ts):
//   rec!device-list!<accountId>   encodeSignedDeviceList
//   rec!membership!<docId>        encodeSignedMembership
// The layout HistoryStore wrote them in before they moved here, so a relay's data dir opens as it was.
const recordKey = (kind: 'device-list' | 'membership', id: string): string => `rec!${kind}!${id}`

/**
 * Access records in a level store, under their own `rec!` keys: the relay keeps them in
 * its history's database. They are few and change rarely, so nothing is cached here
 * (`AccessControl` keeps what it read).
 */
export class LevelAccessRecords implements AccessRecords {
  private readonly queue: WriteQueue
  private closed = false

  private constructor(
    private readonly db: KeyValueStore,
    sync: boolean
  ) {
    this.queue = new WriteQueue(db, sync)
  }

  /**
   * Opens `db` (a no-op if the history opened it already). `sync` (default true) fsyncs
   * each put. `close()` leaves `db` open: whoever shares it (the history) closes it, after.
   */
  static async open(db: KeyValueStore, options: { sync?: boolean } = {}): Promise<LevelAccessRecords> {
    await db.open()
    return new LevelAccessRecords(db, options.sync ?? true)
  }

  async deviceList(accountId: string): Promise<SignedDeviceList | null> {
    const bytes = await this.db.get(recordKey('device-list', accountId))
    return bytes === undefined ? null : decodeSignedDeviceList(bytes)
  }

  putDeviceList(accountId: string, list: SignedDeviceList): Promise<void> {
    return this.put(recordKey('device-list', accountId), encodeSignedDeviceList(list))
  }

  async membership(docId: string): Promise<SignedMembership | null> {
    const bytes = await this.db.get(recordKey('membership', docId))
    return bytes === undefined ? null : decodeSignedMembership(bytes)
  }

  putMembership(record: SignedMembership): Promise<void> {
    return this.put(recordKey('membership', record.docId), encodeSignedMembership(record))
  }

  async close(): Promise<void> {
    this.closed = true
    await this.queue.drain()
  }

  private put(key: string, value: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`access records are closed: ${key} was not stored`))
    return this.queue.enqueue([{ type: 'put', key, value }])
  }
}
