import type { StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'
import { type RelayTimers, systemTimers } from '../timers.js'

/**
 * How the relay notices devices that vanished without closing (a phone out of coverage, a NAT
 * that forgot the mapping): a connection nothing has arrived on for `quietMs`
 * (limits.connectionPingIntervalMs, 90 s) gets one yamux ping (a 12-byte frame, 30 B on the wire
 * with Noise), and is closed if no pong comes within `timeoutMs` (15 s). A device pings its relay
 * connection after 45 s of quiet itself (the engine's net/keep-alive.ts, the same mechanism), so
 * the relay never pings a live device: an idle device costs its relay one round trip of 60 B
 * every 45 s, and a dead one is dropped within 105 s. Before (issue 15), libp2p's connection monitor
 * opened a /ipfs/ping/1.0.0 stream to every connection every 30 s (~330–530 B each) and yamux
 * pinged from both ends every 30 s besides. Devices of older builds keep pinging the relay their
 * way (the ping service stays) and so are never quiet either.
 */
export const RELAY_KEEPALIVE_TIMEOUT_MS = 15_000

type MuxedConnection = Parameters<StreamMuxerFactory['createStreamMuxer']>[0]
type Pingable = StreamMuxer & { ping(options?: { signal?: AbortSignal }): Promise<number> }
// biome-ignore lint/suspicious/noExplicitAny: each factory names its own slice of libp2p's internals
type Component<T> = (components: any) => T

/** A connection closed because its peer stopped answering. */
export class KeepAliveTimeoutError extends Error {
  override name = 'KeepAliveTimeoutError'
}

/** `factory`'s muxers (yamux, its own keep-alive off), each pinged when quiet and closed when the pong does not come. */
export function keptAlive(
  factory: Component<StreamMuxerFactory>,
  options: { quietMs: number; timeoutMs?: number; now?: () => number; timers?: RelayTimers }
): Component<StreamMuxerFactory> {
  const { quietMs } = options
  const timeoutMs = options.timeoutMs ?? RELAY_KEEPALIVE_TIMEOUT_MS
  const now = options.now ?? Date.now
  const timers = options.timers ?? systemTimers
  return components => {
    const muxers = factory(components)
    const create = muxers.createStreamMuxer.bind(muxers)
    muxers.createStreamMuxer = connection => {
      const muxer = create(connection)
      if (typeof (muxer as Partial<Pingable>).ping === 'function') keep(muxer as Pingable, connection, quietMs, timeoutMs, now, timers)
      return muxer
    }
    return muxers
  }
}

function keep(muxer: Pingable, connection: MuxedConnection, quietMs: number, timeoutMs: number, now: () => number, timers: RelayTimers): void {
  let last = now()
  let timer: unknown = null
  let closed = false
  const arm = (ms: number): void => {
    timer = timers.setTimeout(() => {
      timer = null
      void check()
    }, ms)
  }
  const check = async (): Promise<void> => {
    if (closed || muxer.status !== 'open') return
    const quiet = now() - last
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
    if (!closed) arm(Math.max(1, quietMs - (now() - last)))
  }
  connection.addEventListener('message', () => {
    last = now()
  })
  connection.addEventListener('close', () => {
    closed = true
    if (timer !== null) timers.clearTimeout(timer)
    timer = null
  })
  arm(quietMs)
}
