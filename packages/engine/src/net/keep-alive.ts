import type { StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'
import type { Runtime, TimerHandle } from '../runtime.js'

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
 * Now a connection is checked only when it has been quiet: when nothing has arrived on it for
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

/** The connection a muxer runs on, as the upgrader hands it over (after encryption). */
type MuxedConnection = Parameters<StreamMuxerFactory['createStreamMuxer']>[0]
/** A muxer that can ping its peer (yamux does; the interface does not say so). */
type Pingable = StreamMuxer & { ping(options?: { signal?: AbortSignal }): Promise<number> }

/** Timers and the clock: the engine's runtime. */
type Clock = Pick<Runtime, 'now' | 'setTimeout' | 'clearTimeout'>

/** A libp2p component factory (the muxer factory's own slice of the node's internals). */
// biome-ignore lint/suspicious/noExplicitAny: each factory names its own slice of libp2p's internals
type Component<T> = (components: any) => T

/**
 * The muxer factory `factory` (yamux with its own keep-alive off), each muxer it makes checked
 * when quiet as {@link KEEPALIVE_QUIET_MS} describes. Circuit connections are left alone.
 */
export function keptAlive(factory: Component<StreamMuxerFactory>, clock: Clock, options: KeepAliveOptions = {}): Component<StreamMuxerFactory> {
  const quietMs = options.quietMs ?? KEEPALIVE_QUIET_MS
  const timeoutMs = options.timeoutMs ?? KEEPALIVE_TIMEOUT_MS
  return components => {
    const muxers = factory(components)
    const create = muxers.createStreamMuxer.bind(muxers)
    muxers.createStreamMuxer = connection => {
      const muxer = create(connection)
      if (!isCircuit(connection) && typeof (muxer as Partial<Pingable>).ping === 'function') keep(muxer as Pingable, connection, clock, quietMs, timeoutMs)
      return muxer
    }
    return muxers
  }
}

/** A connection closed because its peer stopped answering. */
export class KeepAliveTimeoutError extends Error {
  override name = 'KeepAliveTimeoutError'
}

function keep(muxer: Pingable, connection: MuxedConnection, clock: Clock, quietMs: number, timeoutMs: number): void {
  let last = clock.now()
  let timer: TimerHandle | null = null
  let closed = false
  const arm = (ms: number): void => {
    timer = clock.setTimeout(() => {
      timer = null
      void check()
    }, ms)
  }
  const check = async (): Promise<void> => {
    if (closed || muxer.status !== 'open') return
    const quiet = clock.now() - last
    if (quiet < quietMs) {
      arm(quietMs - quiet)
      return
    }
    try {
      await muxer.ping({ signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      if (closed || muxer.status !== 'open') return
      const error = new KeepAliveTimeoutError(`no answer to a keep-alive ping within ${timeoutMs} ms after ${quietMs} ms of quiet: the connection is closed as dead`, {
        cause: err
      })
      muxer.abort(error)
      connection.abort(error)
      return
    }
    // the pong came in: `last` moved with it
    if (!closed) arm(Math.max(1, quietMs - (clock.now() - last)))
  }
  connection.addEventListener('message', () => {
    last = clock.now()
  })
  connection.addEventListener('close', () => {
    closed = true
    if (timer !== null) clock.clearTimeout(timer)
    timer = null
  })
  arm(quietMs)
}

/**
 * Whether the connection runs through a relay's circuit. The upgrader hands the muxer the
 * encrypted stream; Noise keeps the transport's connection, with its address, as `stream`.
 */
function isCircuit(connection: MuxedConnection): boolean {
  const c = connection as { remoteAddr?: { toString(): string }; stream?: { remoteAddr?: { toString(): string } } }
  const addr = c.remoteAddr ?? c.stream?.remoteAddr
  return addr?.toString().includes('/p2p-circuit') === true
}
