import { noise } from '@chainsafe/libp2p-noise'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { StreamLink, withJoinedWrites, yamuxHalfWindow, type Link } from '../src/index.js'
import { within, type LinkPair } from './link-conformance.js'

const PROTOCOL = '/tandem-test/link/1.0.0'

export type Libp2pTransport = 'tcp' | 'ws'

/** A libp2p node as the engine builds one (Noise with joined writes, yamux sending window updates at half the window), on 127.0.0.1 only. */
async function node(transport: Libp2pTransport, listen: boolean): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: listen ? [transport === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : '/ip4/127.0.0.1/tcp/0/ws'] : [] },
    transports: [transport === 'tcp' ? tcp() : webSockets()],
    connectionEncrypters: [withJoinedWrites(noise())],
    streamMuxers: [yamuxHalfWindow({})]
  })
}

/**
 * Two real libp2p nodes and one stream between them, each end a StreamLink made the way the
 * engine makes it: the listener's from the protocol handler's connection, the dialer's from the
 * connection it dialed (the listener's multiaddr names its peer id, so Noise checks it).
 */
export async function libp2pLinkPair(transport: Libp2pTransport): Promise<LinkPair & { dialerStream: Stream }> {
  const nodes: Libp2p[] = []
  const teardown = async (): Promise<void> => {
    await Promise.all(
      nodes.map(async n => {
        await n.stop()
      })
    )
  }
  try {
    const listenerNode = await node(transport, true)
    nodes.push(listenerNode)
    const dialerNode = await node(transport, false)
    nodes.push(dialerNode)
    let accepted!: (link: Link) => void
    const inbound = new Promise<Link>(resolve => {
      accepted = resolve
    })
    await listenerNode.handle(PROTOCOL, (stream, connection) => {
      accepted(new StreamLink(stream, connection.remotePeer.toString(), 'inbound'))
    })
    const connection = await dialerNode.dial(listenerNode.getMultiaddrs(), { signal: AbortSignal.timeout(10_000) })
    const stream = await connection.newStream(PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const dialer = new StreamLink(stream, connection.remotePeer.toString(), 'outbound')
    const listener = await within(inbound, "the listener's protocol handler")
    return { dialer, listener, dialerStream: stream, dialerPeerId: dialerNode.peerId.toString(), listenerPeerId: listenerNode.peerId.toString(), teardown }
  } catch (err) {
    await teardown()
    throw err
  }
}
