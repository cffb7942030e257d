import { afterEach, expect, it } from 'vitest'
import { WebSocket as WsWebSocket } from 'ws'
import { describeLinkConformance, within } from './link-conformance.js'
import { libp2pLinkPair } from './libp2p-pair.js'
import { SEND_HIGH_WATER_BYTES } from '../src/stream-link.js'

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
