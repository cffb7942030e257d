import type { DeviceProcess } from './device-process.js'

/**
 * The grant `existing` signs for `newDevice` (from its offer), for `newDevice` to accept later
 * (`acceptGrant`): how a test has a device join once every other device of the account is off
 * (`newDevice.joinVia(existing)` does both steps at once).
 */
export async function grantFor(existing: DeviceProcess, newDevice: DeviceProcess): Promise<unknown> {
  return await existing.request('add-device', { offer: await newDevice.request('device-offer') })
}

export async function acceptGrant(device: DeviceProcess, grant: unknown, timeoutMs?: number): Promise<void> {
  await device.request('accept-grant', { grant }, timeoutMs)
}
