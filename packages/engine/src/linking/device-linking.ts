import type { AttemptLimiterState } from '@tandem/protocol'
import type { AccountService } from '../account/account-service.js'
import type { DeviceManager } from '../account/device-manager.js'
import { EngineStateError } from '../errors.js'
import type { Replication } from '../replication/replication.js'
import type { Runtime } from '../runtime.js'
import type { DocStore } from '../store/doc-store.js'
import type { LinkHost } from './link-host.js'
import type { LinkInvite } from './link-invite.js'
import { type LinkDeviceOptions, LinkService } from './link-service.js'

/** How long showing a code waits for a relay to reserve this device a circuit slot (the code then lists the circuit address). */
const CIRCUIT_WAIT_MS = 10_000
const LIMITER_META = 'link-limiter'

/**
 * The engine's side of linking: the link service on this device's libp2p node, with the
 * account (sign the link that adds a device, or become a device of an account), the
 * passphrase limiter's state in the store, and — for a device with no account — a circuit
 * slot at its relays while it shows a code.
 */
export class DeviceLinking {
  private service: LinkService | null = null

  constructor(
    private readonly account: AccountService,
    private readonly devices: DeviceManager,
    private readonly replication: Replication,
    private readonly store: DocStore,
    private readonly runtime: Runtime,
    private readonly peerId: string
  ) {}

  /** Serves /tandem/link while the engine is online (nothing without a network). */
  async start(): Promise<void> {
    const streams = this.replication.linkStreams()
    if (streams === null || this.service !== null) return
    const host: LinkHost = {
      ...streams,
      runtime: this.runtime,
      peerId: this.peerId,
      describeSelf: () => {
        const { agreementKey, name, platform } = this.account.deviceOffer()
        return { agreementKey, name, platform }
      },
      hasAccount: () => this.account.accountId !== null,
      approveDevice: offer => this.devices.approveDevice(offer),
      acceptGrant: async grant => {
        await this.account.acceptGrant(grant)
      },
      passphraseVerifier: () => this.account.passphraseVerifier(),
      loadLimiterState: async () => {
        const bytes = await this.store.getMeta(LIMITER_META)
        return bytes === undefined ? null : parseLimiterState(bytes)
      },
      saveLimiterState: state => this.store.putMeta(LIMITER_META, new TextEncoder().encode(JSON.stringify(state)))
    }
    this.service = new LinkService(host)
    await this.service.start()
  }

  async stop(): Promise<void> {
    const service = this.service
    this.service = null
    await service?.stop()
  }

  /**
   * New device: a code to show (text and QR). With relays, this device first asks them for
   * a circuit slot, so the code also lists the relay's circuit address (a device that
   * cannot dial this one directly reaches it there).
   */
  async showCode(options: { ttlMs?: number } = {}): Promise<LinkInvite> {
    const service = this.started()
    if (this.account.accountId !== null) return service.showCode(options) // (refuses, typed)
    await this.replication.announceForLinking()
    await this.replication.linkStreams()?.waitForCircuit(CIRCUIT_WAIT_MS)
    return service.showCode(options)
  }

  /** Existing device: links the device showing `text`, once the person confirms the six digits. */
  async linkDevice(text: string, options: LinkDeviceOptions): Promise<{ peerId: string; name: string }> {
    return await this.started().linkDevice(text, options)
  }

  private started(): LinkService {
    if (this.service === null) throw new EngineStateError('linking needs the engine started with its network (createEngine with network options, then start())')
    return this.service
  }
}

/** A saved limiter state, or null when it is unreadable (the limiter then starts clean: the store check already reported the damage). */
function parseLimiterState(bytes: Uint8Array): AttemptLimiterState | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as AttemptLimiterState
    return Number.isSafeInteger(v?.failures) && Number.isSafeInteger(v?.lastFailureAt) ? { failures: v.failures, lastFailureAt: v.lastFailureAt } : null
  } catch {
    return null
  }
}
