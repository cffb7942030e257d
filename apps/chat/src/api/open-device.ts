import type { DeviceApi } from './device-api.js'
import { InPageDevice } from './in-page-device.js'
import { RemoteDevice } from './remote-device.js'

/** Which device a page drives, from its URL. */
export type DeviceChoice = { kind: 'in-page'; storeName: string; relays: string[] } | { kind: 'remote'; api: string; token: string }

/**
 * `?api=<url>&token=<t>`: a `tandem-device --http` (RemoteDevice). Otherwise the engine in the
 * page (InPageDevice): `?device=<name>` picks its store (several in one profile never share
 * one), each `?relay=<multiaddr>` a relay; without one, the relays the build was given
 * (`VITE_TANDEM_RELAY`, comma-separated).
 */
export function deviceFromUrl(url: URL): DeviceChoice {
  const api = url.searchParams.get('api')
  if (api !== null) return { kind: 'remote', api, token: url.searchParams.get('token') ?? sessionStorage.getItem(tokenKey(api)) ?? '' }
  const fromBuild = (import.meta.env.VITE_TANDEM_RELAY ?? '').split(',').filter((a: string) => a !== '')
  const relays = url.searchParams.getAll('relay').filter(r => r !== 'none')
  return { kind: 'in-page', storeName: url.searchParams.get('device') ?? 'default', relays: url.searchParams.has('relay') ? relays : fromBuild }
}

export async function openDevice(choice: DeviceChoice): Promise<DeviceApi> {
  if (choice.kind === 'remote') return RemoteDevice.connect(choice)
  return await InPageDevice.open(choice)
}

const tokenKey = (api: string): string => `tandem-token:${api}`

/**
 * The remote device's token leaves the address bar (and so the history and any copy of the
 * URL) once read: it is kept for this tab only, where a reload finds it.
 */
export function hideToken(url: URL, choice: DeviceChoice): void {
  if (choice.kind !== 'remote' || !url.searchParams.has('token')) return
  sessionStorage.setItem(tokenKey(choice.api), choice.token)
  url.searchParams.delete('token')
  history.replaceState(history.state, '', url)
}

/** What a device page's title says it is: its store name, or the remote device's address. */
export function deviceLabel(choice: DeviceChoice): string {
  if (choice.kind === 'in-page') return choice.storeName
  return URL.canParse(choice.api) ? new URL(choice.api).host : choice.api
}
