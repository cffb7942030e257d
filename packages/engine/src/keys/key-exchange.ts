import { decodeKeyMessage, encodeKeyMessage, type KeyRequest, type KeyShare, MAX_SHARED_GENERATIONS, type TandemError } from '@tandem/protocol'
import type { ChainKeeper } from '../account/chain-keeper.js'
import type { ThisDevice } from '../account/account-service.js'
import { accountDocId } from '../model/account-doc.js'
import { type Runtime, signaturesOf, type TimerHandle } from '../runtime.js'
import { toHex } from '../util/hex.js'

/** A device lacking a key asks again this long after its last request went unanswered. */
export const KEY_REQUEST_RETRY_MS = 30_000
/** A device answers one requester at most this often (a request is cheap to send, a share costs an X25519 per generation). */
export const KEY_ANSWER_EVERY_MS = 2_000

/**
 * "Unable to decrypt" must not be a state one person's own devices end up in: a device whose
 * chain names a key generation it holds no box of (a link made without it in view) asks the
 * account's other devices, which seal the keys they hold to its listed X25519 key. Requests
 * and shares are signed and go as ephemeral data of the account doc through the relays
 * (protocol: crypto/key-share.ts); only current devices are asked for and answered.
 */
export class KeyExchange {
  private asked = ''
  private retry: TimerHandle | null = null
  private readonly answered = new Map<string, number>()

  constructor(
    private readonly keeper: () => ChainKeeper | null,
    private readonly device: ThisDevice,
    /** Sends signed key messages as ephemeral data of a doc; false when no relay is connected. */
    private readonly send: (docId: string, bytes: Uint8Array) => Promise<boolean>,
    private readonly runtime: Runtime,
    private readonly report: (error: TandemError) => void
  ) {}

  /** Asks for the generations this device lacks, unless it just asked for the same ones. */
  async check(force = false): Promise<void> {
    const keeper = this.keeper()
    if (keeper === null) return
    const missing = keeper.keys.missing().slice(-MAX_SHARED_GENERATIONS)
    const wanted = missing.join(',')
    if (missing.length === 0 || (wanted === this.asked && !force)) return
    const request: KeyRequest = { type: 'key-request', requester: this.device.signing.publicKey, generations: missing }
    const bytes = await encodeKeyMessage(request, keeper.accountId, this.device.signing.secretKey, await signaturesOf(this.runtime))
    if (!(await this.send(accountDocId(keeper.accountId), bytes))) return // no relay yet: asked again when one connects
    this.asked = wanted
    if (this.retry !== null) this.runtime.clearTimeout(this.retry)
    this.retry = this.runtime.setTimeout(() => {
      this.retry = null
      void this.check(true)
    }, KEY_REQUEST_RETRY_MS)
  }

  /** A key message another device sent through a relay. */
  async received(bytes: Uint8Array): Promise<void> {
    const keeper = this.keeper()
    if (keeper === null) return
    try {
      const message = await decodeKeyMessage(bytes, keeper.accountId, await signaturesOf(this.runtime))
      if (message.type === 'key-request') await this.answer(keeper, message)
      else this.take(keeper, message)
    } catch (err) {
      this.report(err as TandemError)
    }
  }

  /** The device left the network: no timer is left; the next relay connection asks again. */
  pause(): void {
    if (this.retry !== null) this.runtime.clearTimeout(this.retry)
    this.retry = null
    this.asked = ''
  }

  private async answer(keeper: ChainKeeper, request: KeyRequest): Promise<void> {
    const hex = toHex(request.requester)
    const requester = keeper.state.devices.get(hex)
    if (requester === undefined || hex === toHex(this.device.signing.publicKey)) return // only current devices, never ourselves
    const now = this.runtime.now()
    if (now - (this.answered.get(hex) ?? Number.NEGATIVE_INFINITY) < KEY_ANSWER_EVERY_MS) return
    const entries = keeper.keys.share(request.generations, requester.agreementKey)
    if (entries.length === 0) return
    this.answered.set(hex, now)
    const share: KeyShare = { type: 'key-share', author: this.device.signing.publicKey, recipient: request.requester, entries }
    await this.send(accountDocId(keeper.accountId), await encodeKeyMessage(share, keeper.accountId, this.device.signing.secretKey, await signaturesOf(this.runtime)))
  }

  private take(keeper: ChainKeeper, share: KeyShare): void {
    if (toHex(share.recipient) !== toHex(this.device.signing.publicKey)) return
    if (!keeper.state.devices.has(toHex(share.author))) return // only what a current device shares
    if (keeper.keys.adopt(share.entries) && keeper.keys.missing().length === 0 && this.retry !== null) {
      this.runtime.clearTimeout(this.retry)
      this.retry = null
    }
  }
}
