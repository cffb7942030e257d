import { InvalidArgumentError } from '../errors.js'
import type { EventHub } from '../core/event-hub.js'
import type { BlobCodec } from '../relay/blob-codec.js'
import type { RelayClient } from '../relay/relay-client.js'
import { isKeyMessage, MAX_EPHEMERAL_BYTES } from '@tandem/protocol'

/**
 * Typing and presence through the relays: sealed end to end like blobs (its own signature
 * domain, so one can never pass for the other), fanned out by each relay to the doc's other
 * subscribers and never stored. What does not open or verify is reported, never shown.
 */
export class EphemeralChannel {
  constructor(
    private readonly codec: BlobCodec,
    private readonly relays: () => Iterable<RelayClient>,
    private readonly events: EventHub,
    private readonly rejected: (docId: string, error: Error) => void
  ) {}

  /** Key requests and shares (signed, not sealed: see KeyExchange) go to this handler. */
  keyMessages: ((bytes: Uint8Array) => void) | null = null

  /** Seals `payload` for `docId` and sends it to every connected relay; false when none is connected. */
  async send(docId: string, payload: Uint8Array): Promise<boolean> {
    if (!(payload instanceof Uint8Array)) throw new InvalidArgumentError('ephemeral data is a Uint8Array')
    const sealed = await this.codec.sealEphemeral(docId, payload)
    if (sealed.byteLength > MAX_EPHEMERAL_BYTES) throw new InvalidArgumentError(`ephemeral data is at most ${MAX_EPHEMERAL_BYTES} bytes sealed (${sealed.byteLength} here)`)
    return this.sendRaw(docId, sealed)
  }

  /** Sends bytes that protect themselves (sealed data, signed key messages) to every connected relay. */
  sendRaw(docId: string, bytes: Uint8Array): boolean {
    let sent = false
    for (const r of this.relays()) if (r.sendEphemeral(docId, bytes)) sent = true
    return sent
  }

  received(docId: string, from: string, sealed: Uint8Array): void {
    if (isKeyMessage(sealed)) {
      this.keyMessages?.(sealed)
      return
    }
    this.codec.openEphemeral(docId, sealed).then(
      payload => {
        this.events.emit({ type: 'ephemeral', docId, from, payload })
      },
      err => {
        this.rejected(docId, err as Error)
      }
    )
  }
}
