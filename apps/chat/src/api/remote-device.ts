import { REMOTE_METHODS, type RemoteMethod, type RemoteReply } from '@tandem/engine/remote'
import { type DeviceApi, DeviceError, type DeviceEvent, type DeviceListener } from './device-api.js'

/** The remote device API's address and token (`?api=<url>&token=<t>`). */
export interface RemoteConfig {
  api: string
  token: string
  /** The EventSource to use (a browser's own by default; a test in Node passes one). */
  EventSource?: typeof EventSource
  fetch?: typeof fetch
}

/**
 * A device in another process (`tandem-device --http`) behind the DeviceApi, on the wire
 * documented in packages/engine/src/remote/remote-api.ts: each call a `POST /rpc` with the
 * bearer token, its typed error rethrown as a DeviceError with the same code; the events one
 * `GET /events` stream (EventSource cannot set headers: the token goes in the query).
 */
export class RemoteDevice {
  readonly #listeners = new Set<DeviceListener>()
  #events: EventSource | null = null

  private constructor(private readonly config: RemoteConfig) {}

  static connect(config: RemoteConfig): DeviceApi & RemoteDevice {
    const device = new RemoteDevice({ ...config, api: config.api.replace(/\/+$/, '') })
    const own = device as unknown as Record<string, unknown>
    for (const method of REMOTE_METHODS) own[method] = (...args: unknown[]) => device.call(method, args)
    return device as DeviceApi & RemoteDevice
  }

  /** One call on the wire: its result, or its typed error as a DeviceError. */
  async call(method: RemoteMethod, args: unknown[]): Promise<unknown> {
    const doFetch = this.config.fetch ?? fetch
    let response: Response
    try {
      response = await doFetch(`${this.config.api}/rpc`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.config.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ method, args })
      })
    } catch (err) {
      throw new DeviceError({ code: 'ERR_DEVICE_UNREACHABLE', message: `the device at ${this.config.api} did not answer: ${String(err)}` })
    }
    let reply: RemoteReply
    try {
      reply = (await response.json()) as RemoteReply
    } catch {
      throw new DeviceError({ code: 'ERR_DEVICE_UNREACHABLE', message: `the device at ${this.config.api} answered ${response.status} with no JSON: is it a Tandem device?` })
    }
    if ('error' in reply) throw new DeviceError(reply.error)
    if (!response.ok) throw new DeviceError({ code: 'ERR_DEVICE_UNREACHABLE', message: `the device answered ${response.status}` })
    return reply.result
  }

  subscribe(listener: DeviceListener): () => void {
    this.#listeners.add(listener)
    if (this.#events === null) {
      const Source = this.config.EventSource ?? EventSource
      const source = new Source(`${this.config.api}/events?token=${encodeURIComponent(this.config.token)}`)
      // EventSource reconnects by itself after a break: the page says the device is away meanwhile
      source.onopen = () => this.emit({ type: 'device-connection', connected: true })
      source.onerror = () => this.emit({ type: 'device-connection', connected: false })
      source.onmessage = (message: MessageEvent<string>) => {
        let event: DeviceEvent
        try {
          event = JSON.parse(message.data) as DeviceEvent
        } catch {
          return // not an event of the wire: nothing to show
        }
        this.emit(event)
      }
      this.#events = source
    }
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0) this.close()
    }
  }

  private emit(event: DeviceEvent): void {
    for (const l of this.#listeners) l(event)
  }

  /** Stops following the device's events. */
  close(): void {
    this.#events?.close()
    this.#events = null
  }
}
