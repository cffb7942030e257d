import {
  type ChatHint,
  truncateUtf8,
  DeviceNotListedError,
  encodeChain,
  listChainDevices,
  MAX_DEVICE_NAME_BYTES,
  MAX_PLATFORM_BYTES,
  revokedPeerIds,
  signingKeyFromPeerId
} from '@tandem/protocol'
import type { EventHub } from '../core/event-hub.js'
import { InvalidArgumentError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { AccountPolicy } from './account-service.js'
import type { ChainKeeper } from './chain-keeper.js'
import { DeviceActivity } from './device-activity.js'
import type { DeviceGrant, DeviceInfo, DeviceOffer } from './devices.js'

/** How long a change (a device linked, one revoked) waits for a connected relay to hold its link before going on anyway. */
const RELAY_CONFIRM_WAIT_MS = 10_000

/** What the device manager asks of the account and the sync side. */
export interface DeviceManagerHost {
  /** The account's chain, or a typed error without an account. */
  chain(): ChainKeeper
  readonly accountId: string | null
  /** This device signed a link: publish it to relays and peers now. */
  chainSigned(): void
  /** Whether a relay is connected now (a change is final once it holds it: worth a bounded wait). */
  relayConnected(): boolean
  /** The chats a new device should open first (DeviceGrant.hints). */
  chatHints(): ChatHint[]
}

/**
 * The account's devices as a person manages them: list (with when each was last active),
 * add, rename, revoke, and revoke the ones silent for too long. Each change is a chain link
 * this device signs, published at once; it resolves once a connected relay holds it.
 */
export class DeviceManager {
  private readonly activity: DeviceActivity

  constructor(
    private readonly account: DeviceManagerHost,
    private readonly runtime: Runtime,
    private readonly events: EventHub,
    private readonly self: string,
    private readonly policy: AccountPolicy
  ) {
    this.activity = new DeviceActivity(events, runtime, self)
  }

  /**
   * Lists a new device: signs the next chain link with it (ERR_DEVICE_LIMIT past the limit)
   * and publishes it. Returns what the new device needs to join (`acceptGrant`). The offer
   * must come over a channel that authenticated the device: the linking protocol does that.
   */
  async addDevice(offer: DeviceOffer): Promise<Required<DeviceGrant>> {
    const keeper = this.account.chain()
    const signingKey = typeof offer?.peerId === 'string' ? signingKeyFromPeerId(offer.peerId) : null
    if (signingKey === null) throw new InvalidArgumentError('addDevice takes the offer of a device (deviceOffer()): its peer id is not an Ed25519 peer id')
    if (!(offer.agreementKey instanceof Uint8Array)) throw new InvalidArgumentError('addDevice: the offer has no agreement key')
    await keeper.propose([
      {
        type: 'add-device',
        device: {
          signingKey,
          agreementKey: offer.agreementKey,
          name: truncateUtf8(String(offer.name ?? ''), MAX_DEVICE_NAME_BYTES),
          platform: truncateUtf8(String(offer.platform ?? ''), MAX_PLATFORM_BYTES),
          linkedAt: this.runtime.now()
        }
      }
    ])
    this.account.chainSigned()
    return this.grant(keeper)
  }

  /**
   * `addDevice` for the link service: once signed, waits (bounded) for a relay to hold the
   * link when one is connected — a link a relay refused (a fork it arbitrated otherwise) is
   * rebased first — and hands over the chain as it stands then, which must list the device.
   */
  async approveDevice(offer: DeviceOffer): Promise<Required<DeviceGrant>> {
    await this.addDevice(offer)
    const keeper = this.account.chain()
    await this.untilRelayHolds(keeper)
    if (keeper.status(offer.peerId) !== 'listed') throw new DeviceNotListedError(`device ${offer.peerId} could not be listed: another change to the device list won`)
    return this.grant(keeper)
  }

  private grant(keeper: ChainKeeper): Required<DeviceGrant> {
    return { accountId: keeper.accountId, chain: encodeChain(keeper.links()), keyMaterial: new Uint8Array(0), hints: this.account.chatHints() }
  }

  /** The account's current devices, oldest first. */
  listDevices(): DeviceInfo[] {
    return listChainDevices(this.account.chain().state)
      .map(d => ({
        peerId: d.peerId,
        name: d.name,
        platform: d.platform,
        linkedAt: d.linkedAt,
        lastActiveAt: this.activity.lastActiveAt(d.peerId),
        thisDevice: d.peerId === this.self
      }))
      .sort((a, b) => a.linkedAt - b.linkedAt || (a.peerId < b.peerId ? -1 : 1))
  }

  /** Peer ids revoked from this account. */
  listRevokedDevices(): string[] {
    return revokedPeerIds(this.account.chain().state)
  }

  async renameDevice(peerId: string, name: string): Promise<void> {
    if (typeof name !== 'string') throw new InvalidArgumentError('a device name must be a string')
    if (new TextEncoder().encode(name).length > MAX_DEVICE_NAME_BYTES) throw new InvalidArgumentError(`a device name is at most ${MAX_DEVICE_NAME_BYTES} bytes`)
    await this.change({ type: 'rename-device', peerId: this.listedPeerId(peerId, 'renameDevice'), name })
  }

  /**
   * Revokes a device for good: the next chain link drops it, relays refuse it as soon as
   * they hold that link (pushed now), the other devices close their sessions with it, and it
   * erases the account's data when it learns. Only a device listed now can be revoked.
   */
  async revokeDevice(peerId: string): Promise<void> {
    const id = this.listedPeerId(peerId, 'revokeDevice')
    if (id === this.self) throw new InvalidArgumentError('a device cannot revoke itself: revoke it from another device of the account')
    await this.change({ type: 'revoke-device', peerId: id })
  }

  /** A relay's report of when it last served each device; a device silent for too long is revoked here (see AccountPolicy). */
  deviceActivity(devices: ReadonlyArray<{ peerId: string; lastSeenAt: number }>): void {
    if (this.activity.report(devices)) this.events.emit({ type: 'account' })
    void this.revokeInactive().catch(err => {
      this.events.emit({ type: 'error', error: err as Error })
    })
  }

  /**
   * Revokes, in one link, every other device silent for `revokeInactiveAfterMs` by the
   * relay's clock and this device's (DeviceActivity.silent): a lost phone nobody revoked
   * stops being able to read the account. Run when a relay reports activity, so this device
   * is online and knows what the relay knows.
   */
  private async revokeInactive(): Promise<void> {
    const limit = this.policy.revokeInactiveAfterMs
    const keeper = this.account.accountId === null ? null : this.account.chain()
    if (limit === null || keeper === null) return
    const stale = this.activity.silent(listChainDevices(keeper.state), limit)
    if (stale.length === 0) return
    await keeper.propose(stale.map(d => ({ type: 'revoke-device', peerId: d.peerId })))
    this.account.chainSigned()
  }

  /** Signs and publishes a change; resolves once a connected relay holds it (bounded), so a revoke is final when it returns. */
  private async change(intent: Parameters<ChainKeeper['propose']>[0][number]): Promise<void> {
    const keeper = this.account.chain()
    await keeper.propose([intent])
    this.account.chainSigned()
    await this.untilRelayHolds(keeper)
  }

  private async untilRelayHolds(keeper: ChainKeeper): Promise<void> {
    if (this.account.relayConnected()) await keeper.whenHeadConfirmed(RELAY_CONFIRM_WAIT_MS, this.runtime)
  }

  /** The peer id of a device listed now; ERR_INVALID_ARGUMENT for anything else (a typo is never recorded). */
  private listedPeerId(peerId: string, what: string): string {
    const keeper = this.account.chain()
    if (typeof peerId !== 'string') throw new InvalidArgumentError(`${what} takes a peer id`)
    const status = keeper.status(peerId)
    if (status === 'revoked') throw new InvalidArgumentError(`device ${peerId} is already revoked`)
    if (status !== 'listed') throw new InvalidArgumentError(`no device ${JSON.stringify(peerId.slice(0, 64))} in this account's device list`)
    return peerId
  }
}
