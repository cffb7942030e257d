import { decodeSignedDeviceList, encodeSignedDeviceList, signDeviceList, type DeviceListEntry, type SignedDeviceList } from '@tandem/protocol'
import type { AccountIdentity } from '../identity-store.js'
import type { AccountDoc } from '../model/account-doc.js'
import type { DocStore } from '../store/doc-store.js'

/**
 * Keeps this device's copy of the account's signed device list: the devices and
 * revocations the account doc knows, merged with whatever a relay holds, signed
 * anew (next version) whenever this device knows more than the newest list.
 */
export class DeviceListKeeper {
  private list: SignedDeviceList | null = null

  constructor(
    private readonly store: DocStore,
    private readonly identity: AccountIdentity,
    private readonly accountDoc: () => AccountDoc,
    private readonly now: () => number
  ) {}

  async load(): Promise<void> {
    const bytes = await this.store.getMeta('device-list')
    if (bytes !== undefined) this.list = decodeSignedDeviceList(bytes)
  }

  /** The newest list, signed anew first if the account doc knows a device or revocation it lacks. */
  current(): SignedDeviceList {
    return this.reconcile(this.list) ?? this.list!
  }

  /** Adopts a relay's list, or returns a successor of it when this device knows more. */
  merge(remote: SignedDeviceList | null): SignedDeviceList | null {
    // equal versions may differ (two devices signed at once): build on the relay's
    if (remote !== null && (this.list === null || remote.version >= this.list.version)) this.adopt(remote)
    return this.reconcile(this.list)
  }

  isRevoked(peerId: string): boolean {
    return this.list?.revoked.includes(peerId) === true || this.accountDoc().revoked.has(peerId)
  }

  private reconcile(base: SignedDeviceList | null): SignedDeviceList | null {
    const doc = this.accountDoc()
    const devices = new Map<string, DeviceListEntry>()
    for (const d of base?.devices ?? []) devices.set(d.peerId, d)
    for (const d of doc.listDevices()) if (!devices.has(d.peerId)) devices.set(d.peerId, { peerId: d.peerId, name: d.name, createdAt: d.createdAt })
    const cert = this.identity.certificate
    if (!devices.has(cert.peerId)) devices.set(cert.peerId, { peerId: cert.peerId, name: cert.name, createdAt: cert.createdAt })
    const revoked = new Set(base?.revoked ?? [])
    for (const peerId of doc.revoked.keys()) revoked.add(peerId)
    if (base !== null && devices.size === base.devices.length && revoked.size === base.revoked.length) return null
    const list = signDeviceList(this.identity.keys, {
      version: (base?.version ?? 0) + 1,
      devices: [...devices.values()].sort((a, b) => a.createdAt - b.createdAt || (a.peerId < b.peerId ? -1 : 1)),
      revoked: [...revoked].sort(),
      issuedAt: this.now()
    })
    this.adopt(list)
    return list
  }

  private adopt(list: SignedDeviceList): void {
    this.list = list
    void this.store.putMeta('device-list', encodeSignedDeviceList(list))
  }
}
