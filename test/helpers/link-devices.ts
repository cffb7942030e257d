import type { Engine } from '@tandem/engine'

/**
 * Lists `newDevice` in `existing`'s account and has it join: the programmatic form of
 * linking by code (the offer and the grant are what the /tandem/link session carries).
 */
export async function linkDevices(existing: Pick<Engine, 'addDevice'>, newDevice: Pick<Engine, 'acceptGrant' | 'deviceOffer'>): Promise<void> {
  await newDevice.acceptGrant(await existing.addDevice(newDevice.deviceOffer()))
}
