import type { AccountInfo, Engine, EngineEvent } from '@tandem/engine'
import type { RemoteErrorBody, RemoteMethod } from '@tandem/engine/remote'
import type { Wire } from './wire.js'

/**
 * The one interface the UI is written against: the engine's methods of the remote device API
 * (REMOTE_METHODS, packages/engine/src/remote/remote-api.ts), each a promise of its result in
 * wire shape, plus `subscribe`. Two implementations: InPageDevice (the engine in this page)
 * and RemoteDevice (a `tandem-device --http` over fetch and EventSource). The type is derived
 * from the Engine's own signatures, so a method renamed there breaks the build here.
 */

/** The server's own `info`: who this device is. */
export interface DeviceSummary {
  peerId: string
  accountId: string | null
  account: AccountInfo | null
  multiaddrs: string[]
  /** Relay connections (the in-page device says; a remote one may not, then the UI follows `relay` events). */
  relays?: Array<{ relay: string; connected: boolean; pendingUploads: number }>
}

/** The code a new device shows (`showLinkCode`): its text, its QR symbol as SVG, when it runs out. */
export interface ShownLinkCode {
  text: string
  expiresAt: number
  qr: { svg: string }
}

/** What the UI hears: an engine event in wire shape, or a step of linking a device. */
export type DeviceEvent =
  | Wire<EngineEvent>
  /** Existing device, while `linkDevice` waits: the six digits to compare; answer with `confirmLink`. */
  | { type: 'link-confirm'; confirmation: string; name?: string }
  /** New device, while its code is shown: the six digits the existing device shows too. */
  | { type: 'link-confirmation'; confirmation: string }
  /** A remote device's event stream opened, or broke (the browser tries again by itself): its calls fail meanwhile. */
  | { type: 'device-connection'; connected: boolean }

export type DeviceListener = (event: DeviceEvent) => void

/** Methods that are the server's own (or whose engine form takes what cannot travel: a callback, an object with methods). */
type OwnMethods = 'info' | 'confirmLink' | 'linkDevice' | 'showLinkCode' | 'enterPassphrase' | 'cancelLink'

type Promised<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Wire<Awaited<R>>> : never

export type EngineMethods = { [K in Exclude<RemoteMethod, OwnMethods>]: Promised<Engine[K]> }

export interface DeviceApi extends EngineMethods {
  info(): Promise<DeviceSummary>
  /** Shows a code for an existing device to link this new one (its QR and text); `link-confirmation` gives the digits. */
  showLinkCode(options?: { ttlMs?: number }): Promise<ShownLinkCode>
  /** Links the new device showing `code`: a `link-confirm` event asks the person to compare the digits, `confirmLink` answers. */
  linkDevice(code: string): Promise<{ peerId: string; name: string }>
  confirmLink(ok: boolean): Promise<void>
  /** New device: the account's passphrase, when linking asks for it (two-step verification). */
  enterPassphrase(passphrase: string): Promise<void>
  /** New device: stops showing the code (a linking session under way ends). */
  cancelLink(): Promise<void>
  subscribe(listener: DeviceListener): () => void
}

/** A typed error from a device, local or remote: a sentence and its stable code. */
export class DeviceError extends Error {
  readonly code: string
  constructor(body: RemoteErrorBody) {
    super(body.message)
    this.code = body.code
    this.name = 'DeviceError'
  }
}
