import { createEngine, type Engine, EngineStateError, type LinkConfirmation, type LinkInvite } from '@tandem/engine'
import { REMOTE_METHODS } from '@tandem/engine/remote'
import { type DeviceApi, type DeviceEvent, type DeviceListener, type DeviceSummary, type ShownLinkCode, DeviceError } from './device-api.js'
import { errorBody, toWire } from './wire.js'

/** Where the page's own device lives: its name (its IndexedDB store) and its relays. */
export interface InPageConfig {
  storeName: string
  relays: string[]
}

/**
 * The engine running in this page (the browser assembly: IndexedDB, WebSockets to the relay),
 * behind the DeviceApi: each call a promise, every result and event in wire shape, every
 * error a DeviceError with the engine's code. Linking's confirm callback becomes the
 * `link-confirm` event and `confirmLink`, as on the remote wire.
 */
export class InPageDevice {
  readonly #listeners = new Set<DeviceListener>()
  /** The person's answer to the digits of the link in progress (one at a time). */
  #answer: ((ok: boolean) => void) | null = null
  #stopCode: (() => void) | null = null
  #invite: LinkInvite | null = null

  private constructor(readonly engine: Engine) {
    engine.subscribe(event => {
      this.emit(toWire(event) as DeviceEvent)
    })
  }

  /** Opens the page's device and starts it. A page served from loopback may dial a loopback `ws://` relay. */
  static async open(config: InPageConfig): Promise<DeviceApi & InPageDevice> {
    // best effort: without it the browser may evict the store under storage pressure
    await navigator.storage?.persist?.().catch(() => false)
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname)
    // a device named in the URL goes by that name in its account's device list (else the browser's: "Chromium on Linux")
    const deviceName = config.storeName === 'default' ? {} : { deviceName: config.storeName }
    const engine = await createEngine({ storeName: config.storeName, ...deviceName, network: { relays: config.relays, allowLoopbackWs: loopback } }).catch(rethrow)
    await engine.start().catch(rethrow)
    const device = new InPageDevice(engine)
    const engineCall = engine as unknown as Record<string, (...args: unknown[]) => unknown>
    const own = device as unknown as Record<string, unknown>
    for (const method of REMOTE_METHODS) {
      if (method in own) continue
      own[method] = async (...args: unknown[]) => {
        try {
          return toWire(await engineCall[method]!.apply(engine, args))
        } catch (err) {
          rethrow(err)
        }
      }
    }
    return device as DeviceApi & InPageDevice
  }

  subscribe(listener: DeviceListener): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  private emit(event: DeviceEvent): void {
    for (const listener of this.#listeners) listener(event)
  }

  async info(): Promise<DeviceSummary> {
    const e = this.engine
    return { peerId: e.peerId, accountId: e.accountId, account: e.accountInfo, multiaddrs: e.multiaddrs(), relays: e.relayStatus() }
  }

  async showLinkCode(options: { ttlMs?: number } = {}): Promise<ShownLinkCode> {
    this.#stopCode?.()
    const invite = await this.engine.showLinkCode(options).catch(rethrow)
    this.#invite = invite
    this.#stopCode = invite.on('confirmation', confirmation => {
      this.emit({ type: 'link-confirmation', confirmation })
    })
    // the account event tells the page it joined; a failed link is the page's to show, unless
    // the person created an account meanwhile (the code is void then, and nobody waits for it)
    invite.done.catch(err => {
      if (this.engine.accountId === null) this.emit({ type: 'error', error: errorBody(err) })
    })
    return { text: invite.text, expiresAt: invite.expiresAt, qr: { svg: invite.qr('svg') } }
  }

  async enterPassphrase(passphrase: string): Promise<void> {
    if (this.#invite === null) throw new EngineStateError('no link code is shown: call showLinkCode first')
    await this.#invite.enterPassphrase(passphrase).catch(rethrow)
  }

  async cancelLink(): Promise<void> {
    this.#invite?.cancel()
  }

  async linkDevice(code: string): Promise<{ peerId: string; name: string }> {
    const confirm = (info: LinkConfirmation): Promise<boolean> =>
      new Promise(resolve => {
        this.#answer = resolve
        info.signal.addEventListener('abort', () => {
          resolve(false)
        })
        this.emit({ type: 'link-confirm', confirmation: info.confirmation, name: info.name })
      })
    try {
      return await this.engine.linkDevice(code, { confirm })
    } catch (err) {
      rethrow(err)
    } finally {
      this.#answer = null
    }
  }

  async confirmLink(ok: boolean): Promise<void> {
    if (this.#answer === null) throw new DeviceError(errorBody(new EngineStateError('no link is waiting for a confirmation')))
    this.#answer(ok)
    this.#answer = null
  }

  async stop(): Promise<void> {
    await this.engine.stop()
  }
}

/** The engine's typed errors reach the UI as DeviceErrors (its code and sentence), as a remote device's do. */
function rethrow(err: unknown): never {
  throw new DeviceError(errorBody(err))
}
