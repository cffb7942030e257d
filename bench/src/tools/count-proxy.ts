// A counting TCP proxy on 127.0.0.1, as its own process: every connection to it is piped
// to 127.0.0.1:TARGET and the bytes each way are counted (TCP payload: everything the
// endpoints write, framing and encryption included; not IP/TCP headers).
//   node count-proxy.js --target PORT   → prints "port N"; JSON-lines commands: report, reset, block, unblock,
//   trace (report then also lists every chunk read: ms since the reset, direction, bytes: what an idle connection sends, and when)
import { createConnection, createServer, type Socket } from 'node:net'
import { flag, runControl } from '../peers/control.js'

const target = Number(flag('target'))
let up = 0 // client → server
let down = 0 // server → client
let conns = 0
/** Chunks read, both ways (about the TCP segments that carried a payload). */
let reads = 0
let since = performance.now()
/** With `trace`: every chunk read since the last reset, [ms since it, 'up' | 'down', bytes]. */
let chunks: Array<[number, 'up' | 'down', number]> | null = null
const open = new Set<Socket>()
/** While blocked (a network partition), open connections are cut and new ones refused. */
let blocked = false

const server = createServer(client => {
  if (blocked) {
    client.destroy()
    return
  }
  conns++
  const upstream = createConnection({ host: '127.0.0.1', port: target })
  open.add(client)
  open.add(upstream)
  client.setNoDelay(true)
  upstream.setNoDelay(true)
  client.on('data', d => {
    up += d.byteLength
    reads++
    chunks?.push([Math.round(performance.now() - since), 'up', d.byteLength])
  })
  upstream.on('data', d => {
    down += d.byteLength
    reads++
    chunks?.push([Math.round(performance.now() - since), 'down', d.byteLength])
  })
  client.pipe(upstream)
  upstream.pipe(client)
  const close = (): void => {
    client.destroy()
    upstream.destroy()
    open.delete(client)
    open.delete(upstream)
  }
  client.on('error', close)
  upstream.on('error', close)
  client.on('close', close)
  upstream.on('close', close)
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as { port: number }).port}\n`)
})

runControl(
  {
    report: () => ({ up, down, conns, reads, ms: performance.now() - since, ...(chunks !== null ? { chunks } : {}) }),
    reset: () => {
      up = 0
      down = 0
      conns = 0
      reads = 0
      since = performance.now()
      if (chunks !== null) chunks = []
      return null
    },
    trace: () => {
      chunks = []
      return null
    },
    block: () => {
      blocked = true
      for (const s of open) s.destroy()
      open.clear()
      return null
    },
    unblock: () => {
      blocked = false
      return null
    }
  },
  [],
  async () => {
    server.close()
    for (const s of open) s.destroy()
  }
)
