import type { DeviceInfo } from '../account/devices.js'

/**
 * Whether this device dials `peerId` through its relays' circuits: only the newer of two
 * devices does (by linkedAt, then peer id — both read the same chain), and Replication waits
 * until this device's relays have sent what they hold (RelayFirst). A device catching up gets
 * its history from the relay (history comes once), and both dialing cost two Noise handshakes
 * and sessions of which one was dropped: measured, a new device's catch-up of 100,000
 * messages took 1.14–1.28× as long with one other device online and 1.26–1.39× with three,
 * all on one machine's two cores (0.94–1.09× and 1.01–1.04× after). The older device reaches
 * a newer one that restarted through that one's dial; their data meanwhile flows through the
 * relay, which fans out every write to both.
 */
export function dialsViaRelays(devices: readonly DeviceInfo[], peerId: string): boolean {
  const self = devices.find(d => d.thisDevice)
  const peer = devices.find(d => d.peerId === peerId)
  return self === undefined || peer === undefined || isNewer(self, peer)
}

/** Whether device `a` was linked after `b` (ties: the higher peer id). */
function isNewer(a: { linkedAt: number; peerId: string }, b: { linkedAt: number; peerId: string }): boolean {
  return a.linkedAt !== b.linkedAt ? a.linkedAt > b.linkedAt : a.peerId > b.peerId
}
