import { MalformedFrameError, type TandemError } from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import { FramedSession, type FrameCodec, type FrameHandler, type Link, type LinkHandlers } from '../src/index.js'

// Frames are strings; 'bad…' does not decode.
const text = new TextEncoder()
const untext = new TextDecoder()
const codec: FrameCodec<string> = {
  encode: frame => text.encode(frame),
  decode: bytes => {
    const frame = untext.decode(bytes)
    if (frame.startsWith('bad')) throw new MalformedFrameError(`cannot decode ${frame}`)
    return frame
  },
  errorFrame: error => `error ${error.code}`
}

/** A link the test drives: it delivers frames, and holds writes back while `congested`. */
class TestLink implements Link {
  readonly remotePeerId = 'peer'
  readonly direction = 'outbound' as const
  handlers: LinkHandlers | null = null
  readonly written: string[] = []
  closedWith: Array<TandemError | undefined> = []
  congestedNow = false
  failWrites: Error | null = null
  private readonly drains: Array<() => void> = []

  start(handlers: LinkHandlers): void {
    this.handlers = handlers
  }
  async send(frame: Uint8Array): Promise<void> {
    if (this.failWrites !== null) throw this.failWrites
    this.written.push(untext.decode(frame))
    if (this.congestedNow)
      await new Promise<void>(resolve => {
        this.drains.push(resolve)
      })
  }

  close(error?: TandemError): void {
    this.closedWith.push(error)
  }
  deliver(...frames: string[]): void {
    for (const f of frames) this.handlers!.onFrame(text.encode(f))
  }
  drain(): void {
    this.congestedNow = false
    for (const d of this.drains.splice(0)) d()
  }
}

/** A session over a test link whose handler records what it saw; frames named 'slow…' wait for `release()`. */
function session(options: { fastPath?: boolean; errorFrame?: boolean } = {}) {
  const link = new TestLink()
  const seen: string[] = []
  const ends: Array<Error | undefined> = []
  const failures: TandemError[] = []
  const waiting: Array<() => void> = []
  const handler: FrameHandler<string> = {
    handle: async frame => {
      if (frame.startsWith('slow'))
        await new Promise<void>(resolve => {
          waiting.push(resolve)
        })
      if (frame === 'throw') throw new Error('handler broke')
      seen.push(frame)
    },
    handleNow:
      options.fastPath === true
        ? frame => {
            if (!frame.startsWith('now')) return false
            seen.push(`${frame} (sync)`)
            return true
          }
        : undefined,
    failed: error => {
      failures.push(error)
    },
    closed: error => {
      ends.push(error)
    }
  }
  const s = new FramedSession(link, options.errorFrame === false ? { ...codec, errorFrame: undefined } : codec, handler)
  s.start()
  const release = (): void => {
    for (const r of waiting.splice(0)) r()
  }
  return { s, link, seen, ends, failures, release }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

describe('FramedSession', () => {
  it('handles frames strictly in order, the next once the one before is done', async () => {
    const { link, seen, release } = session()
    link.deliver('slow-1', '2', '3')
    await settle()
    expect(seen).toEqual([])
    release()
    await settle()
    expect(seen).toEqual(['slow-1', '2', '3'])
  })

  it('handles a frame synchronously on the fast path when nothing is queued ahead of it', async () => {
    const { link, seen, release } = session({ fastPath: true })
    link.deliver('now-1')
    expect(seen).toEqual(['now-1 (sync)'])
    link.deliver('slow-2')
    link.deliver('now-3') // queued behind slow-2: handled in its turn, not on the fast path
    await settle()
    release()
    await settle()
    expect(seen).toEqual(['now-1 (sync)', 'slow-2', 'now-3'])
  })

  it('writes a frame at once when nothing is in flight, and the next ones after it in order', async () => {
    const { s, link } = session()
    link.congestedNow = true
    void s.send('a')
    expect(link.written).toEqual(['a']) // synchronously
    const later = [s.send('b'), s.send('c')]
    await settle()
    expect(link.written).toEqual(['a']) // waiting for the transport's backpressure
    link.drain()
    await Promise.all(later)
    expect(link.written).toEqual(['a', 'b', 'c'])
    void s.send('d')
    expect(link.written).toEqual(['a', 'b', 'c', 'd'])
  })

  it('on a bad frame tells the peer why in an error frame, then closes the link and reports the end once', async () => {
    const { link, ends, failures } = session()
    link.deliver('bad frame')
    expect(failures.map(e => e.code)).toEqual(['ERR_MALFORMED_FRAME'])
    expect(link.written).toEqual(['error ERR_MALFORMED_FRAME'])
    expect(ends.map(e => (e as TandemError).code)).toEqual(['ERR_MALFORMED_FRAME'])
    await settle()
    expect(link.closedWith.map(e => e?.code)).toEqual(['ERR_MALFORMED_FRAME'])
    link.handlers!.onClose()
    expect(ends).toHaveLength(1)
  })

  it('closes without a word where the protocol gives this side no error frame', () => {
    const { link, ends } = session({ errorFrame: false })
    link.deliver('bad frame')
    expect(link.written).toEqual([])
    expect(link.closedWith.map(e => e?.code)).toEqual(['ERR_MALFORMED_FRAME'])
    expect(ends).toHaveLength(1)
  })

  it('fails with a typed internal error when a handler throws something untyped', async () => {
    const { link, ends } = session()
    link.deliver('throw')
    await settle()
    expect(link.written).toEqual(['error ERR_INTERNAL'])
    expect((ends[0] as TandemError).message).toBe('handler broke')
  })

  it('handles the frames before a bad one first, then fails in its turn', async () => {
    const { link, seen, ends, release } = session()
    link.deliver('slow-1', '2', 'bad', '4')
    await settle()
    expect(ends).toEqual([])
    release()
    await settle()
    expect(seen).toEqual(['slow-1', '2'])
    expect(ends).toHaveLength(1)
  })

  it('reports the end once, however many ways it closes', () => {
    const { s, link, ends } = session()
    s.close()
    s.close()
    s.fail(new Error('late'))
    link.handlers!.onClose(new Error('gone'))
    expect(ends).toEqual([undefined])
    expect(link.closedWith).toEqual([undefined])
    expect(s.isClosed).toBe(true)
  })

  it('neither handles nor sends frames once closed', async () => {
    const { s, link, seen } = session()
    s.close()
    link.deliver('1')
    await s.send('2')
    await settle()
    expect(seen).toEqual([])
    expect(link.written).toEqual([])
  })

  it('ends the session when a write fails, and its send still resolves', async () => {
    const { s, link, ends } = session()
    const gone = new Error('stream reset')
    link.failWrites = gone
    await expect(s.send('a')).resolves.toBeUndefined()
    expect(ends).toEqual([gone])
  })

  it("ends the session when the link closes, with the link's reason", () => {
    const { link, ends } = session()
    const reset = new Error('reset by peer')
    link.handlers!.onClose(reset)
    expect(ends).toEqual([reset])
  })

  it('fails the session on a transport error, telling the peer', () => {
    const { link, ends } = session()
    link.handlers!.onError(new MalformedFrameError('oversized'))
    expect(link.written).toEqual(['error ERR_MALFORMED_FRAME'])
    expect(ends).toHaveLength(1)
  })
})
