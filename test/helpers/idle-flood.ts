import { connect, type Socket } from 'node:net'

/**
 * TCP connections that connect and then send nothing (never a multistream header, never a
 * Noise message): what an abuser holds open to use up a listener's handshake places. Each
 * comes from `from` (Linux routes all of 127.0.0.0/8 to the loopback interface, so a test
 * can play several source addresses on one machine).
 */
export class IdleFlood {
  private constructor(
    private readonly sockets: Socket[],
    private readonly closedByPeer: Set<Socket>
  ) {}

  /** Opens `count` idle connections to `host:port`, from `from`; resolves once each has connected (or failed to). */
  static async open(host: string, port: number, count: number, from: string[]): Promise<IdleFlood> {
    const sockets: Socket[] = []
    const closedByPeer = new Set<Socket>()
    const flood = new IdleFlood(sockets, closedByPeer)
    await Promise.all(
      Array.from(
        { length: count },
        (_, i) =>
          new Promise<void>(resolve => {
            const s = connect({ host, port, localAddress: from[i % from.length]! })
            sockets.push(s)
            s.once('connect', () => {
              resolve()
            })
            s.once('error', () => {
              resolve()
            })
            // what the far side closed (or reset) before we did
            s.once('close', () => {
              if (!flood.closing) closedByPeer.add(s)
              resolve()
            })
            s.resume() // read (and drop) whatever arrives, so a close is seen
          })
      )
    )
    return flood
  }

  private closing = false

  get size(): number {
    return this.sockets.length
  }

  /** Connections the listener closed so far. */
  get closed(): number {
    return this.closedByPeer.size
  }

  /** Connections still open. */
  get open(): number {
    return this.sockets.filter(s => !s.closed).length
  }

  /** Resolves once `n` connections have been closed by the listener; rejects after `timeoutMs`. */
  async untilClosed(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.closed < n) {
      if (Date.now() > deadline) throw new Error(`${this.closed} of ${n} idle connections closed by the listener within ${timeoutMs} ms`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  /** Closes every connection still open; resolves once all are closed. */
  async close(): Promise<void> {
    this.closing = true
    await Promise.all(
      this.sockets.map(
        s =>
          new Promise<void>(resolve => {
            if (s.closed) {
              resolve()
              return
            }
            s.once('close', () => {
              resolve()
            })
            s.destroy()
          })
      )
    )
  }
}
