import type { DeviceGrant, DeviceOffer } from '@tandem/engine'

// A device offer and a grant as JSON for --control mode: byte fields as base64. The offer is
// public (keys and a name); the grant holds the account's chain and, with end-to-end
// encryption, key material sealed to the new device only. How a script links two devices
// without a person: device-offer on the new one, add-device on an existing one, accept-grant.

const bad = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_BAD_COMMAND' })
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

function bytes(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string') throw bad(`${what} must be a base64 string`)
  return new Uint8Array(Buffer.from(value, 'base64'))
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw bad(`${what} must be a string`)
  return value
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${what} must be an object`)
  return value as Record<string, unknown>
}

export const offerToJson = (o: DeviceOffer) => ({ peerId: o.peerId, agreementKey: b64(o.agreementKey), name: o.name, platform: o.platform })

export function offerFromJson(value: unknown): DeviceOffer {
  const o = object(value, 'offer')
  return {
    peerId: text(o.peerId, 'offer.peerId'),
    agreementKey: bytes(o.agreementKey, 'offer.agreementKey'),
    name: text(o.name, 'offer.name'),
    platform: text(o.platform, 'offer.platform')
  }
}

export const grantToJson = (g: DeviceGrant) => ({ accountId: g.accountId, chain: b64(g.chain), keyMaterial: b64(g.keyMaterial), hints: g.hints })

/** A grant from JSON; its `hints` (chats to open first) are passed on as they are, for acceptGrant to check. */
export function grantFromJson(value: unknown): DeviceGrant {
  const g = object(value, 'grant')
  return {
    accountId: text(g.accountId, 'grant.accountId'),
    chain: bytes(g.chain, 'grant.chain'),
    keyMaterial: bytes(g.keyMaterial, 'grant.keyMaterial'),
    hints: g.hints as DeviceGrant['hints']
  }
}
