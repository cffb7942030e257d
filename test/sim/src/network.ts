import type { TandemError } from '@tandem/protocol'
import type { Link, LinkHandlers } from '@tandem/transport'
import type { Rng } from './rng.js'
import type { Scheduler } from './scheduler.js'

/** Per-frame faults of the simulated network, chosen per seed. */
export interface NetFaults {
  latencyMs: number
  jitterMs: number
  /** Chance a frame is slow (a latency spike). */
  spikeChance: number
  spikeMs: number
  /** Chance a frame resets its connection: loss the stream cannot hide. */
  resetChance: number
}
// Links are ordered, reliable streams (TCP + yamux): a frame is never duplicated or
// reordered inside one. Loss shows as a reset (frames in flight lost); duplication and
// reordering happen where they do for real — a blob resent after a reset whose ack was
// lost, the same update arriving over a LAN link and over the relay in either order.

export const CALM: NetFaults = { latencyMs: 1, jitterMs: 1, spikeChance: 0, spikeMs: 0, resetChance: 0 }

export type LinkClass = 'lan' | 'relay'

/**
 * The in-memory network between engines and the relay: ordered frame links
 * (like a TCP stream) with seeded latency, latency spikes and resets,
 * and partitions per direction and per link class (LAN vs relay paths).
 */
export class SimNetwork {
  faults: NetFaults = CALM
  /** Sees every frame a node sends, as it sends it (the invariants read the relay's acks here); `frame` is the copy that travels. */
  onSend: ((from: string, frame: Uint8Array, to: string) => void) | null = null
  /** Sees every frame that reaches an open end, as it arrives (the same object `onSend` saw). */
  onDeliver: ((from: string, to: string, frame: Uint8Array) => void) | null = null
  private readonly blocked = new Set<string>()
  private readonly links = new Set<SimLink>()

  constructor(
    private readonly scheduler: Scheduler,
    private readonly rng: Rng,
    private readonly trace: (line: string) => void
  ) {}

  /** Cuts `from → to` for links of a class (both classes if omitted). */
  block(from: string, to: string, cls?: LinkClass): void {
    for (const c of cls === undefined ? ['lan', 'relay'] : [cls]) this.blocked.add(`${c}:${from}>${to}`)
  }

  isBlocked(from: string, to: string, cls: LinkClass): boolean {
    return this.blocked.has(`${cls}:${from}>${to}`)
  }

  /** A relay's circuit is cut when either of its hops is, or the pair itself is (the relay refuses it). */
  pathBlocked(from: string, to: string, cls: LinkClass, via?: string): boolean {
    return this.isBlocked(from, to, cls) || (via !== undefined && (this.isBlocked(from, via, cls) || this.isBlocked(via, to, cls)))
  }

  heal(): void {
    this.blocked.clear()
    for (const l of this.links) l.flushHeld()
  }

  /** Resets every link touching `node` (its process died), circuits through it included. */
  resetNode(node: string): void {
    for (const l of [...this.links]) if (l.local === node || l.remotePeerId === node || l.relayedVia === node) l.reset()
  }

  get openLinks(): number {
    return this.links.size / 2
  }

  /** A connection from `a` to `b` (through relay `via`'s circuit if given), or null while either direction is cut. */
  connect(a: string, b: string, cls: LinkClass, via?: string): [Link, Link] | null {
    if (this.pathBlocked(a, b, cls, via) || this.pathBlocked(b, a, cls, via)) return null
    const ab = new SimLink(this, a, b, 'outbound', cls, via)
    const ba = new SimLink(this, b, a, 'inbound', cls, via)
    ab.peer = ba
    ba.peer = ab
    this.links.add(ab)
    this.links.add(ba)
    return [ab, ba]
  }

  /** @internal */
  forget(l: SimLink): void {
    this.links.delete(l)
  }

  /** @internal schedules one frame's delivery with this seed's faults; returns its delivery time. */
  plan(after: number): { at: number; reset: boolean } {
    const f = this.faults
    let latency = f.latencyMs + this.rng.float() * f.jitterMs
    if (this.rng.chance(f.spikeChance)) latency += this.rng.exp(f.spikeMs)
    return { at: Math.max(after, this.scheduler.now + latency), reset: this.rng.chance(f.resetChance) }
  }

  /** @internal */
  get clock(): Scheduler {
    return this.scheduler
  }

  /** @internal */
  note(line: string): void {
    this.trace(line)
  }
}

class SimLink implements Link {
  peer: SimLink | null = null
  private handlers: LinkHandlers | null = null
  private readonly early: Uint8Array[] = []
  private readonly held: Uint8Array[] = []
  private open = true
  private lastAt = 0

  constructor(
    private readonly net: SimNetwork,
    readonly local: string,
    readonly remotePeerId: string,
    readonly direction: 'inbound' | 'outbound',
    private readonly cls: LinkClass,
    readonly relayedVia?: string
  ) {}

  start(handlers: LinkHandlers): void {
    this.handlers = handlers
    for (const f of this.early.splice(0)) handlers.onFrame(f)
  }

  async send(frame: Uint8Array): Promise<void> {
    if (!this.open) throw new Error('link closed')
    const copy = frame.slice()
    this.net.onSend?.(this.local, copy, this.remotePeerId)
    if (this.net.pathBlocked(this.local, this.remotePeerId, this.cls, this.relayedVia)) {
      this.held.push(copy)
      return
    }
    this.transmit(copy)
  }

  congested(): boolean {
    return false
  }

  get isOpen(): boolean {
    return this.open
  }

  close(_error?: TandemError): void {
    if (!this.open) return
    // a graceful close: frames already sent arrive first
    const at = Math.max(this.lastAt, this.net.clock.now)
    this.shut()
    this.net.clock.schedule(
      at - this.net.clock.now,
      () => {
        this.peer?.shut()
      },
      'net'
    )
  }

  /** Connection reset: both ends see it close now, frames in flight are lost. */
  reset(): void {
    if (!this.open) return
    this.shut()
    this.peer?.shut()
  }

  /** The partition healed: frames held back in a cut direction go out, in order. */
  flushHeld(): void {
    for (const f of this.held.splice(0)) if (this.open) this.transmit(f)
  }

  private transmit(frame: Uint8Array): void {
    const plan = this.net.plan(this.lastAt)
    if (plan.reset) {
      this.net.note(`reset ${this.local}→${this.remotePeerId} (${this.cls})`)
      this.reset()
      return
    }
    this.lastAt = plan.at
    this.net.clock.schedule(
      plan.at - this.net.clock.now,
      () => {
        this.peer?.receive(frame)
      },
      'net'
    )
  }

  private receive(frame: Uint8Array): void {
    if (!this.open) return
    this.net.onDeliver?.(this.remotePeerId, this.local, frame)
    if (this.handlers === null) this.early.push(frame)
    else this.handlers.onFrame(frame)
  }

  private shut(): void {
    if (!this.open) return
    this.open = false
    this.net.forget(this)
    this.handlers?.onClose()
  }
}
