import { type DeviceGrant, type DeviceOffer, InvalidArgumentError } from '@tandem/engine'

// Adding a device to an account on this page: the new device shows its offer as text, a
// device of the account takes it in ("Add another device") and shows the grant, the new
// device takes the grant in (engine.addDevice / acceptGrant). The person carries both texts
// between the tabs (copy and paste): that is the authenticated channel the offer needs.
// Linking by a code (`link`) will replace this.

const OFFER = 'tandem-offer:'
const GRANT = 'tandem-grant:'

const base64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes))
const bytes = (text: unknown, what: string): Uint8Array => {
  if (typeof text !== 'string') throw new InvalidArgumentError(`${what} is missing`)
  try {
    return Uint8Array.from(atob(text), c => c.charCodeAt(0))
  } catch {
    throw new InvalidArgumentError(`${what} is not base64`)
  }
}
const string = (value: unknown, what: string): string => {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} is missing`)
  return value
}

function parse(text: string, prefix: string, what: string): Record<string, unknown> {
  const t = text.trim()
  if (!t.startsWith(prefix)) throw new InvalidArgumentError(`this is not ${what} (it starts with "${prefix}")`)
  let value: unknown
  try {
    value = JSON.parse(t.slice(prefix.length))
  } catch {
    throw new InvalidArgumentError(`${what} is damaged: copy all of it again`)
  }
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(`${what} is damaged: copy all of it again`)
  return value as Record<string, unknown>
}

export const offerToText = (o: DeviceOffer): string => OFFER + JSON.stringify({ peerId: o.peerId, agreementKey: base64(o.agreementKey), name: o.name, platform: o.platform })

export function offerFromText(text: string): DeviceOffer {
  const o = parse(text, OFFER, 'a device text')
  return {
    peerId: string(o.peerId, 'the device id'),
    agreementKey: bytes(o.agreementKey, 'the device key'),
    name: string(o.name, 'the device name'),
    platform: string(o.platform, 'the platform')
  }
}

export const grantToText = (g: DeviceGrant): string => GRANT + JSON.stringify({ accountId: g.accountId, chain: base64(g.chain), keyMaterial: base64(g.keyMaterial) })

export function grantFromText(text: string): DeviceGrant {
  const g = parse(text, GRANT, 'a grant')
  return { accountId: string(g.accountId, 'the account id'), chain: bytes(g.chain, 'the device list'), keyMaterial: bytes(g.keyMaterial, 'the key material') }
}
