// The bench's browser device: the engine's browser assembly in a page, driven from the bench
// through `window.benchDevice`. Its clock is the page's own, so the bench measures the device,
// not the DevTools protocol.
import { createEngine, type DeviceGrant, type DeviceOffer, type Engine } from '@tandem/engine'

let engine: Engine | null = null

const device = {
  /** Opens and starts a device with a fresh store name (a new device), connected to `relay`. */
  async start(storeName: string, relay: string): Promise<void> {
    engine = await createEngine({ storeName, deviceName: 'bench-browser', network: { relays: [relay], allowLoopbackWs: true } })
    await engine.start()
  },
  /** This device's offer, byte fields as arrays (what page.evaluate carries): the bench has a device of the account list it. */
  offer(): Omit<DeviceOffer, 'agreementKey'> & { agreementKey: number[] } {
    const o = engine!.deviceOffer()
    return { ...o, agreementKey: [...o.agreementKey] }
  },
  /** Joins the account by the grant and resolves once chat `chatId` holds `n` messages: ms from join to all. */
  async join(grant: Omit<DeviceGrant, 'chain' | 'keyMaterial'> & { chain: number[]; keyMaterial: number[] }, chatId: string, n: number, timeoutMs: number): Promise<number> {
    const e = engine!
    const t0 = performance.now()
    const all = new Promise<void>((resolve, reject) => {
      const count = (): number => {
        try {
          return e.messageCount(chatId)
        } catch {
          return 0
        }
      }
      const timer = setTimeout(() => {
        off()
        reject(new Error(`only ${count()}/${n} messages after ${timeoutMs} ms`))
      }, timeoutMs)
      const off = e.subscribe(() => {
        if (count() >= n) {
          clearTimeout(timer)
          off()
          resolve()
        }
      })
    })
    await e.acceptGrant({ accountId: grant.accountId, chain: new Uint8Array(grant.chain), keyMaterial: new Uint8Array(grant.keyMaterial) })
    await all
    return performance.now() - t0
  },
  async stop(): Promise<void> {
    await engine?.stop()
    engine = null
  }
}

;(window as unknown as { benchDevice: typeof device }).benchDevice = device
document.body.dataset.ready = 'true'
