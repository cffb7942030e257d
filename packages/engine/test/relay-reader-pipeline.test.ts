import { BadSignatureError, TandemError, UnknownEpochError } from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BlobCodec, DecodedBlob } from '../src/relay/blob-codec.js'
import type { RelayConnection } from '../src/relay/relay-connection.js'
import { MAX_OPENING } from '../src/relay/blob-turns.js'
import { RelayReader, type RelayReaderHost } from '../src/relay/relay-reader.js'
import type { DocRelayState, RelayState } from '../src/relay/relay-state.js'
import type { RelayStateSaver } from '../src/relay/relay-state-saver.js'

// Issue 14's speed: the reader opens (verifies, decrypts, inflates) the blobs the relay sends
// side by side, as they arrive, and applies them one at a time in the order they came. These
// tests hold it to every guarantee of the one-at-a-time reader: the order of applies and of
// rejections, rejected blobs never applied, blobs of an unknown generation parked with the
// cursor held before them, `caught-up` only after what came before it, nothing of a lost
// connection applied, and a bounded number of blobs in hand.

const DOC = 'chat:0123456789abcdef01234567'

/** A blob's bytes name the update it opens to: [index]; its decode is released by the test. */
interface PendingDecode {
  index: number
  resolve(result: DecodedBlob | TandemError): void
}

function rig() {
  const doc = new Y.Doc()
  const st: DocRelayState = { cursor: 0, uploaded: new Map(), acked: new Map(), ackedDurable: new Map() }
  const log: string[] = []
  const decodes: PendingDecode[] = []
  let connected = true
  const codec = {
    decode: (_docId: string, blob: Uint8Array) =>
      new Promise<DecodedBlob>((resolve, reject) => {
        decodes.push({ index: blob[0]!, resolve: r => (r instanceof TandemError ? reject(r) : resolve(r)) })
      })
  } as unknown as BlobCodec
  const host: RelayReaderHost = {
    codec,
    membership: () => null,
    open: async () => doc,
    get: () => doc,
    apply: (_docId, _doc, update) => {
      log.push(`apply ${update[0]}`)
    },
    awaitsAck: () => false,
    needsRefetch: () => false,
    needsResume: () => false,
    resumed: () => {}
  }
  const state = { doc: () => st } as unknown as RelayState
  const saver = { ackGrew() {}, saveSoon() {}, saveLater() {} } as unknown as RelayStateSaver
  const connection = { close: () => log.push('closed'), send: async () => {} } as unknown as RelayConnection
  const reader = new RelayReader('relay', host, state, saver, () => (connected ? connection : null), {
    onProgress: () => {},
    onLive: () => {},
    onError: e => log.push(`error ${e.code}`),
    onSettled: () => log.push('settled'),
    onRejected: (_docId, e, waiting) => log.push(`rejected ${e.code}${waiting ? ' (waits)' : ''}`),
    onAdvanced: () => {},
    onRefetched: () => {},
    onLiveApplied: (_docId, liveId) => log.push(`live applied ${liveId}`),
    onLiveLost: () => {}
  })
  /** Blob `index` opens to update [index], reaching clock `index` of client 1000 + index. */
  const opened = (index: number): DecodedBlob => ({ update: new Uint8Array([index]), reach: new Map([[1000 + index, index]]) })
  /** Resolves the decode of blob `index` (as opened, or failed with `error`). */
  const release = (index: number, error?: TandemError): void => {
    const i = decodes.findIndex(d => d.index === index)
    if (i < 0) throw new Error(`blob ${index} is not being opened`)
    const [d] = decodes.splice(i, 1)
    d!.resolve(error ?? opened(index))
  }
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise<void>(resolve => setImmediate(resolve))
  }
  return {
    reader,
    st,
    log,
    decodes,
    release,
    settle,
    disconnect: () => {
      connected = false
      reader.disconnected()
    }
  }
}

const blob = (index: number): Uint8Array => new Uint8Array([index, 0, 0, 0])

describe('RelayReader: blobs opened side by side, applied in order', () => {
  it('starts opening every blob as it comes, applies them in the order they came however they finish, and moves the cursor with them', async () => {
    const r = rig()
    r.reader.backlog(DOC, 5, 5, 20)
    for (let seq = 1; seq <= 5; seq++) await r.reader.received(DOC, seq, blob(seq)) // (resolves before the blob is applied)
    r.reader.caughtUp(DOC)
    expect(r.decodes.map(d => d.index)).toEqual([1, 2, 3, 4, 5])
    for (const i of [5, 3, 4, 2]) r.release(i)
    await r.settle()
    expect(r.log).toEqual([]) // blob 1 is not open yet: nothing after it is applied, nor caught up
    expect(r.st.cursor).toBe(0)
    r.release(1)
    await r.settle()
    expect(r.log).toEqual(['apply 1', 'apply 2', 'apply 3', 'apply 4', 'apply 5', 'settled'])
    expect(r.st.cursor).toBe(5)
  })

  it('reports a blob that does not open in its turn and never applies it; the ones after it are applied', async () => {
    const r = rig()
    for (let seq = 1; seq <= 3; seq++) await r.reader.received(DOC, seq, blob(seq))
    r.release(3)
    r.release(2, new BadSignatureError('forged'))
    await r.settle()
    expect(r.log).toEqual([])
    r.release(1)
    await r.settle()
    expect(r.log).toEqual(['apply 1', 'rejected ERR_BAD_SIGNATURE', 'apply 3'])
    expect(r.st.cursor).toBe(3)
  })

  it('parks a blob of a generation not held yet, holds the cursor before it, and applies it in order once the keys come', async () => {
    const r = rig()
    for (let seq = 1; seq <= 3; seq++) await r.reader.received(DOC, seq, blob(seq))
    r.release(1)
    r.release(2, new UnknownEpochError('no key of epoch 2'))
    r.release(3)
    await r.settle()
    expect(r.log).toEqual(['apply 1', 'rejected ERR_UNKNOWN_EPOCH (waits)', 'apply 3'])
    expect(r.st.cursor).toBe(1) // (blob 2 is not on our disk: a restart must fetch it again)
    const keys = r.reader.keysChanged()
    await r.settle()
    r.release(2)
    await keys
    expect(r.log.slice(3)).toEqual(['apply 2'])
    expect(r.st.cursor).toBe(3)
  })

  it('opens a parked blob once for keys that came several times while its pass waited for its turn', async () => {
    const r = rig()
    await r.reader.received(DOC, 1, blob(1))
    r.release(1, new UnknownEpochError('an author no chain lists yet'))
    await r.settle()
    await r.reader.received(DOC, 2, blob(2)) // (its turn holds the pass below until it opens)
    const passes = [r.reader.keysChanged(), r.reader.keysChanged(), r.reader.keysChanged()]
    expect(passes[1]).toBe(passes[0])
    expect(passes[2]).toBe(passes[0])
    r.release(2)
    await r.settle()
    expect(r.decodes.map(d => d.index)).toEqual([1]) // one open of blob 1, not three
    r.release(1)
    await Promise.all(passes)
    expect(r.log).toEqual(['rejected ERR_UNKNOWN_EPOCH (waits)', 'apply 2', 'apply 1'])
    // a change once the pass has started is another pass
    expect(r.reader.keysChanged()).not.toBe(passes[0])
  })

  it('keeps at most MAX_OPENING blobs in hand: the next waits (and with it the connection’s frames) until one is applied', async () => {
    const r = rig()
    const n = MAX_OPENING + 3
    let received = 0
    const feeding = (async () => {
      for (let seq = 1; seq <= n; seq++) {
        await r.reader.received(DOC, seq, blob(seq))
        received = seq
      }
    })()
    await r.settle()
    expect(received).toBe(MAX_OPENING)
    expect(r.decodes.length).toBe(MAX_OPENING)
    for (let i = MAX_OPENING; i >= 2; i--) r.release(i)
    await r.settle()
    expect(received).toBe(MAX_OPENING) // opened, but not applied: still in hand
    r.release(1)
    await r.settle()
    expect(received).toBe(n)
    for (let i = MAX_OPENING + 1; i <= n; i++) r.release(i)
    await feeding
    await r.settle()
    expect(r.log).toEqual(Array.from({ length: n }, (_, i) => `apply ${i + 1}`))
  })

  it('applies a live blob in its turn, after the backfill before it, and its commit notice after it', async () => {
    const r = rig()
    await r.reader.received(DOC, 1, blob(1))
    await r.reader.live(DOC, 7, blob(2))
    await r.reader.committed(DOC, 2, 7)
    r.release(2)
    await r.settle()
    expect(r.log).toEqual([])
    r.release(1)
    await r.settle()
    expect(r.log).toEqual(['apply 1', 'apply 2', 'live applied 7'])
    expect(r.st.cursor).toBe(2)
    expect(r.reader.uncommitted(DOC, [7])).toBe(false) // (the notice named it)
  })

  it('takes the relay holding a live blob from its commit notice, however late the notice comes after the grace check', async () => {
    const r = rig()
    await r.reader.live(DOC, 7, blob(2))
    r.release(2)
    await r.settle()
    expect(r.log).toEqual(['apply 2', 'live applied 7'])
    // the grace period is over and no notice came: the uploader is told so (it uploads what the relay may lack)
    expect(r.reader.uncommitted(DOC, [7])).toBe(true)
    expect(r.st.acked.get(1002)).toBeUndefined()
    await r.reader.committed(DOC, 1, 7)
    await r.settle()
    expect(r.st.acked.get(1002), 'the late notice raises what the relay holds').toBe(2)
    expect(r.reader.uncommitted(DOC, [7])).toBe(false)
  })

  it('drops what a lost connection sent and is not applied yet: the cursor stays before it, and the relay sends it again', async () => {
    const r = rig()
    for (let seq = 1; seq <= 3; seq++) await r.reader.received(DOC, seq, blob(seq))
    r.release(1)
    await r.settle()
    r.disconnect()
    r.release(2)
    r.release(3)
    await r.settle()
    expect(r.log).toEqual(['apply 1'])
    expect(r.st.cursor).toBe(1)
  })
})
