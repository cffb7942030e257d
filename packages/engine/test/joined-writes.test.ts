import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { hasNoiseRecordDecoder, noiseRecordLength, StreamLink, withJoinedWrites } from '@tandem/transport'
import { Uint8ArrayList } from 'uint8arraylist'
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

/** noise(), the connections it secures kept in `secured`. */
function keeping(secured: unknown[]): EncrypterFactory {
  return components => {
    const encrypter = noise()(components)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    const inbound = encrypter.secureInbound.bind(encrypter)
    encrypter.secureOutbound = async (connection, options) => {
      const result = await outbound(connection, options)
      secured.push(result.connection)
      return result
    }
    encrypter.secureInbound = async (connection, options) => {
      const result = await inbound(connection, options)
      secured.push(result.connection)
      return result
    }
    return encrypter
  }
}

it("reads records with a length reader that throws no new error per record, in every connection it secures (drop it once Noise's own stops throwing)", async () => {
  const secured: unknown[] = []
  const writes = await socketWrites(withJoinedWrites(keeping(secured)) as EncrypterFactory)
  expect(writes.length).toBeGreaterThanOrEqual(FRAMES) // every frame went through, read with it
  expect(secured).toHaveLength(2)
  for (const connection of secured) {
    expect(hasNoiseRecordDecoder(connection)).toBe(true)
    expect((connection as { decoder: { lengthDecoder: unknown } }).decoder.lengthDecoder).toBe(noiseRecordLength)
  }
  // what it replaces: Noise's own reader makes a new RangeError for every short read
  const plain: unknown[] = []
  await socketWrites(keeping(plain))
  const own = (plain[0] as { decoder: { lengthDecoder: (d: Uint8Array) => number } }).decoder.lengthDecoder
  const errorOf = (read: (d: Uint8Array) => number): unknown => {
    try {
      read(new Uint8Array(1))
    } catch (err) {
      return err
    }
    return null
  }
  expect(errorOf(own)).toBeInstanceOf(RangeError)
  expect(errorOf(own)).not.toBe(errorOf(own))
})

it('a record length reads big-endian from a buffer or a list, and a short one is always the same RangeError', () => {
  expect(noiseRecordLength(new Uint8Array([0x01, 0x02, 0xff]))).toBe(0x0102)
  expect(noiseRecordLength(new Uint8ArrayList(new Uint8Array([0xff]), new Uint8Array([0xfe, 0x00])))).toBe(0xfffe)
  const short = (data: Uint8Array | Uint8ArrayList): unknown => {
    try {
      noiseRecordLength(data)
    } catch (err) {
      return err
    }
    return null
  }
  expect(short(new Uint8Array(0))).toBeInstanceOf(RangeError)
  expect(short(new Uint8Array(1))).toBe(short(new Uint8ArrayList(new Uint8Array(1))))
})

it("a write the transport refuses as out of state (a circuit's stream closing) aborts the connection instead of throwing into whoever framed it", async () => {
  const refusal = Object.assign(new Error('Cannot write to a stream that is closing'), { name: 'StreamStateError' })
  const aborted: Error[] = []
  const transport = {
    status: 'open',
    send: () => {
      throw refusal
    },
    abort: (err: Error) => {
      aborted.push(err)
    }
  }
  // an encrypter whose handshake writes once, as Noise's does
  const factory = (() => ({
    protocol: '/test',
    secureOutbound: async (connection: { send(data: Uint8Array): boolean }) => {
      expect(connection.send(new Uint8Array([1, 2, 3]))).toBe(true)
      return { connection, remotePeer: null }
    },
    secureInbound: async () => {
      throw new Error('unused')
    }
  })) as unknown as EncrypterFactory
  const encrypter = withJoinedWrites(factory)({} as never)
  await encrypter.secureOutbound(transport as never, {} as never)
  expect(aborted).toEqual([refusal])
  // any other error is the caller's
  const broken = {
    ...transport,
    send: () => {
      throw new TypeError('not this one')
    }
  }
  await expect(encrypter.secureOutbound(broken as never, {} as never)).rejects.toThrow('not this one')
})
