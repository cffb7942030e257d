import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createHash } from 'node:crypto'

// libp2p helpers shared by the relay's tests (here and in test/relay)

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Polls `check` every 50 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Resolves at `time` (Date.now() ms), for tests of deadlines. */
export async function until(time: number): Promise<void> {
  const ms = time - Date.now()
  if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
}

/** Writes `payload` (in 64 KiB chunks, honouring backpressure), closes the write side, and reads until the remote closes theirs. */
export async function blast(stream: Stream, payload: Uint8Array): Promise<Uint8Array> {
  const write = async (): Promise<void> => {
    for (let off = 0; off < payload.byteLength; off += 64 * 1024) {
      if (!stream.send(payload.subarray(off, off + 64 * 1024))) await stream.onDrain()
    }
    await stream.close()
  }
  const read = async (): Promise<Uint8Array> => {
    const chunks: Uint8Array[] = []
    for await (const chunk of stream) chunks.push(chunk.subarray())
    return Buffer.concat(chunks)
  }
  const [, received] = await Promise.all([write(), read()])
  return received
}

/** A TCP node that speaks circuit relay v2's HOP protocol by hand (no circuit relay transport refreshing on its own). */
export async function startHopClient(): Promise<Libp2p> {
  return await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionMonitor: { enabled: false } })
}

/**
 * Sends one HOP RESERVE on a new stream and waits for the relay's answer (it
 * closes the stream after it). Returns Date.now() at the answer: the relay set
 * the reservation's deadline to at most this plus its TTL.
 */
export async function reserveByHand(client: Libp2p, relayAddr: string): Promise<number> {
  const stream = await client.dialProtocol(multiaddr(relayAddr), RELAY_V2_HOP_CODEC, { signal: AbortSignal.timeout(10_000) })
  // a length-prefixed HopMessage { type: RESERVE (0) }: field 1, varint 0
  stream.send(Uint8Array.of(2, 0x08, 0x00))
  let answered = 0
  for await (const chunk of stream) answered += chunk.byteLength
  if (answered === 0) throw new Error('the relay closed the HOP stream without an answer')
  const at = Date.now()
  await stream.close().catch(() => {})
  return at
}
