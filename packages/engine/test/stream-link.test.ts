import type { Stream } from '@libp2p/interface'
import { FrameTooLargeError, MAX_FRAME_BYTES } from '@tandem/protocol'
import { StreamLink } from '@tandem/transport'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { expect, it } from 'vitest'

/** Just what StreamLink reads from a libp2p stream: its events. */
function fakeStream(): { stream: Stream; deliver: (data: Uint8Array | Uint8ArrayList) => void } {
  const target = new EventTarget()
  const deliver = (data: Uint8Array | Uint8ArrayList): void => {
    const evt = Object.assign(new Event('message'), { data })
    target.dispatchEvent(evt)
  }
  return { stream: target as unknown as Stream, deliver }
}

const framed = (body: Uint8Array): Uint8ArrayList => new Uint8ArrayList(varint.encode(body.byteLength), body)

it('takes megabytes of whole frames that arrive in one piece (a reader that was busy) as frames, not as one oversized frame', () => {
  const { stream, deliver } = fakeStream()
  const frames: Uint8Array[] = []
  const errors: Error[] = []
  new StreamLink(stream, 'peer', 'inbound').start({ onFrame: f => frames.push(f), onError: e => errors.push(e), onClose: () => {} })
  const all = new Uint8ArrayList()
  for (let i = 0; i < 40; i++) all.append(framed(new Uint8Array(100_000).fill(i)))
  deliver(all) // 4 MB in one event, as after a long pause
  deliver(all.subarray()) // and once more as a single Uint8Array
  expect(errors).toEqual([])
  expect(frames).toHaveLength(80)
  expect(frames.map(f => f[0])).toEqual([...Array(40).keys(), ...Array(40).keys()])
  expect(frames.every(f => f.byteLength === 100_000)).toBe(true)
})

it('still refuses a frame over MAX_FRAME_BYTES', () => {
  const { stream, deliver } = fakeStream()
  const errors: Error[] = []
  new StreamLink(stream, 'peer', 'inbound').start({ onFrame: () => {}, onError: e => errors.push(e), onClose: () => {} })
  deliver(framed(new Uint8Array(MAX_FRAME_BYTES + 1)))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toBeInstanceOf(FrameTooLargeError)
})
