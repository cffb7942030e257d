import { FrameTooLargeError, MAX_FRAME_BYTES, TandemError } from '@tandem/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Link } from '../src/index.js'
import { patternBytes } from '@tandem/storage/testing'

/** A connected pair of links, not yet started: what one implementation's setup gives the suite. */
export interface LinkPair {
  /** The side that opened the link. */
  dialer: Link
  /** The side that accepted it. */
  listener: Link
  /** The peer ids the two ends really are (their own keys), for checking `remotePeerId`. */
  dialerPeerId: string
  listenerPeerId: string
  /** Stops everything setup started. */
  teardown(): Promise<void>
}

export interface LinkConformanceOptions {
  /** The transport has a bounded send buffer: a burst of megabytes must make `congested()` report it. */
  backpressure?: boolean
}

/** How long any one awaited event may take before the test fails with a clear message. */
const WAIT_MS = 10_000

/**
 * The Link contract as its users rely on it (FramedSession, under SyncSession, RelayConnection and the relay's StoreSession): frames
 * whole and in order, nothing lost under backpressure, the close ordered after the frames sent
 * before it (the session sends an ERROR frame, then closes), a close seen on both sides, a send
 * on a closed link that settles rather than hangs, and the frame bound enforced by the receiver.
 */
export function describeLinkConformance(name: string, setup: () => Promise<LinkPair>, options: LinkConformanceOptions = {}): void {
  describe(`Link contract: ${name}`, () => {
    let pair: LinkPair
    beforeEach(async () => {
      pair = await setup()
    })
    afterEach(async () => {
      await pair.teardown()
    })

    it('frames arrive whole and in order in both directions', async () => {
      const a = record(pair.dialer)
      const b = record(pair.listener)
      const toB = Array.from({ length: 50 }, (_, i) => numbered(i, 1 + ((i * 997) % 5000)))
      const toA = Array.from({ length: 50 }, (_, i) => numbered(1000 + i, 1 + ((i * 613) % 3000)))
      // interleaved and not awaited one by one: both directions busy at once
      await Promise.all(toB.flatMap((f, i) => [pair.dialer.send(f), pair.listener.send(toA[i]!)]))
      await within(b.frames(toB.length), 'the listener to get every frame')
      await within(a.frames(toA.length), 'the dialer to get every frame')
      expectSameFrames(b.received, toB)
      expectSameFrames(a.received, toA)
      expect([...a.errors, ...b.errors]).toEqual([])
    })

    it('remotePeerId names the authenticated peer and direction says who dialed', () => {
      expect(pair.dialer.remotePeerId).toBe(pair.listenerPeerId)
      expect(pair.listener.remotePeerId).toBe(pair.dialerPeerId)
      expect(pair.dialer.direction).toBe('outbound')
      expect(pair.listener.direction).toBe('inbound')
    })

    it('frames sent before the other side starts are delivered once it starts', async () => {
      // the dialer writes its hello at once; the listener's session may start a moment later
      record(pair.dialer)
      const sent = [numbered(1, 10), numbered(2, 20)]
      for (const f of sent) await pair.dialer.send(f)
      const b = record(pair.listener)
      await within(b.frames(2), 'the late starter to get the frames')
      expectSameFrames(b.received, sent)
    })

    it('a frame up to MAX_FRAME_BYTES arrives intact', async () => {
      record(pair.dialer)
      const b = record(pair.listener)
      const big = patternBytes(MAX_FRAME_BYTES, 7)
      await pair.dialer.send(big)
      await within(b.frames(1), 'the largest allowed frame')
      expect(b.errors).toEqual([])
      expectSameFrames(b.received, [big])
    })

    it('a frame over MAX_FRAME_BYTES is refused with a FrameTooLargeError on onError and nothing after it is delivered', async () => {
      record(pair.dialer)
      const b = record(pair.listener)
      const before = numbered(1, 100)
      void pair.dialer.send(before)
      void pair.dialer.send(new Uint8Array(MAX_FRAME_BYTES + 1))
      void pair.dialer.send(numbered(2, 100))
      const error = await within(b.firstError, 'onError for the oversized frame')
      expect(error).toBeInstanceOf(FrameTooLargeError)
      // the session answers a bad frame by closing; frames sent before a close arrive before it,
      // so the one after the oversized frame would have been seen by now if it were delivered
      pair.listener.close(error)
      await within(b.closed, 'the receiver to close')
      expectSameFrames(b.received, [before])
    })

    it('a frame sent just before close arrives before the close', async () => {
      const a = record(pair.dialer)
      const b = record(pair.listener)
      // as SyncSession.fail does: an ERROR frame, then close with the error, without waiting
      const last = numbered(42, 300)
      void pair.dialer.send(last).catch(() => {})
      pair.dialer.close(new TandemError('ERR_INTERNAL', 'going away'))
      await within(b.closed, 'the listener to see the close')
      expectSameFrames(b.received, [last])
      expect(b.framesAtClose).toBe(1)
      await within(a.closed, 'the dialer to see its own close')
    })

    it('closing one side closes the other, and a clean close carries no error', async () => {
      const a = record(pair.dialer)
      const b = record(pair.listener)
      pair.listener.close()
      expect(await within(b.closed, "the closing side's onClose")).toBeUndefined()
      expect(await within(a.closed, "the other side's onClose")).toBeUndefined()
      expect(a.closes + b.closes).toBe(2)
    })

    it('both sides closing at once closes both', async () => {
      const a = record(pair.dialer)
      const b = record(pair.listener)
      pair.dialer.close()
      pair.listener.close()
      await within(Promise.all([a.closed, b.closed]), 'both closes')
      expect(a.closes + b.closes).toBe(2)
    })

    it('send on a closed link rejects rather than hangs, on either side', async () => {
      const a = record(pair.dialer)
      const b = record(pair.listener)
      pair.dialer.close()
      await within(Promise.all([a.closed, b.closed]), 'both closes')
      // the session and the relay connection treat a rejected send as the link going away
      await expect(within(pair.dialer.send(numbered(1, 10)), 'send on the closed side')).rejects.toThrow()
      await expect(within(pair.listener.send(numbered(2, 10)), 'send on the remotely closed side')).rejects.toThrow()
      expect(a.received).toEqual([])
    })

    it('send resolves under backpressure and nothing is lost', async () => {
      record(pair.dialer)
      const b = record(pair.listener)
      // 8 MB: well past yamux's initial 256 KiB window and what a socket takes at once
      const frames = Array.from({ length: 128 }, (_, i) => numbered(i, 64 * 1024 - (i % 7)))
      let congested = false
      const sends: Array<Promise<void>> = []
      for (const [i, f] of frames.entries()) {
        const sent = pair.dialer.send(f)
        if (pair.dialer.congested?.() === true) congested = true
        // half awaited one by one (the session's send chain), half fired at once (a burst)
        if (i < frames.length / 2) await within(sent, `send #${i}`)
        else sends.push(sent)
      }
      await within(Promise.all(sends), 'every send of the burst to resolve')
      if (options.backpressure === true) expect(congested).toBe(true)
      await within(b.frames(frames.length), 'every frame to arrive')
      expectSameFrames(b.received, frames)
    })
  })
}

interface Recorder {
  received: Uint8Array[]
  errors: TandemError[]
  closes: number
  /** How many frames had arrived when onClose came. */
  framesAtClose: number
  closed: Promise<Error | undefined>
  firstError: Promise<TandemError>
  /** Resolves once `n` frames have arrived. */
  frames(n: number): Promise<void>
}

/** Starts a link with handlers that record everything it reports. */
function record(link: Link): Recorder {
  let closedResolve!: (error: Error | undefined) => void
  let errorResolve!: (error: TandemError) => void
  const waiters: Array<{ n: number; resolve: () => void }> = []
  const r: Recorder = {
    received: [],
    errors: [],
    closes: 0,
    framesAtClose: -1,
    closed: new Promise(resolve => {
      closedResolve = resolve
    }),
    firstError: new Promise(resolve => {
      errorResolve = resolve
    }),
    frames: n =>
      r.received.length >= n
        ? Promise.resolve()
        : new Promise(resolve => {
            waiters.push({ n, resolve })
          })
  }
  link.start({
    onFrame: frame => {
      // a copy: the frame may be a view into a buffer the transport reuses
      r.received.push(frame.slice())
      for (const w of waiters) if (r.received.length >= w.n) w.resolve()
    },
    onError: error => {
      r.errors.push(error)
      errorResolve(error)
    },
    onClose: error => {
      r.closes++
      if (r.framesAtClose < 0) r.framesAtClose = r.received.length
      closedResolve(error)
    }
  })
  return r
}

/** `promise`, or a clear failure after WAIT_MS: a lost frame or close fails the test by name. */
export async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A frame of `size` bytes that carries its number in the first 4 bytes and a pattern after. */
function numbered(n: number, size: number): Uint8Array {
  const f = patternBytes(Math.max(size, 4), n)
  new DataView(f.buffer).setUint32(0, n)
  return f
}

/** Compares frame lists without printing megabytes when they differ. */
function expectSameFrames(actual: Uint8Array[], expected: Uint8Array[]): void {
  expect(actual.length, 'frame count').toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    expect(a.byteLength, `length of frame #${i}`).toBe(e.byteLength)
    const at = a.findIndex((byte, j) => byte !== e[j])
    expect(at, `first differing byte of frame #${i}`).toBe(-1)
  }
}
