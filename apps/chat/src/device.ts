import { createEngine, type Engine } from '@tandem/engine'

/** Where this page's device comes from: the URL says which device of the profile and which relays. */
export interface DeviceConfig {
  /** The device's name in this browser profile: its own keys and IndexedDB store. */
  storeName: string
  relays: string[]
}

/**
 * `?device=<name>` picks the device (several in one profile never share a store), and each
 * `?relay=<multiaddr>` a relay; without one, the relay the build was given
 * (`VITE_TANDEM_RELAY`, comma-separated).
 */
export function configFromUrl(url: URL): DeviceConfig {
  const fromBuild = (import.meta.env.VITE_TANDEM_RELAY ?? '').split(',').filter((a: string) => a !== '')
  const relays = url.searchParams.getAll('relay')
  return { storeName: url.searchParams.get('device') ?? 'default', relays: relays.length > 0 ? relays : fromBuild }
}

/** Opens this page's device and starts it. A page served from loopback may dial a loopback `ws://` relay. */
export async function openDevice(config: DeviceConfig): Promise<Engine> {
  // best effort: without it the browser may evict the store under storage pressure
  await navigator.storage?.persist?.().catch(() => false)
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname)
  const engine = await createEngine({
    storeName: config.storeName,
    network: { relays: config.relays, allowLoopbackWs: loopback }
  })
  await engine.start()
  return engine
}
