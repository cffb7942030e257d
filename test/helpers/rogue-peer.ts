import '@tandem/engine/polyfill'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { SYNC_PROTOCOL, decodeStoreFrame, decodeSyncFrame, type StoreFrame, type SyncFrame } from '@tandem/protocol'
import { createLibp2p } from 'libp2p'
import * as varint from 'uint8-varint'

/**
 * A hand-driven libp2p peer for refusal tests: it speaks raw frames on
 * /tandem/sync, so it can send what no honest engine would.
 */
export class RoguePeer {
  private constructor(readonly node: Libp2p) {}

  /**
   * A rogue with a random key, or the Ed25519 key of `seed`: the same key a device's chain
   * lists it by (signingKeyFromSeed(seed)), so a test can sign chain links as this peer.
   */
  static async start(seed?: Uint8Array): Promise<RoguePeer> {
    const node = await createLibp2p({
      ...(seed !== undefined ? { privateKey: await generateKeyPairFromSeed('Ed25519', seed) } : {}),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()]
    })
    return new RoguePeer(node)
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  async open(target: string, protocol = SYNC_PROTOCOL): Promise<RogueStream> {
    const stream = await this.node.dialProtocol(multiaddr(target), protocol, { signal: AbortSignal.timeout(10_000) })
    return new RogueStream(stream, decodeSyncFrame)
  }

  /** Opens /tandem/store on a relay; frames read back are store frames. */
  async openStore(target: string, protocol: string): Promise<RogueStream<StoreFrame>> {
    const stream = await this.node.dialProtocol(multiaddr(target), protocol, { signal: AbortSignal.timeout(10_000) })
    return new RogueStream(stream, decodeStoreFrame)
  }

  /**
   * Asks a relay for a circuit reservation by hand (one HOP RESERVE, as libp2p's client
   * sends it) and returns the status the relay answers: 'OK', 'PERMISSION_DENIED',
   * 'RESERVATION_REFUSED'…
   */
  async reserve(target: string, timeoutMs = 10_000): Promise<string> {
    const signal = AbortSignal.timeout(timeoutMs)
    const stream = await this.node.dialProtocol(multiaddr(target), RELAY_V2_HOP_CODEC, { signal })
    try {
      const answer = new Promise<Uint8Array>((resolve, reject) => {
        const decoder = new LengthPrefixedDecoder({ maxDataLength: 64 * 1024 })
        stream.addEventListener('message', evt => {
          for (const m of decoder.decode(evt.data)) resolve(m.subarray())
        })
        stream.addEventListener('close', () => {
          reject(new Error('the relay closed the HOP stream without an answer'))
        })
        signal.addEventListener('abort', () => {
          reject(new Error(`no answer to RESERVE within ${timeoutMs} ms`))
        })
      })
      // HopMessage { type: RESERVE (0) }: field 1, varint 0; length-prefixed
      stream.send(Uint8Array.of(2, 0x08, 0x00))
      return hopStatus(await answer)
    } finally {
      stream.abort(new Error('done'))
    }
  }

  async stop(): Promise<void> {
    await this.node.stop()
  }
}

/** circuit relay v2's Status enum (its pb/index.proto). */
const HOP_STATUS: Record<number, string> = {
  100: 'OK',
  200: 'RESERVATION_REFUSED',
  201: 'RESOURCE_LIMIT_EXCEEDED',
  202: 'PERMISSION_DENIED',
  203: 'CONNECTION_FAILED',
  204: 'NO_RESERVATION',
  400: 'MALFORMED_MESSAGE',
  401: 'UNEXPECTED_MESSAGE'
}

/** The `status` (field 5) of a HopMessage, skipping the other fields. */
function hopStatus(msg: Uint8Array): string {
  let i = 0
  const readVarint = (): number => {
    let n = 0
    for (let shift = 0; ; shift += 7) {
      const b = msg[i++]
      if (b === undefined) throw new Error('truncated HopMessage')
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return n
    }
  }
  while (i < msg.byteLength) {
    const key = readVarint()
    const field = Math.floor(key / 8)
    const wire = key % 8
    if (wire === 0) {
      const value = readVarint()
      if (field === 5) return HOP_STATUS[value] ?? `status ${value}`
    } else if (wire === 2) {
      const length = readVarint() // before `i +=` reads i
      i += length
    } else {
      throw new Error(`unexpected wire type ${wire} in a HopMessage`)
    }
  }
  throw new Error('HopMessage without a status')
}

export class RogueStream<F extends SyncFrame | StoreFrame = SyncFrame> {
  readonly frames: F[] = []
  readonly closed: Promise<void>
  private waiters: Array<() => void> = []

  constructor(
    private readonly stream: Stream,
    decode: (bytes: Uint8Array) => F
  ) {
    const decoder = new LengthPrefixedDecoder({ maxDataLength: 1024 * 1024 })
    stream.addEventListener('message', evt => {
      for (const f of decoder.decode(evt.data)) this.frames.push(decode(f.subarray()))
      for (const w of this.waiters.splice(0)) w()
    })
    this.closed = new Promise(resolve => {
      stream.addEventListener('close', () => {
        resolve()
      })
      stream.addEventListener('remoteCloseWrite', () => {
        resolve()
      })
    })
  }

  /** Sends one length-prefixed frame. */
  sendFrame(bytes: Uint8Array): void {
    this.sendRaw(new Uint8Array([...varint.encode(bytes.byteLength), ...bytes]))
  }

  sendRaw(bytes: Uint8Array): void {
    this.stream.send(bytes)
  }

  /** Waits (bounded) until the peer closes its side; returns the ERROR frame it sent, if any. */
  async refusal(timeoutMs = 10_000): Promise<{ code: string; message: string } | null> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error('peer did not close the stream'))
      }, timeoutMs)
    })
    try {
      await Promise.race([this.closed, timeout])
    } finally {
      clearTimeout(timer)
    }
    const err = this.frames.find(f => f.type === 'error')
    return err?.type === 'error' ? { code: err.code, message: err.message } : null
  }

  /** Waits (bounded) for a frame matching `match`. */
  async frame(match: (f: F) => boolean, timeoutMs = 10_000): Promise<F> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.frames.find(match)
      if (found !== undefined) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`frame not received within ${timeoutMs} ms; got ${this.frames.map(f => f.type).join(', ')}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  abort(): void {
    this.stream.abort(new Error('done'))
  }
}
