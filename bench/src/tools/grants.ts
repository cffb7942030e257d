// How a fresh bench device joins an account: a device of the account lists it (addDevice on
// its offer) and hands it the grant (issue 13: there are no shared account credentials any
// more). While the account's first device runs, it signs (add-device over --control); once it
// has stopped (a history bench restarts the relay alone), its store is opened here, offline,
// to sign — so no device of the account is online while the fresh one syncs. A device listed
// for one run is revoked after it (an account lists at most 10 devices).
import '@tandem/engine/polyfill'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createEngine, type DeviceGrant, type DeviceOffer } from '@tandem/engine'
import { type JsonProcess, script } from '../proc.js'

/** A device of the account that lists new ones. */
export interface Granter {
  grant(offer: DeviceOffer): Promise<DeviceGrant>
  /** Revokes a device listed for one run; undefined when the granter keeps the devices it listed. */
  revoke?: (peerId: string) => Promise<void>
}

/** --control's JSON forms (apps/device/src/grant-json.ts): byte fields as base64. */
export type OfferJson = { peerId: string; agreementKey: string; name: string; platform: string }
export type GrantJson = { accountId: string; chain: string; keyMaterial: string; hints?: DeviceGrant['hints'] }

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')
const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'))

export const offerFromJson = (o: OfferJson): DeviceOffer => ({ peerId: o.peerId, agreementKey: unb64(o.agreementKey), name: o.name, platform: o.platform })
export const offerToJson = (o: DeviceOffer): OfferJson => ({ peerId: o.peerId, agreementKey: b64(o.agreementKey), name: o.name, platform: o.platform })
export const grantToJson = (g: DeviceGrant): GrantJson => ({ accountId: g.accountId, chain: b64(g.chain), keyMaterial: b64(g.keyMaterial), hints: g.hints })
export const grantFromJson = (g: GrantJson): DeviceGrant => ({ accountId: g.accountId, chain: unb64(g.chain), keyMaterial: unb64(g.keyMaterial), hints: g.hints })

/** A running tandem-device of the account signs. */
export const processGranter = (proc: JsonProcess): Granter => ({
  grant: async offer => grantFromJson(await proc.request<GrantJson>('add-device', { offer: offerToJson(offer) }))
})

/**
 * A stopped device's store signs, opened in this process without a network (its data dir
 * must not be open elsewhere). The relay learns the new link from the new device itself.
 */
export function storeGranter(dataDir: string): Granter {
  const withEngine = async <T>(fn: (e: Awaited<ReturnType<typeof createEngine>>) => Promise<T>): Promise<T> => {
    const engine = await createEngine({ dataDir, network: false, deviceName: 'bench-granter' })
    try {
      return await fn(engine)
    } finally {
      await engine.stop()
    }
  }
  return {
    grant: offer => withEngine(e => e.addDevice(offer)),
    revoke: peerId => withEngine(e => e.revokeDevice(peerId))
  }
}

/**
 * storeGranter with another build's engine (tandem-plain: the engine of commit 4e8b2c9), each
 * grant or revocation in a process of its own (tools/store-grant.ts), outside the clock.
 */
export function buildStoreGranter(engineDir: string, dataDir: string): Granter {
  const run = async (args: string[]): Promise<unknown> => {
    const { stdout } = await promisify(execFile)(process.execPath, [script('tools/store-grant.js'), '--engine', engineDir, '--data', dataDir, ...args], { maxBuffer: 64 * 2 ** 20 })
    return JSON.parse(stdout.trim().split('\n').at(-1)!)
  }
  return {
    grant: async offer => grantFromJson((await run(['grant', JSON.stringify(offerToJson(offer))])) as GrantJson),
    revoke: async peerId => {
      await run(['revoke', peerId])
    }
  }
}
