import { InvalidArgumentError } from '../errors.js'
import type { EventHub } from '../core/event-hub.js'
import type { BlobCodec } from '../relay/blob-codec.js'
import type { RelayClient } from '../relay/relay-client.js'
import { isKeyMessage, MAX_EPHEMERAL_BYTES, MalformedFrameError } from '@tandem/protocol'

/**
 * What an ephemeral message carries, its first byte inside the seal: the application's own
 * bytes (`sendEphemeral`), or a y-protocols awareness update (typing and presence, see
 * presence/). Nobody but the account's devices reads the byte: it is sealed with the rest.
 */
export const EphemeralKind = { app: 0, awareness: 1 } as const

/** How many messages are remembered to drop the second copy of one that came both ways (the LAN and a relay). */
const RECENT = 256

/**
 * Typing and presence through the relays and over the LAN (`/tandem/sync`'s `ephemeral`
 * frame): sealed end to end like blobs (its own signature domain, so one can never pass for
 * the other), fanned out by each relay to the doc's other subscribers and sent to each device
 * with a sync session, never stored. The same sealed bytes go every way; a copy that arrives
 * a second way is dropped before it is opened. What does not open or verify is reported, never shown.
 */
export class EphemeralChannel {
  /** The tails (signatures) of the last sealed messages taken in, to drop the copy that comes the other way. */
  private readonly recent = new Set<string>()

  constructor(
    private readonly codec: BlobCodec,
    /** The relays a doc goes to (see DocRoutes). */
    private readonly relays: (docId: string) => Iterable<RelayClient>,
    private readonly events: EventHub,
    private readonly rejected: (docId: string, error: Error) => void
  ) {}

  /** Key requests and shares (signed, not sealed: see KeyExchange) go to this handler. */
  keyMessages: ((bytes: Uint8Array) => void) | null = null
  /** Awareness updates (typing, presence) go to this handler. */
  awareness: ((docId: string, from: string, update: Uint8Array) => void) | null = null
  /** Sends sealed bytes to the devices with a sync session (the LAN); false when none took them. */
  lan: ((docId: string, sealed: Uint8Array) => boolean) | null = null

  /** Seals `payload` for `docId` and sends it to every connected relay and device; false when none is connected. */
  async send(docId: string, payload: Uint8Array, kind: number = EphemeralKind.app): Promise<boolean> {
    if (!(payload instanceof Uint8Array)) throw new InvalidArgumentError('ephemeral data is a Uint8Array')
    const tagged = new Uint8Array(payload.byteLength + 1)
    tagged[0] = kind
    tagged.set(payload, 1)
    const sealed = await this.codec.sealEphemeral(docId, tagged)
    if (sealed.byteLength > MAX_EPHEMERAL_BYTES) throw new InvalidArgumentError(`ephemeral data is at most ${MAX_EPHEMERAL_BYTES} bytes sealed (${sealed.byteLength} here)`)
    this.remember(sealed)
    const overLan = this.lan?.(docId, sealed) ?? false
    return this.sendRaw(docId, sealed) || overLan
  }

  /** Sends bytes that protect themselves (sealed data, signed key messages) to every connected relay. */
  sendRaw(docId: string, bytes: Uint8Array): boolean {
    let sent = false
    for (const r of this.relays(docId)) if (r.sendEphemeral(docId, bytes)) sent = true
    return sent
  }

  received(docId: string, from: string, sealed: Uint8Array): void {
    if (isKeyMessage(sealed)) {
      this.keyMessages?.(sealed)
      return
    }
    if (!this.remember(sealed)) return
    this.codec.openEphemeral(docId, sealed).then(
      tagged => {
        const payload = tagged.subarray(1)
        if (tagged[0] === EphemeralKind.app) this.events.emit({ type: 'ephemeral', docId, from, payload })
        else if (tagged[0] === EphemeralKind.awareness) this.awareness?.(docId, from, payload)
        else this.rejected(docId, new MalformedFrameError(`ephemeral data of ${docId} of an unknown kind ${tagged[0]}`))
      },
      err => {
        this.rejected(docId, err as Error)
      }
    )
  }

  /** False when this sealed message was taken in already (it came the other way too). */
  private remember(sealed: Uint8Array): boolean {
    // the last 16 bytes of the author's signature: unique per message (a fresh nonce is signed)
    let key = ''
    for (let i = Math.max(0, sealed.byteLength - 16); i < sealed.byteLength; i++) key += String.fromCharCode(sealed[i]!)
    if (this.recent.has(key)) return false
    this.recent.add(key)
    if (this.recent.size > RECENT) this.recent.delete(this.recent.values().next().value!)
    return true
  }
}
