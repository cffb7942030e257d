// The device side of /tandem/store streams to a StoreService over the in-memory link pair,
// frame by frame, shared by the store-service tests.
import { randomBytes } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect } from 'vitest'
import { MAX_CHUNK_BYTES, STORE_PROTOCOL_VERSION, decodeStoreFrame, encodeStoreFrame, headOf, type ChainHead, type StoreFrame } from '@tandem/protocol'
import { createMemoryLinkPair, type Link } from '@tandem/transport'
import { LevelAccessRecords } from '../src/access/level-access-records.js'
import { HistoryStore, type HistoryOptions } from '../src/history/history-store.js'
import { createLogger } from '../src/logger.js'
import { RelayMetrics } from '../src/metrics.js'
import { StoreService, type StoreServiceOptions } from '../src/store-service/store-service.js'
import { TestAccount, type TestDevice } from '../src/testing/test-chain.js'
import type { RelayTimers } from '../src/timers.js'

export const RELAY_PEER = '12D3KooWrelay'
const logger = createLogger({ level: 'silent' })
const WAIT_MS = 3000

export const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})

/**
 * What a device acts on: every frame but `notices`, which it takes one entry at a time —
 * an `echo` of its own upload (liveId 0), or the `committed` seq of a blob it got live.
 */
export type Got = Exclude<StoreFrame, { type: 'notices' }> | { type: 'echo'; docId: string; seq: number } | { type: 'committed'; docId: string; seq: number; liveId: number }
export type Frame<T extends Got['type']> = Extract<Got, { type: T }>
export type Filter = (f: Got) => boolean

export const ofType =
  <T extends Got['type']>(type: T, docId?: string) =>
  (f: Got): f is Frame<T> =>
    f.type === type && (docId === undefined || ('docId' in f && f.docId === docId))
export const forDoc =
  (docId: string): Filter =>
  f =>
    'docId' in f && f.docId === docId

export function received(frame: StoreFrame): Got[] {
  if (frame.type !== 'notices') return [frame]
  return frame.entries.map(n =>
    n.liveId === 0 ? { type: 'echo' as const, docId: frame.docId, seq: n.seq } : { type: 'committed' as const, docId: frame.docId, seq: n.seq, liveId: n.liveId }
  )
}

/**
 * The device side of one /tandem/store stream, driven frame by frame. Received
 * frames wait in a queue; `next(filter)` takes the first one matching, so frames
 * of other docs stay queued for later and each doc's frames keep their order.
 */
export class FakeDevice {
  readonly queue: Got[] = []
  /** Each `notices` frame received: how many entries it named. */
  readonly noticeFrames: number[] = []
  closed = false
  private readonly waiters = new Set<() => void>()

  constructor(
    readonly peerId: string,
    readonly link: Link
  ) {
    link.start({
      onFrame: bytes => {
        const frame = decodeStoreFrame(bytes)
        if (frame.type === 'notices') this.noticeFrames.push(frame.entries.length)
        this.queue.push(...received(frame))
        this.poke()
      },
      onError: () => {},
      onClose: () => {
        this.closed = true
        this.poke()
      }
    })
  }

  send(frame: StoreFrame): Promise<void> {
    return this.link.send(encodeStoreFrame(frame))
  }

  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.link.send(bytes)
  }

  /** Takes the first queued frame matching `filter`, waiting (bounded) for it to arrive. */
  next<T extends Got>(filter: ((f: Got) => f is T) | Filter = () => true, what = 'a frame'): Promise<T> {
    return this.until(what, () => {
      const i = this.queue.findIndex(filter)
      return i < 0 ? undefined : (this.queue.splice(i, 1)[0] as T)
    })
  }

  /** Waits (bounded) until a frame matching `filter` is queued, leaving it queued. */
  async peek(filter: Filter, what = 'a frame'): Promise<void> {
    await this.until(what, () => this.queue.some(filter) || undefined)
  }

  /** The next frame of this doc (or any frame), which must be of `type`. */
  async expectNext<T extends Got['type']>(type: T, docId?: string): Promise<Frame<T>> {
    const frame = await this.next(docId === undefined ? () => true : forDoc(docId), `a frame of ${docId ?? 'any doc'}`)
    expect(frame.type, `${this.peerId}: expected ${type}, got ${JSON.stringify(summary(frame))}`).toBe(type)
    return frame as Frame<T>
  }

  async waitClosed(): Promise<void> {
    await this.until('the stream to close', () => this.closed || undefined)
  }

  /** An ERROR frame, then the stream closes. */
  async expectRefused(code: string): Promise<Frame<'error'>> {
    const error = await this.next(ofType('error'), 'an ERROR frame')
    expect(error.code, error.message).toBe(code)
    await this.waitClosed()
    return error
  }

  /** Frames of `types` still queued (for "nothing else arrived" checks after a barrier). */
  queued(...types: Array<Got['type']>): Got[] {
    return this.queue.filter(f => types.includes(f.type))
  }

  private poke(): void {
    for (const w of [...this.waiters]) w()
  }

  private until<T>(what: string, check: () => T | undefined): Promise<T> {
    const ready = check()
    if (ready !== undefined) return Promise.resolve(ready)
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(onPoke)
      }
      const onPoke = (): void => {
        const value = check()
        if (value !== undefined) {
          done()
          resolve(value)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${this.peerId}: no ${what} within ${WAIT_MS} ms; queued: ${JSON.stringify(this.queue.map(summary))}; closed: ${this.closed}`))
      }, WAIT_MS)
      this.waiters.add(onPoke)
    })
  }
}

export function summary(f: StoreFrame): unknown {
  const { type } = f
  if (f.type === 'blob' || f.type === 'snapshot-data') return { type, docId: f.docId, final: f.final, bytes: f.chunk.byteLength }
  if (f.type === 'welcome') return { type, version: f.head?.version ?? null }
  if (f.type === 'links' || f.type === 'offer-links') return { type, versions: f.links.map(l => l.version), last: f.last }
  if (f.type === 'ephemeral-data') return { type, docId: f.docId, from: f.from }
  if (f.type === 'live') return { type, docId: f.docId, liveId: f.liveId, bytes: f.blob.byteLength }
  return f
}

export async function setup(
  options: Partial<HistoryOptions> = {},
  db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
  timers?: RelayTimers,
  serviceOptions: StoreServiceOptions = {}
) {
  const history = await HistoryStore.open(db, { maxBlobBytes: 1024 * 1024, accountQuotaBytes: 16 * 1024 * 1024, sync: false, ...options })
  const records = await LevelAccessRecords.open(db, { sync: false })
  const metrics = new RelayMetrics({ processMetrics: false })
  const service = new StoreService(history, records, metrics, logger, timers, serviceOptions)
  cleanups.push(async () => {
    service.stop()
    await records.close()
    await history.close()
  })

  /** A new stream from a device to the relay; nothing sent yet. */
  const connect = (peerId: string, o: { slow?: boolean } = {}): FakeDevice => {
    const [device, relay] = createMemoryLinkPair(peerId, RELAY_PEER)
    service.addLink(o.slow === true ? slowSends(relay) : relay)
    const fake = new FakeDevice(peerId, device)
    cleanups.push(async () => {
      device.close()
    })
    return fake
  }

  /**
   * connect + hello naming the account and `head` (default: the head of the chain the test
   * account holds); resolves on welcome.
   */
  const join = async (account: TestAccount, who: TestDevice, o: { slow?: boolean; head?: ChainHead | null } = {}) => {
    const device = connect(who.peerId, o)
    await device.send(hello(account, o.head === undefined ? headOf(account.state) : o.head))
    const welcome = await device.expectNext('welcome')
    return { device, welcome }
  }

  /** The relay holds the account's chain as the test account has it (as if its devices had offered it). */
  const seed = async (account: TestAccount): Promise<void> => {
    const offer = await service.access.offerLinks(account.id, account.links)
    if (offer.refused !== null) throw offer.refused
  }

  return { history, records, metrics, service, connect, join, seed }
}

/** The relay's side of a stream whose every send waits a turn of the event loop, as under backpressure. */
export function slowSends(link: Link): Link {
  return {
    remotePeerId: link.remotePeerId,
    direction: link.direction,
    start: handlers => {
      link.start(handlers)
    },
    send: async frame => {
      await new Promise<void>(resolve => setImmediate(resolve))
      await link.send(frame)
    },
    close: error => {
      link.close(error)
    }
  }
}

let uploadIds = 0

/** Sends a blob as append frames of at most MAX_CHUNK_BYTES; resolves on its ack. */
export async function append(device: FakeDevice, docId: string, bytes: Uint8Array, uploadId = ++uploadIds): Promise<Frame<'ack'>> {
  await sendUpload(device, docId, bytes, uploadId)
  return (await device.next(f => f.type === 'ack' && f.uploadId === uploadId, `the ack of upload ${uploadId}`)) as Frame<'ack'>
}

export async function sendUpload(device: FakeDevice, docId: string, bytes: Uint8Array, uploadId: number, covers?: number): Promise<void> {
  const chunks = chunk(bytes)
  for (const [i, c] of chunks.entries()) {
    const final = i === chunks.length - 1
    await device.send(covers === undefined ? { type: 'append', docId, uploadId, final, chunk: c } : { type: 'snapshot', docId, uploadId, covers, final, chunk: c })
  }
}

export function chunk(bytes: Uint8Array): Uint8Array[] {
  if (bytes.byteLength === 0) return [bytes]
  const out: Uint8Array[] = []
  for (let i = 0; i < bytes.byteLength; i += MAX_CHUNK_BYTES) out.push(bytes.subarray(i, i + MAX_CHUNK_BYTES))
  return out
}

/**
 * Reads one whole entry (or snapshot) of `docId`: its blob frames up to the final one, or
 * — for an entry sent live, before it was durable — the live frame and later its
 * `committed` notice (other frames may come between the two).
 */
export async function receive(device: FakeDevice, docId: string, type: 'blob' | 'snapshot-data'): Promise<{ seq: number; bytes: Buffer; frames: number }> {
  const chunks: Uint8Array[] = []
  let seq = -1
  for (;;) {
    const f = await device.next(forDoc(docId), `a frame of ${docId}`)
    if (f.type === 'live' && type === 'blob' && seq === -1) {
      const done = (await device.next(g => g.type === 'committed' && g.docId === docId && g.liveId === f.liveId, `the commit of live ${f.liveId}`)) as Frame<'committed'>
      return { seq: done.seq, bytes: Buffer.from(f.blob), frames: 1 }
    }
    expect(f.type, `${device.peerId}: expected ${type}, got ${JSON.stringify(summary(f))}`).toBe(type)
    const part = f as Frame<'blob' | 'snapshot-data'>
    const at = part.type === 'blob' ? part.seq : part.covers
    if (seq !== -1) expect(at, 'chunks of one blob carry one seq').toBe(seq)
    seq = at
    chunks.push(part.chunk)
    if (part.final) return { seq, bytes: Buffer.concat(chunks), frames: chunks.length }
  }
}

export const bytesOf = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

/** An account with a genesis (its first device), keys from random bytes. */
export const newAccount = (): TestAccount => new TestAccount(n => new Uint8Array(randomBytes(n)))

/** A hello naming the account (null: a device being linked) and the head it holds. */
export const hello = (account: TestAccount | null, head: ChainHead | null = account === null ? null : headOf(account.state)): StoreFrame => ({
  type: 'hello',
  version: STORE_PROTOCOL_VERSION,
  accountId: account?.id ?? null,
  head
})

/** The relay's timers, held: none fires by itself; `due(ms)` hands over those of that delay to fire (every one without `ms`). */
export function heldTimers(): RelayTimers & { due(ms?: number): Array<() => void> } {
  const held = new Set<{ fn: () => void; ms: number }>()
  return {
    setTimeout: (fn, ms) => {
      const t = { fn, ms }
      held.add(t)
      return t
    },
    clearTimeout: handle => {
      held.delete(handle as { fn: () => void; ms: number })
    },
    due: ms => [...held].filter(t => ms === undefined || t.ms === ms).map(t => t.fn)
  }
}
