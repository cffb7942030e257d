import type { Stream } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, expect, it } from 'vitest'
import { WebSocket as WsWebSocket } from 'ws'
import { describeLinkConformance, within } from './link-conformance.js'
import { libp2pLinkPair } from './libp2p-pair.js'
import { SEND_HIGH_WATER_BYTES, StreamLink } from '../src/stream-link.js'

// @libp2p/websockets dials with globalThis.WebSocket, which Node 20 has only behind a flag;
// the relay's polyfill sets it from `ws` the same way (transport's own polyfill must not).
const G = globalThis as unknown as { WebSocket?: unknown }
if (typeof G.WebSocket !== 'function') G.WebSocket = WsWebSocket

describeLinkConformance('StreamLink over libp2p TCP + Noise + yamux', async () => await libp2pLinkPair('tcp'), { backpressure: true })
describeLinkConformance('StreamLink over libp2p WebSockets + Noise + yamux', async () => await libp2pLinkPair('ws'), { backpressure: true })

const teardowns: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const t of teardowns.splice(0)) await t()
})

it('a send waits for the stream to drain whenever more than the high-water mark is queued, every time and not only the first', async () => {
  // @libp2p/utils 7.4's stream.onDrain() hands back the first drain's settled promise ever
  // after: a link that used it stopped applying backpressure after its first congestion
  const pair = await libp2pLinkPair('tcp')
  teardowns.push(pair.teardown)
  const stream = pair.dialerStream
  let received = 0
  let allReceived!: () => void
  const done = new Promise<void>(resolve => {
    allReceived = resolve
  })
  pair.listener.start({
    onFrame: () => {
      if (++received === 128) allReceived()
    },
    onError: () => {},
    onClose: () => {}
  })
  pair.dialer.start({ onFrame: () => {}, onError: () => {}, onClose: () => {} })
  let drains = 0
  stream.addEventListener('drain', () => {
    drains++
  })
  let waits = 0
  const frame = new Uint8Array(64 * 1024)
  for (let i = 0; i < 128; i++) {
    const before = drains
    await within(pair.dialer.send(frame), `send #${i}`)
    // what a resolved send leaves queued is bounded, however long the burst
    expect(stream.writeBufferLength, `after send #${i}`).toBeLessThanOrEqual(SEND_HIGH_WATER_BYTES)
    if (drains > before) waits++
  }
  // the test means something only if the bound was reached more than once
  expect(waits).toBeGreaterThanOrEqual(2)
  await within(done, 'every frame to arrive')
})

it('frames whose length prefix arrives a byte at a time, and several frames in one chunk, arrive whole and in order', () => {
  const stream = new EventTarget()
  const got: Uint8Array[] = []
  new StreamLink(stream as unknown as Stream, 'peer', 'inbound').start({
    onFrame: f => got.push(f.slice()),
    onError: err => got.push(new Uint8Array([0xee, err ? 1 : 0])),
    onClose: () => {}
  })
  const deliver = (data: Uint8Array | Uint8ArrayList): void => {
    stream.dispatchEvent(Object.assign(new Event('message'), { data }))
  }
  const frame = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)
  const wire = (f: Uint8Array): Uint8Array => new Uint8ArrayList(varint.encode(f.byteLength), f).subarray()
  // a 300-byte frame (a 2-byte prefix), one byte per chunk
  for (const byte of wire(frame(300, 1))) deliver(new Uint8Array([byte]))
  // two frames and the first byte of a third's prefix in one list, the rest after
  const third = wire(frame(20_000, 3))
  deliver(new Uint8ArrayList(wire(frame(5, 2)), wire(frame(1, 4)), third.subarray(0, 1)))
  deliver(third.subarray(1))
  expect(got.map(f => [f.byteLength, f[0]])).toEqual([
    [300, 1],
    [5, 2],
    [1, 4],
    [20_000, 3]
  ])
})
