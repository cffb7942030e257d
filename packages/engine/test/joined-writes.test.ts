import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { StreamLink, withJoinedWrites } from '@tandem/transport'
import { createLibp2p, type Libp2p } from 'libp2p'
import { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { afterEach, expect, it } from 'vitest'

const PROTOCOL = '/tandem-test/frames/1'
const FRAMES = 20

const nodes: Libp2p[] = []
afterEach(async () => {
  await Promise.all(
    nodes.splice(0).map(async n => {
      await n.stop()
    })
  )
})

type EncrypterFactory = ReturnType<typeof noise>

async function start(encrypter: EncrypterFactory): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [encrypter],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false }
  })
  nodes.push(node)
  return node
}

/** True when `chunk` is one or more whole Noise records: a 2-byte length, then that many bytes. */
function wholeRecords(chunk: Uint8Array): boolean {
  let at = 0
  while (at + 2 <= chunk.byteLength) at += 2 + ((chunk[at]! << 8) | chunk[at + 1]!)
  return at === chunk.byteLength && chunk.byteLength > 0
}

/** The sizes of the socket writes the dialer makes to the listener while it sends FRAMES small frames. */
async function socketWrites(encrypter: EncrypterFactory): Promise<Uint8Array[]> {
  const listener = await start(encrypter)
  const dialer = await start(encrypter)
  let received = 0
  let allReceived = (): void => {}
  const done = new Promise<void>(resolve => {
    allReceived = resolve
  })
  await listener.handle(PROTOCOL, (stream, connection) => {
    new StreamLink(stream, connection.remotePeer.toString(), 'inbound').start({
      onFrame: () => {
        if (++received === FRAMES) allReceived()
      },
      onError: () => {},
      onClose: () => {}
    })
  })
  const addr = listener.getMultiaddrs()[0]!
  const port = Number(addr.toString().split('/tcp/')[1]!.split('/')[0])
  const stream = await dialer.dialProtocol(addr, PROTOCOL)
  const link = new StreamLink(stream, listener.peerId.toString(), 'outbound')
  link.start({ onFrame: () => {}, onError: () => {}, onClose: () => {} })

  const writes: Uint8Array[] = []
  const write = Duplex.prototype.write
  Duplex.prototype.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    if (this instanceof Socket && this.remotePort === port && chunk instanceof Uint8Array) writes.push(chunk)
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  }
  try {
    for (let i = 0; i < FRAMES; i++) await link.send(new TextEncoder().encode(`message ${i} of a chat`))
    await Promise.race([
      done,
      new Promise((_resolve, reject) =>
        setTimeout(() => {
          reject(new Error('frames not received in 10 s'))
        }, 10_000)
      )
    ])
  } finally {
    Duplex.prototype.write = write
  }
  return writes
}

it('writes every encrypted record to the socket in one piece', async () => {
  const writes = await socketWrites(withJoinedWrites(noise()))
  expect(writes.length).toBeGreaterThanOrEqual(FRAMES)
  expect(writes.filter(w => !wholeRecords(w)).map(w => w.byteLength)).toEqual([])
})

it('is needed: noise alone writes a record length and its ciphertext separately (drop withJoinedWrites once this fails)', async () => {
  const writes = await socketWrites(noise())
  expect(writes.filter(w => w.byteLength === 2).length).toBeGreaterThanOrEqual(FRAMES)
})
