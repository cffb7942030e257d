import { FrameTooLargeError, MAX_FRAME_BYTES, type TandemError } from '@tandem/protocol'
import type { Link, LinkHandlers } from './link.js'

/**
 * Two in-memory links wired to each other: the transport for in-process tests
 * and the simulator. Frames are delivered asynchronously (a microtask later)
 * and in order, like a reliable stream, and bounded like one: a frame over
 * MAX_FRAME_BYTES is refused on the receiving side with a FrameTooLargeError on
 * `onError`, and nothing after it is delivered (as {@link StreamLink} does).
 * `relayedVia` makes the pair stand for a relay's circuit.
 */
export function createMemoryLinkPair(dialerPeerId: string, listenerPeerId: string, options: { relayedVia?: string } = {}): [Link, Link] {
  const dialer = new MemoryLink(listenerPeerId, 'outbound', options.relayedVia)
  const listener = new MemoryLink(dialerPeerId, 'inbound', options.relayedVia)
  dialer.other = listener
  listener.other = dialer
  return [dialer, listener]
}

class MemoryLink implements Link {
  other: MemoryLink | null = null
  private handlers: LinkHandlers | null = null
  private readonly inbox: Uint8Array[] = []
  private open = true
  /** A frame over the bound arrived: the stream is unusable, like a decoder that lost its place. */
  private broken = false

  constructor(
    readonly remotePeerId: string,
    readonly direction: 'inbound' | 'outbound',
    readonly relayedVia?: string
  ) {}

  start(handlers: LinkHandlers): void {
    this.handlers = handlers
    for (const f of this.inbox.splice(0)) this.receive(f)
  }

  async send(frame: Uint8Array): Promise<void> {
    if (!this.open) throw new Error('link closed')
    const peer = this.other!
    const copy = frame.slice()
    queueMicrotask(() => {
      peer.deliver(copy)
    })
  }

  close(_error?: TandemError): void {
    if (!this.open) return
    this.open = false
    // let frames already sent (an ERROR frame, say) arrive before the close
    queueMicrotask(() => {
      this.handlers?.onClose()
      this.other?.remoteClosed()
    })
  }

  private deliver(frame: Uint8Array): void {
    if (!this.open) return
    if (this.handlers === null) this.inbox.push(frame)
    else this.receive(frame)
  }

  private receive(frame: Uint8Array): void {
    if (this.broken) return
    if (frame.byteLength > MAX_FRAME_BYTES) {
      this.broken = true
      this.handlers!.onError(new FrameTooLargeError(`frame from ${this.remotePeerId} exceeds ${MAX_FRAME_BYTES} bytes`))
      return
    }
    this.handlers!.onFrame(frame)
  }

  private remoteClosed(): void {
    if (!this.open) return
    this.open = false
    this.handlers?.onClose()
  }
}
