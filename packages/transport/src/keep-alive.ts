import type { StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

/**
 * Keep-alive when quiet, for the device and the relay alike (issue 15, the idle path): a
 * connection nothing has arrived on for `quietMs` gets one yamux ping (a 12-byte frame, 30 B on
 * the wire with Noise's length and tag; the pong the same), and is closed if no pong comes within
 * `timeoutMs`. A connection that carries anything never pays for a ping. Circuit connections are
 * left alone: they ride on the relay connections of both ends, whose checks close them. Each
 * side picks its own values and says why (the engine's net/keep-alive.ts, the relay's
 * node/keep-alive.ts); yamux's own keep-alive must be off.
 */
export interface KeepAliveClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** When a quiet connection is pinged, and how long its pong may take. */
export interface KeepAliveTimes {
  /** Ping a connection nothing has arrived on for this long. */
  quietMs: number
  /** Close it if the pong takes longer than this. */
  timeoutMs: number
  /** Told of each connection closed as dead (after it is closed): a log line for who runs the node. */
  onDead?: (error: KeepAliveTimeoutError) => void
}

/** A connection closed because its peer stopped answering. */
export class KeepAliveTimeoutError extends Error {
  override name = 'KeepAliveTimeoutError'
}

/** The connection a muxer runs on, as the upgrader hands it over (after encryption). */
type MuxedConnection = Parameters<StreamMuxerFactory['createStreamMuxer']>[0]
/** A muxer that can ping its peer (yamux does; the interface does not say so). */
type Pingable = StreamMuxer & { ping(options?: { signal?: AbortSignal }): Promise<number> }

/** A libp2p component factory (the muxer factory's own slice of the node's internals). */
// biome-ignore lint/suspicious/noExplicitAny: each factory names its own slice of libp2p's internals
type Component<T> = (components: any) => T

/**
 * The muxer factory `factory` (yamux with its own keep-alive off), each muxer it makes pinged
 * when quiet and closed when the pong does not come, on `clock`'s time and timers.
 */
export function keptAlive(factory: Component<StreamMuxerFactory>, clock: KeepAliveClock, times: KeepAliveTimes): Component<StreamMuxerFactory> {
  return components => {
    const muxers = factory(components)
    const create = muxers.createStreamMuxer.bind(muxers)
    muxers.createStreamMuxer = connection => {
      const muxer = create(connection)
      if (!isCircuit(connection) && typeof (muxer as Partial<Pingable>).ping === 'function') keep(muxer as Pingable, connection, clock, times)
      return muxer
    }
    return muxers
  }
}

function keep(muxer: Pingable, connection: MuxedConnection, clock: KeepAliveClock, { quietMs, timeoutMs, onDead }: KeepAliveTimes): void {
  let last = clock.now()
  let timer: unknown = null
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
      onDead?.(error)
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
