import type { StreamMuxerFactory } from '@libp2p/interface'
import { keptAlive as keptAliveWhenQuiet } from '@tandem/transport'
import { type RelayTimers, systemTimers } from '../timers.js'

/**
 * How the relay notices devices that vanished without closing (a phone out of coverage, a NAT
 * that forgot the mapping): a connection nothing has arrived on for `quietMs`
 * (limits.connectionPingIntervalMs, 90 s) gets one yamux ping (a 12-byte frame, 30 B on the wire
 * with Noise), and is closed if no pong comes within `timeoutMs` (15 s). A device pings its relay
 * connection after 45 s of quiet itself (the engine's net/keep-alive.ts; both run @tandem/transport's keep-alive.ts), so
 * the relay never pings a live device: an idle device costs its relay one round trip of 60 B
 * every 45 s, and a dead one is dropped within 105 s. Before (issue 15), libp2p's connection monitor
 * opened a /ipfs/ping/1.0.0 stream to every connection every 30 s (~330–530 B each) and yamux
 * pinged from both ends every 30 s besides. Devices of older builds keep pinging the relay their
 * way (the ping service stays) and so are never quiet either.
 */
export const RELAY_KEEPALIVE_TIMEOUT_MS = 15_000

// biome-ignore lint/suspicious/noExplicitAny: each factory names its own slice of libp2p's internals
type Component<T> = (components: any) => T

/** `factory`'s muxers (yamux, its own keep-alive off), each pinged when quiet and closed when the pong does not come. */
export function keptAlive(
  factory: Component<StreamMuxerFactory>,
  options: { quietMs: number; timeoutMs?: number; now?: () => number; timers?: RelayTimers; onDead?: (error: Error) => void }
): Component<StreamMuxerFactory> {
  const timers = options.timers ?? systemTimers
  const clock = { now: options.now ?? Date.now, setTimeout: (fn: () => void, ms: number) => timers.setTimeout(fn, ms), clearTimeout: (h: unknown) => timers.clearTimeout(h) }
  return keptAliveWhenQuiet(factory, clock, { quietMs: options.quietMs, timeoutMs: options.timeoutMs ?? RELAY_KEEPALIVE_TIMEOUT_MS, onDead: options.onDead })
}
