// The floor's server: forwards every frame a client sends to the other clients of its doc, and
// keeps nothing (no disk, no checks). Beside Tandem's relay it prices the hop itself: two Noise
// records and two yamux frames a message, what no relay on this stack can do without.
//   node floor-server.js [--port N]
import { StreamLink } from '@tandem/transport'
import { flag } from './control.js'
import { FLOOR_PROTOCOL, floorNode } from './floor-stack.js'

const node = await floorNode([`/ip4/127.0.0.1/tcp/${flag('port', '0')}`])
const docs = new Map<string, Set<StreamLink>>()
await node.handle(FLOOR_PROTOCOL, (stream, connection) => {
  const link = new StreamLink(stream, connection.remotePeer.toString(), 'inbound')
  let doc: string | null = null
  link.start({
    onFrame: frame => {
      if (doc === null) {
        doc = new TextDecoder().decode(frame)
        const set = docs.get(doc) ?? new Set()
        set.add(link)
        docs.set(doc, set)
        return
      }
      for (const other of docs.get(doc) ?? []) if (other !== link) void other.send(frame).catch(() => {})
    },
    onError: () => {
      link.close()
    },
    onClose: () => {
      if (doc !== null) docs.get(doc)?.delete(link)
    }
  })
})
await node.start()
process.stdout.write(`peer ${node.peerId.toString()}\n`)
process.stdout.write(`port ${/\/tcp\/(\d+)/.exec(node.getMultiaddrs()[0]!.toString())![1]}\n`)
const stop = async (): Promise<void> => {
  await node.stop()
  process.exit(0)
}
process.on('SIGTERM', () => {
  void stop()
})
process.on('SIGINT', () => {
  void stop()
})
