import type { TandemError } from '@tandem/protocol'

export interface LinkHandlers {
  /** One whole frame, already length-delimited and within the frame bound. */
  onFrame(frame: Uint8Array): void
  /** The transport saw a bad frame (oversized, say): the session tells the peer and closes. */
  onError(error: TandemError): void
  /** The link is gone; `error` says why when it was not a clean close. */
  onClose(error?: Error): void
}

/**
 * A bidirectional, ordered, reliable frame channel to one authenticated peer:
 * the only thing the sync core needs from a transport. libp2p streams are one
 * implementation; the simulator's in-memory network is another.
 */
export interface Link {
  /** The peer id the transport authenticated (Noise, for libp2p). */
  readonly remotePeerId: string
  /** Which side opened the link; used to pick one link when both sides dial. */
  readonly direction: 'inbound' | 'outbound'
  /**
   * The relay whose circuit carries this link, when it is not direct. Devices that reach
   * each other only through a relay let its store fan-out carry their live updates.
   */
  readonly relayedVia?: string
  start(handlers: LinkHandlers): void
  /** Resolves when the frame is accepted by the transport (backpressure). */
  send(frame: Uint8Array): Promise<void>
  /** True while the transport is applying backpressure: best-effort senders skip a frame. */
  congested?(): boolean
  /** Closes the link; with an error, the transport may reset rather than close. */
  close(error?: TandemError): void
}
