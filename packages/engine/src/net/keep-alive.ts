import type { StreamMuxerFactory } from '@libp2p/interface'
import { keptAlive as keptAliveWhenQuiet } from '@tandem/transport'
import type { Runtime } from '../runtime.js'

/**
 * How a device keeps its connections alive and notices the dead ones (issue 15, the idle path).
 *
 * What an idle device sent its relay before, counted through a TCP proxy over 60 s (4.9–5.2
 * KB a minute, both ways): libp2p's connection monitor, a `/ipfs/ping/1.0.0` stream every
 * 10 s (~530 B each: a yamux stream opened, multistream-select, 32 bytes each way, closed);
 * the relay's own monitor every 30 s (~330 B, which the device answered "na"); yamux's
 * keep-alive from both sides every 30 s (60 B a round trip); and the device dialing the relay
 * itself on /tandem/sync after identify made it a "discovered" peer (~330 B each, backoff
 * capped at 30 s: fixed in libp2p-network.ts).
 *
 * Now a connection is checked only when it has been quiet (@tandem/transport's keep-alive.ts): when nothing has arrived on it for
 * {@link KEEPALIVE_QUIET_MS}, the device sends one yamux ping (a 12-byte frame, 30 B on the
 * wire with Noise's length and tag; the pong the same) and closes the connection if no pong
 * comes within {@link KEEPALIVE_TIMEOUT_MS}; the stream's close then redials it (a relay's at
 * once). A connection that carries anything never pays for a ping. Why these values:
 * - 45 s quiet: under the 60 s idle timeouts that proxies and load balancers in front of a
 *   relay default to (nginx's proxy_read_timeout, AWS ALB: a browser device's WebSocket passes
 *   one), well under the relay's 2-minute TCP inactivity timeout (@libp2p/tcp closes a socket
 *   with no reads and no writes for that long) and under the relay's own quiet check (90 s: so
 *   the relay, seeing the device's ping every 45 s, never pings a live device itself); short
 *   enough for the NAT mappings of home routers and mobile carriers (their TCP idle timeouts are
 *   minutes to hours). One round trip every 45 s is 80 B of payload a minute.
 * - 15 s for the pong: a mobile link's round trip under load stays well inside it.
 * So a relay connection that dies silently (a phone's network gone, a NAT that forgot the
 * mapping) is noticed within 60 s of the last byte that came in, and redialed; the relay notices
 * the device gone within 105 s. Circuits through a relay get no pings of their own: they ride on
 * the relay connections of both ends, whose checks close them.
 */
export const KEEPALIVE_QUIET_MS = 45_000
/** How long a keep-alive ping waits for its pong before the connection is closed as dead. */
export const KEEPALIVE_TIMEOUT_MS = 15_000

export interface KeepAliveOptions {
  /** Ping a connection nothing has arrived on for this long (default {@link KEEPALIVE_QUIET_MS}). */
  quietMs?: number
  /** Close it if the pong takes longer than this (default {@link KEEPALIVE_TIMEOUT_MS}). */
  timeoutMs?: number
}

/** A libp2p component factory (the muxer factory's own slice of the node's internals). */
// biome-ignore lint/suspicious/noExplicitAny: each factory names its own slice of libp2p's internals
type Component<T> = (components: any) => T

/**
 * The muxer factory `factory` (yamux with its own keep-alive off), each muxer it makes checked
 * when quiet as {@link KEEPALIVE_QUIET_MS} describes, on the engine's runtime. Circuit connections are left alone.
 */
export function keptAlive(
  factory: Component<StreamMuxerFactory>,
  runtime: Pick<Runtime, 'now' | 'setTimeout' | 'clearTimeout'>,
  options: KeepAliveOptions = {}
): Component<StreamMuxerFactory> {
  return keptAliveWhenQuiet(factory, runtime, { quietMs: options.quietMs ?? KEEPALIVE_QUIET_MS, timeoutMs: options.timeoutMs ?? KEEPALIVE_TIMEOUT_MS })
}
