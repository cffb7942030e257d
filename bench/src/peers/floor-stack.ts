// What the floor's server and clients share: Tandem's own libp2p stack (TCP, Noise with joined
// writes, yamux with half-window updates, as the relay and the devices build it) and its
// length-prefixed frames (StreamLink), with nothing of Tandem above them.
import '@tandem/engine/polyfill'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { withJoinedWrites, yamuxHalfWindow } from '@tandem/transport'
import { createLibp2p, type Libp2p } from 'libp2p'

/** The floor's one protocol: a hello frame naming the doc, then sealed messages, forwarded by the server to the doc's other streams. */
export const FLOOR_PROTOCOL = '/tandem-bench/floor/1'

export const floorNode = (listen: string[]): Promise<Libp2p> =>
  createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [withJoinedWrites(noise())],
    streamMuxers: [yamuxHalfWindow({ enableKeepAlive: false })],
    connectionMonitor: { enabled: false }
  })
