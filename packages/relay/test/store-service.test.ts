import { randomBytes } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  MAX_CHUNK_BYTES,
  STORE_PROTOCOL_VERSION,
  accountIdFromPublicKey,
  decodeStoreFrame,
  encodeSignedDeviceList,
  encodeStoreFrame,
  generateAccountKey,
  signDeviceCertificate,
  signDeviceList,
  signMembership,
  type AccountKeyPair,
  type SignedDeviceList,
  type SignedMembership,
  type StoreFrame
} from '@tandem/protocol'
import { HELLO_DEADLINE_MS, createMemoryLinkPair, type Link } from '@tandem/transport'
import { LevelAccessRecords } from '../src/access/level-access-records.js'
import { HistoryStore, type HistoryOptions } from '../src/history/history-store.js'
import { createLogger } from '../src/logger.js'
import { RelayMetrics } from '../src/metrics.js'
import { AccessControl } from '../src/store-service/access.js'
import { StoreService } from '../src/store-service/store-service.js'
import { StoreSession } from '../src/store-service/store-session.js'
import type { RelayTimers } from '../src/timers.js'

const logger = createLogger({ level: 'silent' })
const WAIT_MS = 3000
const RELAY_PEER = '12D3KooWrelay'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})

/**
 * What a device acts on: every frame but `notices`, which it takes one entry at a time —
 * an `echo` of its own upload (liveId 0), or the `committed` seq of a blob it got live.
 */
type Got = Exclude<StoreFrame, { type: 'notices' }> | { type: 'echo'; docId: string; seq: number } | { type: 'committed'; docId: string; seq: number; liveId: number }
type Frame<T extends Got['type']> = Extract<Got, { type: T }>
type Filter = (f: Got) => boolean

const ofType =
  <T extends Got['type']>(type: T, docId?: string) =>
  (f: Got): f is Frame<T> =>
    f.type === type && (docId === undefined || ('docId' in f && f.docId === docId))
const forDoc =
  (docId: string): Filter =>
  f =>
    'docId' in f && f.docId === docId

function received(frame: StoreFrame): Got[] {
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
class FakeDevice {
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

function summary(f: StoreFrame): unknown {
  const { type } = f
  if (f.type === 'blob' || f.type === 'snapshot-data') return { type, docId: f.docId, final: f.final, bytes: f.chunk.byteLength }
  if (f.type === 'welcome') return { type, version: f.deviceList?.version ?? null }
  if (f.type === 'ephemeral-data') return { type, docId: f.docId, from: f.from }
  if (f.type === 'live') return { type, docId: f.docId, liveId: f.liveId, bytes: f.blob.byteLength }
  return f
}

class Account {
  readonly key: AccountKeyPair = generateAccountKey(n => new Uint8Array(randomBytes(n)))
  readonly id = accountIdFromPublicKey(this.key.publicKey)
  get doc(): string {
    return `account:${this.id}`
  }

  certificate(peerId: string) {
    return signDeviceCertificate(this.key, { peerId, name: `device ${peerId}`, createdAt: 1 })
  }

  list(version: number, devices: string[], revoked: string[] = []): SignedDeviceList {
    return signDeviceList(this.key, { version, devices: devices.map(peerId => ({ peerId, name: peerId, createdAt: 1 })), revoked, issuedAt: 1000 + version })
  }

  membership(docId: string, version: number, members: Account[]): SignedMembership {
    return signMembership(this.key, { docId, version, members: members.map(m => m.id), issuedAt: 1000 + version })
  }
}

let peerCounter = 0
const newPeerId = (label: string): string => `12D3KooW${label}${++peerCounter}`

async function setup(options: Partial<HistoryOptions> = {}, db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }), timers?: RelayTimers) {
  const history = await HistoryStore.open(db, { maxBlobBytes: 1024 * 1024, accountQuotaBytes: 16 * 1024 * 1024, sync: false, ...options })
  const records = await LevelAccessRecords.open(db, { sync: false })
  const metrics = new RelayMetrics({ processMetrics: false })
  const service = new StoreService(history, records, metrics, logger, timers)
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

  /** connect + hello; resolves on welcome. */
  const join = async (account: Account, peerId: string, list: SignedDeviceList | null, o: { slow?: boolean } = {}) => {
    const device = connect(peerId, o)
    await device.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: account.certificate(peerId), deviceList: list })
    const welcome = await device.expectNext('welcome')
    return { device, welcome }
  }

  return { history, records, metrics, service, connect, join }
}

/** The relay's side of a stream whose every send waits a turn of the event loop, as under backpressure. */
function slowSends(link: Link): Link {
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
async function append(device: FakeDevice, docId: string, bytes: Uint8Array, uploadId = ++uploadIds): Promise<Frame<'ack'>> {
  await sendUpload(device, docId, bytes, uploadId)
  return (await device.next(f => f.type === 'ack' && f.uploadId === uploadId, `the ack of upload ${uploadId}`)) as Frame<'ack'>
}

async function sendUpload(device: FakeDevice, docId: string, bytes: Uint8Array, uploadId: number, covers?: number): Promise<void> {
  const chunks = chunk(bytes)
  for (const [i, c] of chunks.entries()) {
    const final = i === chunks.length - 1
    await device.send(covers === undefined ? { type: 'append', docId, uploadId, final, chunk: c } : { type: 'snapshot', docId, uploadId, covers, final, chunk: c })
  }
}

function chunk(bytes: Uint8Array): Uint8Array[] {
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
async function receive(device: FakeDevice, docId: string, type: 'blob' | 'snapshot-data'): Promise<{ seq: number; bytes: Buffer; frames: number }> {
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

const bytesOf = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

describe('/tandem/store: handshake and device lists', () => {
  it('welcomes a certified device its account list names, with that list', async () => {
    const { join, service } = await setup()
    const alice = new Account()
    const p1 = newPeerId('alice')
    const list = alice.list(1, [p1])
    const { device, welcome } = await join(alice, p1, list)
    expect(welcome.deviceList).not.toBeNull()
    expect(encodeSignedDeviceList(welcome.deviceList!)).toEqual(encodeSignedDeviceList(list))
    expect(service.sessionCount).toBe(1)
    // and it is open: it may subscribe to its account doc
    await device.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await device.expectNext('subscribed', alice.doc)).toEqual({ type: 'subscribed', docId: alice.doc, head: 0, entries: 0, bytes: 0 })
    expect(await device.expectNext('caught-up', alice.doc)).toEqual({ type: 'caught-up', docId: alice.doc, head: 0 })
  })

  it('refuses a stream that does not start with a valid hello', async () => {
    const { connect, service } = await setup()
    const alice = new Account()
    const p1 = newPeerId('alice')

    const early = connect(p1)
    await early.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    await early.expectRefused('ERR_NOT_AUTHENTICATED')

    // a certificate for another peer than the one the transport authenticated
    const impostor = connect(newPeerId('mallory'))
    await impostor.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: alice.certificate(p1), deviceList: alice.list(1, [p1]) })
    await impostor.expectRefused('ERR_INVALID_CERTIFICATE')
    expect(service.sessionCount).toBe(0)
  })

  it('does not count a stream open that closed while its hello was being checked', async () => {
    // the relay's reads of the device list wait until the stream has closed
    const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    const { connect, service } = await setup({}, db)
    let release!: () => void
    const gate = new Promise<void>(resolve => {
      release = resolve
    })
    const get = db.get.bind(db)
    vi.spyOn(db, 'get').mockImplementation(async (...args: Parameters<typeof db.get>) => {
      await gate
      return await get(...args)
    })
    const handle = vi.spyOn(StoreSession.prototype as unknown as { handle: (f: StoreFrame) => Promise<void> }, 'handle')
    const alice = new Account()
    const p1 = newPeerId('alice')
    const device = connect(p1)
    await device.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: alice.certificate(p1), deviceList: alice.list(1, [p1]) })
    await vi.waitFor(() => expect(handle).toHaveBeenCalled())
    device.link.close()
    release()
    await (handle.mock.results[0]!.value as Promise<void>).catch(() => {})
    expect(service.sessionCount).toBe(0)
  })

  it('closes a stream that says no hello within the deadline with ERR_NOT_AUTHENTICATED, and not one that did', async () => {
    // the relay's timers, held: the test fires the hello deadline itself
    const held = new Set<{ fn: () => void; ms: number }>()
    const timers: RelayTimers = {
      setTimeout: (fn, ms) => {
        const t = { fn, ms }
        held.add(t)
        return t
      },
      clearTimeout: handle => {
        held.delete(handle as { fn: () => void; ms: number })
      }
    }
    const { connect, join, service } = await setup({}, undefined, timers)
    const alice = new Account()
    const p1 = newPeerId('alice')
    const { device: talker } = await join(alice, p1, alice.list(1, [p1]))
    const silent = connect(newPeerId('silent'))
    const deadlines = [...held].filter(t => t.ms === HELLO_DEADLINE_MS)
    expect(deadlines).toHaveLength(1) // the talker's was cleared by its hello
    deadlines[0]!.fn()
    await silent.expectRefused('ERR_NOT_AUTHENTICATED')
    expect(service.sessionCount).toBe(1)
    await talker.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    await talker.expectNext('subscribed', alice.doc)
  })

  it('lets an unlisted device in only to send a device list that lists it', async () => {
    const { join, history } = await setup()
    const alice = new Account()
    const p1 = newPeerId('alice')
    const p2 = newPeerId('alice')
    const v1 = alice.list(1, [p1])
    await join(alice, p1, v1)

    // p2 is certified by the account but the relay's list does not name it: it learns that list from welcome
    const { device: d2, welcome } = await join(alice, p2, null)
    expect(welcome.deviceList?.version).toBe(1)
    await d2.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await d2.expectNext('doc-error', alice.doc)).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED', uploadId: 0 })
    await d2.send({ type: 'append', docId: alice.doc, uploadId: 7, final: true, chunk: bytesOf(10) })
    expect(await d2.expectNext('doc-error', alice.doc)).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED', uploadId: 7 })
    await d2.send({ type: 'ephemeral', docId: alice.doc, payload: bytesOf(3) })
    expect(await d2.expectNext('doc-error', alice.doc)).toMatchObject({ code: 'ERR_DEVICE_NOT_LISTED' })
    expect(d2.closed).toBe(false)
    expect(history.stats().docs).toBe(0)

    // it signs the successor that adds it (it holds the account key)
    await d2.send({ type: 'device-list', list: alice.list(2, [p1, p2]) })
    await d2.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await d2.expectNext('subscribed', alice.doc)).toMatchObject({ head: 0 })
    expect((await append(d2, alice.doc, bytesOf(10))).seq).toBe(1)
    expect(d2.queued('doc-error')).toEqual([])
  })

  it("opens a waiting unlisted device once another device's hello brings a list that names it", async () => {
    const { join } = await setup()
    const alice = new Account()
    const [p1, p2, p3] = [newPeerId('alice'), newPeerId('alice'), newPeerId('alice')]
    await join(alice, p1, alice.list(1, [p1]))
    const { device: d2 } = await join(alice, p2, null)
    await join(alice, p3, alice.list(2, [p1, p2, p3]))
    await d2.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await d2.expectNext('subscribed', alice.doc)).toMatchObject({ head: 0 })
  })

  it('refuses a revoked device with ERR_DEVICE_REVOKED and closes its stream', async () => {
    const { join, connect, service } = await setup()
    const alice = new Account()
    const [p1, p2] = [newPeerId('alice'), newPeerId('alice')]
    const v1 = alice.list(1, [p1, p2])
    await join(alice, p1, v1)
    await join(alice, p1, alice.list(2, [p1], [p2]))
    const sessions = service.sessionCount

    // a stale list in its hello does not un-revoke it
    for (const list of [null, v1]) {
      const d2 = connect(p2)
      await d2.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: alice.certificate(p2), deviceList: list })
      await d2.expectRefused('ERR_DEVICE_REVOKED')
      expect(d2.queued('welcome')).toEqual([])
    }
    // nor does a "newer" list that drops the revocation: it is ignored like a stale one
    const d2 = connect(p2)
    await d2.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: alice.certificate(p2), deviceList: alice.list(3, [p1, p2]) })
    await d2.expectRefused('ERR_DEVICE_REVOKED')
    expect(service.sessionCount).toBe(sessions)
    expect((await service.access.deviceList(alice.id))?.version).toBe(2)
    // the same list as a device-list frame from a listed device is refused for itself only
    const { device: d1 } = await join(alice, p1, null)
    await d1.send({ type: 'device-list', list: alice.list(3, [p1, p2]) })
    expect(await d1.next(ofType('doc-error'))).toMatchObject({ docId: '', code: 'ERR_STALE_DEVICE_LIST' })
    expect(await service.access.deviceStatus(alice.id, p2)).toBe('revoked')
    expect(d1.closed).toBe(false)
  })

  it('refuses a hello of another store protocol version', async () => {
    const { connect } = await setup()
    const alice = new Account()
    const p1 = newPeerId('alice')
    const d1 = connect(p1)
    await d1.send({ type: 'hello', version: STORE_PROTOCOL_VERSION + 1, certificate: alice.certificate(p1), deviceList: alice.list(1, [p1]) })
    const error = await d1.expectRefused('ERR_UNSUPPORTED_VERSION')
    expect(error.message).toContain('store protocol')
  })

  it('closes the open session of a device revoked by a device-list update from another device', async () => {
    const { join, service } = await setup()
    const alice = new Account()
    const [p1, p2] = [newPeerId('alice'), newPeerId('alice')]
    const { device: d1 } = await join(alice, p1, alice.list(1, [p1, p2]))
    const { device: d2 } = await join(alice, p2, null)
    await d2.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    await d2.next(ofType('caught-up', alice.doc))
    expect(service.sessionCount).toBe(2)

    await d1.send({ type: 'device-list', list: alice.list(2, [p1], [p2]) })
    const error = await d2.expectRefused('ERR_DEVICE_REVOKED')
    expect(error.message).toContain(p2)
    expect(service.sessionCount).toBe(1)
    // the revoked session gets nothing more, the revoking one goes on
    expect((await append(d1, alice.doc, bytesOf(100))).seq).toBe(1)
    expect(d2.queued('echo', 'blob')).toEqual([])
  })

  it("closes the open session of a device revoked by a list carried in another device's hello", async () => {
    const { join, service } = await setup()
    const alice = new Account()
    const [p1, p2] = [newPeerId('alice'), newPeerId('alice')]
    const { device: d2 } = await join(alice, p2, alice.list(1, [p1, p2]))
    // p1 revoked p2 while offline and now connects with that list
    await join(alice, p1, alice.list(2, [p1], [p2]))
    await d2.expectRefused('ERR_DEVICE_REVOKED')
    expect(service.sessionCount).toBe(1)
  })

  it('keeps the newest device list when two are offered at once', async () => {
    const { records } = await setup()
    const alice = new Account()
    const [p1, p2] = [newPeerId('alice'), newPeerId('alice')]
    const access = new AccessControl(records)
    const v3 = alice.list(3, [p1], [p2])
    const results = await Promise.all([access.offerDeviceList(alice.id, v3), access.offerDeviceList(alice.id, alice.list(2, [p1, p2]))])
    expect(results).toEqual([true, false])
    expect((await access.deviceList(alice.id))?.version).toBe(3)
    expect(await access.deviceStatus(alice.id, p2)).toBe('revoked')
    // what was persisted is v3 as well
    const fresh = new AccessControl(records)
    expect(encodeSignedDeviceList((await fresh.deviceList(alice.id))!)).toEqual(encodeSignedDeviceList(v3))

    // the same for membership records
    const bob = new Account()
    const doc = 'chat:race'
    const m3 = alice.membership(doc, 3, [alice])
    const offers = await Promise.allSettled([access.offerMembership(m3), access.offerMembership(alice.membership(doc, 2, [alice, bob]))])
    expect(offers.map(o => o.status)).toEqual(['fulfilled', 'rejected'])
    expect((await access.membership(doc))?.version).toBe(3)
    expect(await access.canAccess(doc, bob.id)).toBe(false)
    expect((await new AccessControl(records).membership(doc))?.version).toBe(3)
  })
})

describe('/tandem/store: access to docs', () => {
  it("refuses another account's account doc with a doc-error and keeps the stream usable", async () => {
    const { join, history } = await setup()
    const alice = new Account()
    const bob = new Account()
    const q1 = newPeerId('bob')
    const { device } = await join(bob, q1, bob.list(1, [q1]))

    await device.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await device.expectNext('doc-error', alice.doc)).toMatchObject({ code: 'ERR_ACCESS_DENIED', uploadId: 0 })
    await device.send({ type: 'append', docId: alice.doc, uploadId: 3, final: true, chunk: bytesOf(10) })
    expect(await device.expectNext('doc-error', alice.doc)).toMatchObject({ code: 'ERR_ACCESS_DENIED', uploadId: 3 })
    for (const docId of ['notes:1', `account:${bob.id}x`]) {
      await device.send({ type: 'subscribe', docId, since: 0 })
      expect(await device.expectNext('doc-error', docId)).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    }
    expect(device.closed).toBe(false)

    await device.send({ type: 'subscribe', docId: bob.doc, since: 0 })
    expect(await device.expectNext('subscribed', bob.doc)).toMatchObject({ head: 0 })
    expect((await append(device, bob.doc, bytesOf(10))).seq).toBe(1)
    expect(await history.meta(alice.doc)).toBeNull()
    expect(device.queued('ack').filter(f => (f as Frame<'ack'>).docId === alice.doc)).toEqual([])
  })

  it('serves a chat doc only to devices of its members, per the newest valid membership record', async () => {
    const { join } = await setup()
    const alice = new Account()
    const bob = new Account()
    const carol = new Account()
    const [p1, q1, r1] = [newPeerId('alice'), newPeerId('bob'), newPeerId('carol')]
    const { device: a } = await join(alice, p1, alice.list(1, [p1]))
    const { device: b } = await join(bob, q1, bob.list(1, [q1]))
    const { device: c } = await join(carol, r1, carol.list(1, [r1]))
    const chat = 'chat:lunch'

    await a.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await a.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_ACCESS_DENIED' })

    const v1 = alice.membership(chat, 1, [alice, bob])
    await a.send({ type: 'membership', record: v1 })
    for (const d of [a, b]) {
      await d.send({ type: 'subscribe', docId: chat, since: 0 })
      expect(await d.expectNext('subscribed', chat)).toMatchObject({ head: 0 })
      await d.expectNext('caught-up', chat)
    }
    // members of both accounts share the log, live
    const hi = bytesOf(50)
    expect((await append(a, chat, hi)).seq).toBe(1)
    expect(await receive(b, chat, 'blob')).toEqual({ seq: 1, bytes: Buffer.from(hi), frames: 1 })
    expect(await a.expectNext('echo', chat)).toMatchObject({ seq: 1 })
    // a record bob sends again (a retry) is accepted silently
    await b.send({ type: 'membership', record: v1 })

    // carol is no member: her record, even listing her, does not replace alice's
    await c.send({ type: 'membership', record: carol.membership(chat, 2, [alice, bob, carol]) })
    expect(await c.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_STALE_MEMBERSHIP', uploadId: 0 })
    await c.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await c.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    // a record with a bad signature is refused too
    const forged = { ...alice.membership(chat, 2, [alice, bob, carol]), signature: new Uint8Array(64) }
    await c.send({ type: 'membership', record: forged })
    expect(await c.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_INVALID_MEMBERSHIP' })
    expect(c.closed).toBe(false)

    // a member adds carol; an older version afterwards is stale
    await b.send({ type: 'membership', record: bob.membership(chat, 2, [alice, bob, carol]) })
    await b.send({ type: 'membership', record: v1 })
    expect(await b.next(ofType('doc-error', chat))).toMatchObject({ code: 'ERR_STALE_MEMBERSHIP' })
    await c.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await c.expectNext('subscribed', chat)).toMatchObject({ head: 1 })
    expect(await receive(c, chat, 'blob')).toMatchObject({ seq: 1 })
    expect(a.queued('doc-error')).toEqual([])
  })
})

describe('/tandem/store: logs, subscriptions, snapshots, ephemeral', () => {
  async function twoDevices(options: Partial<HistoryOptions> & { slow?: boolean; db?: MemoryLevel<string, Uint8Array> } = {}) {
    const { slow, db, ...historyOptions } = options
    const env = await setup(historyOptions, db)
    const alice = new Account()
    const [p1, p2] = [newPeerId('alice'), newPeerId('alice')]
    const list = alice.list(1, [p1, p2])
    const { device: d1 } = await env.join(alice, p1, list)
    const { device: d2 } = await env.join(alice, p2, list, { slow })
    return { ...env, alice, d1, d2, doc: alice.doc }
  }

  it("acks appends in seq order, backfills then pushes live blobs, and echoes a device's own", async () => {
    const { d1, d2, doc, history } = await twoDevices()
    const b1 = bytesOf(100)
    const b2 = bytesOf(2000)
    expect(await append(d1, doc, b1, 101)).toEqual({ type: 'ack', docId: doc, uploadId: 101, seq: 1, sinceSnapshot: 1, tailBytes: 100, snapshotBytes: 0 })
    expect(await append(d1, doc, b2, 102)).toEqual({ type: 'ack', docId: doc, uploadId: 102, seq: 2, sinceSnapshot: 2, tailBytes: 2100, snapshotBytes: 0 })

    await d1.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d1.expectNext('subscribed', doc)).toEqual({ type: 'subscribed', docId: doc, head: 2, entries: 2, bytes: 2100 })
    expect(await d1.expectNext('echo', doc)).toEqual({ type: 'echo', docId: doc, seq: 1 })
    expect(await d1.expectNext('echo', doc)).toEqual({ type: 'echo', docId: doc, seq: 2 })
    expect(await d1.expectNext('caught-up', doc)).toEqual({ type: 'caught-up', docId: doc, head: 2 })

    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d2.expectNext('subscribed', doc)).toMatchObject({ head: 2, entries: 2, bytes: 2100 })
    expect(await receive(d2, doc, 'blob')).toEqual({ seq: 1, bytes: Buffer.from(b1), frames: 1 })
    expect(await receive(d2, doc, 'blob')).toEqual({ seq: 2, bytes: Buffer.from(b2), frames: 1 })
    expect(await d2.expectNext('caught-up', doc)).toMatchObject({ head: 2 })

    // live: each subscriber gets what the other appends
    const b3 = bytesOf(30)
    expect((await append(d1, doc, b3)).seq).toBe(3)
    expect(await receive(d2, doc, 'blob')).toEqual({ seq: 3, bytes: Buffer.from(b3), frames: 1 })
    expect(await d1.expectNext('echo', doc)).toMatchObject({ seq: 3 })
    const b4 = bytesOf(40)
    expect((await append(d2, doc, b4)).seq).toBe(4)
    expect(await receive(d1, doc, 'blob')).toEqual({ seq: 4, bytes: Buffer.from(b4), frames: 1 })
    expect(await d2.expectNext('echo', doc)).toMatchObject({ seq: 4 })

    // a retried append (same bytes, new upload id) is acked with its first seq and stored once
    const stats = history.stats()
    expect(await append(d1, doc, b3)).toMatchObject({ seq: 3 })
    expect(history.stats()).toEqual(stats)
    // (it came whole, so d2 got it live again before the relay knew it for a retry; no commit notice follows)
    expect(await d2.expectNext('live', doc)).toMatchObject({ blob: b3 })

    // a later subscriber from a cursor gets only what follows it
    await d2.send({ type: 'subscribe', docId: doc, since: 2 })
    expect(await d2.expectNext('subscribed', doc)).toEqual({ type: 'subscribed', docId: doc, head: 4, entries: 2, bytes: 70 })
    expect(await receive(d2, doc, 'blob')).toMatchObject({ seq: 3 })
    expect(await d2.expectNext('echo', doc)).toMatchObject({ seq: 4 })
    expect(await d2.expectNext('caught-up', doc)).toMatchObject({ head: 4 })
    // and nothing was pushed for the retry
    expect(d1.queued('blob', 'echo')).toEqual([])
  })

  it('sends an append that came whole to caught-up subscribers before it is durable, then its seq as `committed`', async () => {
    // once `held` is set, every write of the store waits for `release`: nothing can be durable before it
    const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    let release!: () => void
    let held = Promise.resolve()
    const batch = db.batch.bind(db) as (...args: unknown[]) => Promise<void>
    ;(db as unknown as { batch: (...args: unknown[]) => Promise<void> }).batch = async (...args) => {
      await held
      return await batch(...args)
    }
    const { d1, d2, doc, metrics, join, alice } = await twoDevices({ db })
    for (const d of [d1, d2]) {
      await d.send({ type: 'subscribe', docId: doc, since: 0 })
      await d.expectNext('subscribed', doc)
      await d.expectNext('caught-up', doc)
    }
    held = new Promise<void>(resolve => {
      release = resolve
    })
    const b1 = bytesOf(300)
    const b2 = bytesOf(40)
    await sendUpload(d1, doc, b1, 201)
    await sendUpload(d1, doc, b2, 202)
    expect(await d2.expectNext('live', doc)).toEqual({ type: 'live', docId: doc, liveId: 1, blob: b1 })
    expect(await d2.expectNext('live', doc)).toEqual({ type: 'live', docId: doc, liveId: 2, blob: b2 })
    expect(d1.queued('ack', 'echo', 'live'), 'nothing is acked before it is durable, and the uploader gets no live copy').toEqual([])
    expect(d2.queued('committed', 'blob')).toEqual([])
    expect(await metrics.registry.getSingleMetricAsString('tandem_relay_live_bytes_total')).toContain(' 340')

    held = Promise.resolve()
    release()
    expect((await d1.next(ofType('ack', doc))).seq).toBe(1)
    expect(await d2.expectNext('committed', doc)).toEqual({ type: 'committed', docId: doc, seq: 1, liveId: 1 })
    expect(await d2.expectNext('committed', doc)).toEqual({ type: 'committed', docId: doc, seq: 2, liveId: 2 })
    // (the echoes wait for company, NOTICE_DELAY_MS: the second ack comes first)
    expect((await d1.next(ofType('echo', doc))).seq).toBe(1)
    expect((await d1.next(ofType('echo', doc))).seq).toBe(2)
    expect(d2.noticeFrames, 'both commits named in one frame').toEqual([2])
    expect(d1.noticeFrames, 'both echoes in one frame').toEqual([2])

    // a subscriber that arrives later gets the entries as blobs: only live traffic is sent early
    const p3 = newPeerId('alice')
    const { device: d3 } = await join(alice, p3, alice.list(2, [d1.peerId, d2.peerId, p3]))
    await d3.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d3.expectNext('subscribed', doc)).toMatchObject({ head: 2 })
    expect(await d3.expectNext('blob', doc)).toMatchObject({ seq: 1, chunk: b1 })
    expect(await d3.expectNext('blob', doc)).toMatchObject({ seq: 2, chunk: b2 })
    expect(d2.queued('blob')).toEqual([])
  })

  it('reassembles multi-chunk blobs byte-identical, in backfill and live', async () => {
    const { d1, d2, doc } = await twoDevices()
    const big = bytesOf(2 * MAX_CHUNK_BYTES + 12_345)
    expect((await append(d1, doc, big)).seq).toBe(1)
    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d2.expectNext('subscribed', doc)).toMatchObject({ head: 1, entries: 1, bytes: big.byteLength })
    const got = await receive(d2, doc, 'blob')
    expect(got.frames).toBe(3)
    expect(got.bytes.equals(Buffer.from(big))).toBe(true)
    await d2.expectNext('caught-up', doc)

    // two uploads interleaved chunk by chunk on one stream, then a live push
    const x = bytesOf(MAX_CHUNK_BYTES + 1)
    const y = bytesOf(MAX_CHUNK_BYTES + 2)
    await d1.send({ type: 'append', docId: doc, uploadId: 501, final: false, chunk: x.subarray(0, MAX_CHUNK_BYTES) })
    await d1.send({ type: 'append', docId: doc, uploadId: 502, final: false, chunk: y.subarray(0, MAX_CHUNK_BYTES) })
    await d1.send({ type: 'append', docId: doc, uploadId: 501, final: true, chunk: x.subarray(MAX_CHUNK_BYTES) })
    await d1.send({ type: 'append', docId: doc, uploadId: 502, final: true, chunk: y.subarray(MAX_CHUNK_BYTES) })
    expect(await d1.next(f => f.type === 'ack' && f.uploadId === 501)).toMatchObject({ seq: 2 })
    expect(await d1.next(f => f.type === 'ack' && f.uploadId === 502)).toMatchObject({ seq: 3 })
    const live = [await receive(d2, doc, 'blob'), await receive(d2, doc, 'blob')]
    expect(live.map(l => l.seq)).toEqual([2, 3])
    expect(live[0]!.bytes.equals(Buffer.from(x))).toBe(true)
    expect(live[1]!.bytes.equals(Buffer.from(y))).toBe(true)
    // an empty blob is one empty final chunk
    expect((await append(d1, doc, new Uint8Array(0))).seq).toBe(4)
    expect(await receive(d2, doc, 'blob')).toEqual({ seq: 4, bytes: Buffer.alloc(0), frames: 1 })
  })

  it("restarts a subscription sent again without interleaving the two pumps' frames", async () => {
    const { d1, d2, doc } = await twoDevices({ slow: true })
    for (let i = 0; i < 4; i++) await append(d1, doc, bytesOf(2 * MAX_CHUNK_BYTES + 1))
    // e.g. a doc opened again while the stream was being set up: the same subscribe again, mid-backfill
    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    await d2.peek(ofType('blob', doc), 'the first blob chunk')
    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    const frames: StoreFrame[] = []
    let subscribed = 0
    for (;;) {
      const f = await d2.next(forDoc(doc), 'a frame of the doc')
      frames.push(f)
      if (f.type === 'subscribed') subscribed++
      if (f.type === 'caught-up' && subscribed === 2) break
    }
    // a blob's chunks arrive together: nothing else of the doc comes between its first and final chunk
    let open: number | null = null
    for (const f of frames) {
      if (open !== null) expect(f.type === 'blob' && f.seq === open, `frame inside blob ${open}: ${JSON.stringify(summary(f))}`).toBe(true)
      if (f.type === 'blob') open = f.final ? null : f.seq
    }
    expect(open).toBeNull()
    // the second subscription's stream is whole: subscribed, both blobs, caught-up
    const last = frames.slice(frames.lastIndexOf(frames.find((f, i) => f.type === 'subscribed' && frames.slice(i + 1).every(g => g.type !== 'subscribed'))!))
    expect(last.map(f => (f.type === 'blob' ? `blob${f.seq}${f.final ? '.' : ''}` : f.type))).toEqual([
      'subscribed',
      ...[1, 2, 3, 4].flatMap(n => [`blob${n}`, `blob${n}`, `blob${n}.`]),
      'caught-up'
    ])
  })

  it('pushes live blobs from memory, and backfills from disk what memory no longer holds', async () => {
    const { d1, d2, doc, history, join, alice } = await twoDevices({ tailEntries: 3 })
    const reads = vi.spyOn(history, 'readPart')
    const scans = vi.spyOn(history, 'entriesAfter')
    for (const d of [d1, d2]) {
      await d.send({ type: 'subscribe', docId: doc, since: 0 })
      await d.expectNext('subscribed', doc)
      await d.expectNext('caught-up', doc)
    }
    const blobs = [bytesOf(100), bytesOf(MAX_CHUNK_BYTES), bytesOf(1), new Uint8Array(0)]
    for (const b of blobs) {
      const { seq } = await append(d1, doc, b)
      expect(await receive(d2, doc, 'blob')).toEqual({ seq, bytes: Buffer.from(b), frames: 1 })
      expect(await d1.expectNext('echo', doc)).toEqual({ type: 'echo', docId: doc, seq })
    }
    expect(reads).not.toHaveBeenCalled()
    expect(scans).not.toHaveBeenCalled()

    // a blob too large to buffer is streamed to disk, and pushed from there
    const big = bytesOf(2 * MAX_CHUNK_BYTES + 5)
    blobs.push(big)
    expect((await append(d1, doc, big)).seq).toBe(5)
    const got = await receive(d2, doc, 'blob')
    expect(got).toMatchObject({ seq: 5, frames: 3 })
    expect(got.bytes.equals(Buffer.from(big))).toBe(true)
    expect(reads).toHaveBeenCalledTimes(3)
    await d1.expectNext('echo', doc)
    for (let i = 0; i < 3; i++) {
      const b = bytesOf(10 + i)
      blobs.push(b)
      const { seq } = await append(d1, doc, b)
      expect(await receive(d2, doc, 'blob')).toEqual({ seq, bytes: Buffer.from(b), frames: 1 })
      await d1.expectNext('echo', doc)
    }
    expect(reads).toHaveBeenCalledTimes(3)

    // a new device backfills seq 1…8: memory holds only 6…8, the rest comes from disk, byte-identical
    const p3 = newPeerId('alice')
    const { device: d3 } = await join(alice, p3, alice.list(2, [d1.peerId, d2.peerId, p3]))
    await d3.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d3.expectNext('subscribed', doc)).toMatchObject({ head: 8, entries: 8 })
    for (const [i, b] of blobs.entries()) expect(await receive(d3, doc, 'blob')).toMatchObject({ seq: i + 1, bytes: Buffer.from(b) })
    expect(await d3.expectNext('caught-up', doc)).toMatchObject({ head: 8 })
    expect(scans).toHaveBeenCalled()

    // a cursor within what memory holds needs no disk read
    scans.mockClear()
    reads.mockClear()
    await d2.send({ type: 'subscribe', docId: doc, since: 5 })
    expect(await d2.expectNext('subscribed', doc)).toMatchObject({ head: 8, entries: 3 })
    for (const seq of [6, 7, 8]) expect(await receive(d2, doc, 'blob')).toMatchObject({ seq, bytes: Buffer.from(blobs[seq - 1]!) })
    expect(await d2.expectNext('caught-up', doc)).toMatchObject({ head: 8 })
    expect(scans).not.toHaveBeenCalled()
    expect(reads).not.toHaveBeenCalled()
  })

  it('refuses a blob over the size bound with a doc-error and goes on', async () => {
    const maxBlobBytes = MAX_CHUNK_BYTES + 100
    const { d1, doc, history } = await twoDevices({ maxBlobBytes })
    await sendUpload(d1, doc, bytesOf(maxBlobBytes + 1), 77)
    expect(await d1.expectNext('doc-error', doc)).toMatchObject({ code: 'ERR_BLOB_TOO_LARGE', uploadId: 77 })
    expect((await append(d1, doc, bytesOf(maxBlobBytes))).seq).toBe(1)
    expect(d1.queued('ack', 'doc-error')).toEqual([])
    expect(history.stats().bytesStored).toBe(maxBlobBytes)
  })

  it('serves snapshot-data first, then the tail, to a new subscriber', async () => {
    const { d1, d2, doc, history } = await twoDevices()
    const blobs = [bytesOf(10), bytesOf(20), bytesOf(30)]
    for (const b of blobs) await append(d1, doc, b)
    const snap = bytesOf(MAX_CHUNK_BYTES + 500)
    await sendUpload(d1, doc, snap, 900, 2)
    expect(await d1.next(f => f.type === 'ack' && f.uploadId === 900)).toEqual({
      type: 'ack',
      docId: doc,
      uploadId: 900,
      seq: 2,
      sinceSnapshot: 1,
      tailBytes: 30,
      snapshotBytes: MAX_CHUNK_BYTES + 500
    })
    expect(history.stats().bytesStored).toBe(snap.byteLength + 30)

    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    expect(await d2.expectNext('subscribed', doc)).toEqual({ type: 'subscribed', docId: doc, head: 3, entries: 2, bytes: snap.byteLength + 30 })
    const got = await receive(d2, doc, 'snapshot-data')
    expect(got.seq).toBe(2)
    expect(got.frames).toBe(2)
    expect(got.bytes.equals(Buffer.from(snap))).toBe(true)
    expect(await receive(d2, doc, 'blob')).toEqual({ seq: 3, bytes: Buffer.from(blobs[2]!), frames: 1 })
    expect(await d2.expectNext('caught-up', doc)).toMatchObject({ head: 3 })

    // from a cursor at or past the snapshot: the tail only
    await d2.send({ type: 'subscribe', docId: doc, since: 2 })
    expect(await d2.expectNext('subscribed', doc)).toMatchObject({ head: 3, entries: 1, bytes: 30 })
    expect(await receive(d2, doc, 'blob')).toMatchObject({ seq: 3 })
    expect(await d2.expectNext('caught-up', doc)).toMatchObject({ head: 3 })

    // a snapshot beyond the head is refused for that upload only
    await sendUpload(d1, doc, bytesOf(10), 901, 9)
    expect(await d1.expectNext('doc-error', doc)).toMatchObject({ code: 'ERR_INVALID_SNAPSHOT', uploadId: 901 })
    expect((await append(d1, doc, bytesOf(5))).seq).toBe(4)
    expect(history.stats().bytesStored).toBe(snap.byteLength + 35)
  })

  it('fans ephemeral data out to the other subscribed devices and never stores it', async () => {
    const { d1, d2, doc, history, join, alice } = await twoDevices()
    const p3 = newPeerId('alice')
    const { device: d3 } = await join(alice, p3, alice.list(2, [d1.peerId, d2.peerId, p3]))
    for (const d of [d1, d2]) {
      await d.send({ type: 'subscribe', docId: doc, since: 0 })
      await d.next(ofType('caught-up', doc))
    }
    const stats = history.stats()
    const payload = bytesOf(200)
    await d1.send({ type: 'ephemeral', docId: doc, payload })
    const got = await d2.next(ofType('ephemeral-data', doc))
    expect(got).toEqual({ type: 'ephemeral-data', docId: doc, from: d1.peerId, payload })
    expect(history.stats()).toEqual(stats)
    expect(await history.meta(doc)).toBeNull()

    // a device not subscribed to the doc may not send it, nor receives it
    await d3.send({ type: 'ephemeral', docId: doc, payload })
    expect(await d3.expectNext('doc-error', doc)).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    // barrier: an ack on each stream comes after any ephemeral-data sent to it
    await append(d1, doc, bytesOf(1))
    await append(d3, doc, bytesOf(2))
    expect(d1.queued('ephemeral-data')).toEqual([])
    expect(d3.queued('ephemeral-data')).toEqual([])
    expect(d2.queued('ephemeral-data')).toEqual([])
  })

  it('closes a stream that sends malformed bytes with ERR_MALFORMED_FRAME; other sessions keep working', async () => {
    const { d1, d2, doc, service } = await twoDevices()
    await d2.send({ type: 'subscribe', docId: doc, since: 0 })
    await d2.expectNext('subscribed', doc)
    await d2.expectNext('caught-up', doc)
    await d1.sendRaw(new Uint8Array([0, 1, 2, 3]))
    await d1.expectRefused('ERR_MALFORMED_FRAME')
    expect(service.sessionCount).toBe(1)

    const b = bytesOf(64)
    expect((await append(d2, doc, b)).seq).toBe(1)
    expect(await d2.expectNext('echo', doc)).toMatchObject({ seq: 1 })
  })

  it('closes a stream that sends a relay frame or a second hello', async () => {
    const { d1, d2, alice, doc } = await twoDevices()
    await d1.send({ type: 'ack', docId: doc, uploadId: 1, seq: 1, sinceSnapshot: 0, tailBytes: 0, snapshotBytes: 0 })
    await d1.expectRefused('ERR_MALFORMED_FRAME')
    await d2.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: alice.certificate(d2.peerId), deviceList: null })
    await d2.expectRefused('ERR_MALFORMED_FRAME')
  })
})
