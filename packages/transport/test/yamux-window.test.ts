import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { defaultLogger } from '@libp2p/logger'
import { Uint8ArrayList } from 'uint8arraylist'
import { expect, it } from 'vitest'
import { yamuxHalfWindow } from '../src/index.js'

// yamux's frame types and flags (its frame.ts, not exported): the spec's numbers
const DATA = 0
const WINDOW_UPDATE = 1
const ACK = 2
const WINDOW = 1024

interface Header {
  type: number
  flag: number
  streamID: number
  length: number
}

/** An inbound yamux stream as the muxer makes one, its frames caught instead of sent. */
function inboundStream(): { stream: YamuxStream; sent: Header[]; receive: (bytes: number) => void } {
  yamuxHalfWindow({}) // installs the half-window rule, as the engine's and the relay's nodes do
  const sent: Header[] = []
  const stream = new YamuxStream({
    id: '1',
    streamId: 1,
    direction: 'inbound',
    log: defaultLogger().forComponent('yamux-window-test'),
    state: StreamState.SYNReceived,
    initialStreamWindowSize: WINDOW,
    maxStreamWindowSize: WINDOW,
    getRTT: () => -1,
    sendFrame: header => {
      sent.push(header as Header)
      return true
    }
  })
  const receive = (bytes: number): void => {
    stream.handleData({ header: { type: DATA, flag: 0, streamID: 1, length: bytes }, data: new Uint8ArrayList(new Uint8Array(bytes)) } as never)
  }
  return { stream, sent, receive }
}

it('a stream answers its first data frame with the ACK, then small frames with nothing until half the window is used', () => {
  const { sent, receive } = inboundStream()
  receive(10)
  expect(sent).toEqual([{ type: WINDOW_UPDATE, flag: ACK, streamID: 1, length: 10 }])
  // 500 more bytes: the sender still has 524 of 1,024 bytes of credit, half or more
  for (let i = 0; i < 50; i++) receive(10)
  expect(sent).toHaveLength(1)
  // 20 more: 504 left, under half: one update gives back all 520 used
  receive(20)
  expect(sent.slice(1)).toEqual([{ type: WINDOW_UPDATE, flag: 0, streamID: 1, length: 520 }])
})

it('a sender never runs out of credit: each update comes before half the window is left, whatever the frame sizes', () => {
  const { sent, receive } = inboundStream()
  let credit = WINDOW
  const sizes = [1, 511, 100, 400, 300, 1, 700, 24, 512, 512, 3]
  for (const n of sizes) {
    const before = sent.length
    expect(n).toBeLessThanOrEqual(credit)
    receive(n)
    credit -= n
    for (const h of sent.slice(before)) credit += h.length
    expect(credit).toBeGreaterThanOrEqual(WINDOW / 2)
  }
})
