import type { AccountInfo, AccountService } from '../account/account-service.js'
import type { DeviceManager } from '../account/device-manager.js'
import type { DeviceGrant, DeviceInfo, DeviceOffer } from '../account/devices.js'
import type { DeviceLinking } from '../linking/device-linking.js'
import type { LinkInvite } from '../linking/link-invite.js'
import type { LinkDeviceOptions } from '../linking/link-service.js'

/**
 * The Engine's calls for the account and its devices: creating it, linking devices (by code,
 * or by offer and grant), the recovery phrase and passphrase, the profile, renaming and
 * revoking devices. Each call is checked against a stopped engine and handed to the account
 * services; its own file so the Engine facade stays a map of the API.
 */
export abstract class AccountFacade {
  protected abstract readonly account: AccountService
  protected abstract readonly devices: DeviceManager
  protected abstract readonly linking: DeviceLinking
  protected abstract ensureOpen(): void

  /**
   * Creates a new account with this device as its first device. The result carries the
   * recovery phrase (12 words): show it to the person once; it is stored nowhere. With
   * `recovery: false` there is none (and the account cannot be recovered once every device
   * is lost).
   */
  async createAccount(init: { name: string; recovery?: boolean }): Promise<AccountInfo & { recoveryPhrase: string | null }> {
    this.ensureOpen()
    return await this.account.createAccount(init)
  }

  /** This device's public description, for an existing device of an account to list it ({@link addDevice}). */
  deviceOffer(): DeviceOffer {
    this.ensureOpen()
    return this.account.deviceOffer()
  }

  /**
   * Lists a device in this account (signs and publishes the next link of the device chain)
   * and returns what it needs to join ({@link acceptGrant}). The offer must come from the
   * device itself over a channel that proves it: linking by code does that for people.
   */
  async addDevice(offer: DeviceOffer): Promise<DeviceGrant> {
    this.ensureOpen()
    return await this.devices.addDevice(offer)
  }

  /** Joins the account a grant from one of its devices names; the history then comes from relays and devices. */
  async acceptGrant(grant: DeviceGrant): Promise<AccountInfo> {
    this.ensureOpen()
    return await this.account.acceptGrant(grant)
  }

  /**
   * New device (no account yet, started with a network): a single-use code to show, as a QR
   * code (`invite.qr('terminal' | 'svg')`) and as text (`invite.text`), valid `ttlMs`
   * (default 5 minutes). Its `confirmation` event gives the six digits the person compares
   * with the existing device's; `done` resolves once this device belongs to the account.
   */
  async showLinkCode(options: { ttlMs?: number } = {}): Promise<LinkInvite> {
    this.ensureOpen()
    return await this.linking.showCode(options)
  }

  /**
   * Existing device: links the new device that shows `code`. `confirm` gets the six digits
   * (and the new device's name) to show the person, and resolves true when they match. Then
   * the passphrase is checked on the new device when the account has one, the next chain
   * link lists the new device, and it gets the account. Typed errors: ERR_INVALID_LINK_CODE
   * (a typo, with its place), ERR_LINK_CODE_EXPIRED, ERR_LINK_CODE_USED, ERR_LINK_PROOF,
   * ERR_LINK_DECLINED, ERR_WRONG_PASSPHRASE, ERR_LINK_RATE_LIMITED, ERR_LINK_UNREACHABLE,
   * ERR_DEVICE_LIMIT.
   */
  async linkDevice(code: string, options: LinkDeviceOptions): Promise<{ peerId: string; name: string }> {
    this.ensureOpen()
    return await this.linking.linkDevice(code, options)
  }

  /** A new recovery phrase for the account (the old one stops working); show it to the person once. */
  async setRecoveryPhrase(): Promise<string> {
    this.ensureOpen()
    return await this.account.setRecoveryPhrase()
  }

  /** Two-step verification: linking a new device then also needs this passphrase, typed on it (null removes it). */
  async setPassphrase(passphrase: string | null): Promise<void> {
    this.ensureOpen()
    await this.account.setPassphrase(passphrase)
  }

  async setProfileName(name: string): Promise<void> {
    this.ensureOpen()
    return await this.account.setProfileName(name)
  }

  /** The account's devices, oldest first, with when a relay last served each. */
  listDevices(): DeviceInfo[] {
    this.ensureOpen()
    return this.devices.listDevices()
  }

  async renameDevice(peerId: string, name: string): Promise<void> {
    this.ensureOpen()
    await this.devices.renameDevice(peerId, name)
  }

  /**
   * Revokes a listed device for good: relays refuse it as soon as they hold the new chain
   * link (pushed now), other devices close their sessions with it, and it erases the
   * account's data when it learns (a `revoked` event there).
   */
  async revokeDevice(peerId: string): Promise<void> {
    this.ensureOpen()
    return await this.devices.revokeDevice(peerId)
  }

  /** Revoked peer ids of this account. */
  listRevokedDevices(): string[] {
    this.ensureOpen()
    return this.devices.listRevokedDevices()
  }
}
