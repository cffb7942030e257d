// The /tandem/store service over the in-memory link pair: handshake, access to docs, logs,
// subscriptions, snapshots, ephemeral data. The device chain's part: store-chain.test.ts.
import { MemoryLevel } from 'memory-level'
import { describe, expect, it, vi } from 'vitest'
import { MAX_CHUNK_BYTES, STORE_PROTOCOL_VERSION, type StoreFrame } from '@tandem/protocol'
import { HELLO_DEADLINE_MS } from '@tandem/transport'
import type { HistoryOptions } from '../src/history/history-store.js'
import { StoreSession } from '../src/store-service/store-session.js'
import { append, bytesOf, forDoc, heldTimers, hello, newAccount, ofType, receive, sendUpload, setup, summary, type Frame } from './store-helpers.js'

describe('/tandem/store: handshake', () => {
  it('welcomes a device its account chain lists, with the head of that chain, and opens its session', async () => {
    const { join, seed, service } = await setup()
    const alice = newAccount()
    await seed(alice)
    const { device, welcome } = await join(alice, alice.first)
    expect(welcome.head?.version).toBe(1)
    expect(welcome.head?.hash).toEqual(alice.state.headHash)
    expect(service.sessionCount).toBe(1)
    // and it is open: it may subscribe to its account doc
    await device.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    expect(await device.expectNext('subscribed', alice.doc)).toEqual({ type: 'subscribed', docId: alice.doc, head: 0, entries: 0, bytes: 0 })
    expect(await device.expectNext('caught-up', alice.doc)).toEqual({ type: 'caught-up', docId: alice.doc, head: 0 })
  })

  it('refuses a stream that does not start with a valid hello', async () => {
    const { connect, service } = await setup()
    const alice = newAccount()
    const early = connect(alice.first.peerId)
    await early.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    await early.expectRefused('ERR_NOT_AUTHENTICATED')
    // an account id that is no account id
    const odd = connect(alice.first.peerId)
    await odd.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: 'account:nobody', head: null })
    await odd.expectRefused('ERR_MALFORMED_FRAME')
    expect(service.sessionCount).toBe(0)
  })

  it('does not count a stream open that closed while its hello was being checked', async () => {
    // the relay's reads of the chain wait until the stream has closed
    const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    const { connect, service } = await setup({}, db)
    let release!: () => void
    const gate = new Promise<void>(resolve => {
      release = resolve
    })
    const iterator = db.iterator.bind(db)
    vi.spyOn(db, 'iterator').mockImplementation(((...args: Parameters<typeof db.iterator>) => {
      const it = iterator(...args)
      const next = it.next.bind(it)
      it.next = (async () => {
        await gate
        return await next()
      }) as typeof it.next
      return it
    }) as typeof db.iterator)
    const handle = vi.spyOn(StoreSession.prototype as unknown as { handle: (f: StoreFrame) => Promise<void> }, 'handle')
    const alice = newAccount()
    const device = connect(alice.first.peerId)
    await device.send(hello(alice))
    await vi.waitFor(() => expect(handle).toHaveBeenCalled())
    device.link.close()
    release()
    await (handle.mock.results[0]!.value as Promise<void>).catch(() => {})
    expect(service.sessionCount).toBe(0)
  })

  it('closes a stream that says no hello within the deadline with ERR_NOT_AUTHENTICATED, and not one that did', async () => {
    // the relay's timers, held: the test fires the hello deadline itself
    const timers = heldTimers()
    const { connect, join, seed, service } = await setup({}, undefined, timers)
    const alice = newAccount()
    await seed(alice)
    const { device: talker } = await join(alice, alice.first)
    const silent = connect(alice.device('silent').peerId)
    const deadlines = timers.due(HELLO_DEADLINE_MS)
    expect(deadlines).toHaveLength(1) // the talker's was cleared by its hello
    deadlines[0]!()
    await silent.expectRefused('ERR_NOT_AUTHENTICATED')
    expect(service.sessionCount).toBe(1)
    await talker.send({ type: 'subscribe', docId: alice.doc, since: 0 })
    await talker.expectNext('subscribed', alice.doc)
  })

  it('refuses a hello of another store protocol version', async () => {
    const { connect } = await setup()
    const alice = newAccount()
    const d1 = connect(alice.first.peerId)
    await d1.send({ ...hello(alice), version: STORE_PROTOCOL_VERSION + 1 } as StoreFrame)
    const error = await d1.expectRefused('ERR_UNSUPPORTED_VERSION')
    expect(error.message).toContain('store protocol')
  })
})

describe('/tandem/store: access to docs', () => {
  it("refuses another account's account doc with a doc-error and keeps the stream usable", async () => {
    const { join, seed, history } = await setup()
    const alice = newAccount()
    const bob = newAccount()
    await seed(bob)
    const { device } = await join(bob, bob.first)

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
    const { join, seed } = await setup()
    const [alice, bob, carol] = [newAccount(), newAccount(), newAccount()]
    for (const account of [alice, bob, carol]) await seed(account)
    const { device: a } = await join(alice, alice.first)
    const { device: b } = await join(bob, bob.first)
    const { device: c } = await join(carol, carol.first)
    const chat = 'chat:lunch'

    await a.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await a.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_ACCESS_DENIED' })

    const v1 = alice.membership(alice.first, chat, 1, [alice, bob])
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
    // and so is the same record signed by another device (each device signs its own copy; members in any order): it changes nothing
    await b.send({ type: 'membership', record: bob.membership(bob.first, chat, 1, [bob, alice]) })
    await b.send({ type: 'subscribe', docId: chat, since: 1 })
    await b.next(ofType('subscribed', chat), 'subscribed again') // (frames are answered in order: a refusal would be queued by now)
    expect(b.queued('doc-error')).toEqual([])
    // but a record of the same version that says something else is stale
    await b.send({ type: 'membership', record: bob.membership(bob.first, chat, 1, [bob]) })
    expect(await b.next(ofType('doc-error', chat))).toMatchObject({ code: 'ERR_STALE_MEMBERSHIP', uploadId: 0 })

    // carol is no member: her record, even listing her, does not replace alice's
    await c.send({ type: 'membership', record: carol.membership(carol.first, chat, 2, [alice, bob, carol]) })
    expect(await c.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_STALE_MEMBERSHIP', uploadId: 0 })
    await c.send({ type: 'subscribe', docId: chat, since: 0 })
    expect(await c.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    // a record with a bad signature is refused too
    const forged = { ...alice.membership(alice.first, chat, 2, [alice, bob, carol]), signature: new Uint8Array(64) }
    await c.send({ type: 'membership', record: forged })
    expect(await c.expectNext('doc-error', chat)).toMatchObject({ code: 'ERR_INVALID_MEMBERSHIP' })
    expect(c.closed).toBe(false)

    // a member adds carol; an older version afterwards is stale
    await b.send({ type: 'membership', record: bob.membership(bob.first, chat, 2, [alice, bob, carol]) })
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
    const alice = newAccount()
    const second = alice.device('second')
    alice.add(alice.first, second)
    await env.seed(alice)
    const { device: d1 } = await env.join(alice, alice.first)
    const { device: d2 } = await env.join(alice, second, { slow })
    /** A third device: listed by a link the first signs, which it offers itself (as a device just linked does). */
    const third = async () => {
      const device = alice.device('third')
      const link = alice.add(alice.first, device)
      const { device: d3 } = await env.join(alice, device)
      await d3.send({ type: 'offer-links', links: [link], last: true })
      await d3.next(ofType('device-activity'), 'device activity, once open')
      return d3
    }
    return { ...env, alice, d1, d2, doc: alice.doc, third }
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

  it('sends a device that resumes after a crash its own uploads up to the head as bytes, then echoes its own again', async () => {
    const { d1, doc } = await twoDevices()
    const b1 = bytesOf(100)
    const b2 = bytesOf(200)
    expect((await append(d1, doc, b1)).seq).toBe(1)
    expect((await append(d1, doc, b2)).seq).toBe(2)
    // a crash may have taken seq 2 from the device's disk after its upload got out: its cursor is 1
    await d1.send({ type: 'resume', docId: doc, since: 1 })
    expect(await d1.expectNext('subscribed', doc)).toEqual({ type: 'subscribed', docId: doc, head: 2, entries: 1, bytes: 200 })
    expect(await receive(d1, doc, 'blob')).toEqual({ seq: 2, bytes: Buffer.from(b2), frames: 1 })
    expect(await d1.expectNext('caught-up', doc)).toEqual({ type: 'caught-up', docId: doc, head: 2 })
    // what it uploads from now on it holds: an echo, as on any subscription
    expect((await append(d1, doc, bytesOf(30))).seq).toBe(3)
    expect(await d1.expectNext('echo', doc)).toEqual({ type: 'echo', docId: doc, seq: 3 })
    // a plain subscription from the same cursor echoes it
    await d1.send({ type: 'subscribe', docId: doc, since: 1 })
    await d1.expectNext('subscribed', doc)
    expect(await d1.expectNext('echo', doc)).toEqual({ type: 'echo', docId: doc, seq: 2 })
  })

  it("tells another device of the uploader's account at once that a blob it got live is durable (its `sent` step), while the uploader's echo waits for company", async () => {
    // the relay's timers, held: a notice that waits for company (NOTICE_DELAY_MS) never goes by itself
    const timers = heldTimers()
    const { join, seed } = await setup({}, undefined, timers)
    const alice = newAccount()
    const second = alice.device('second')
    alice.add(alice.first, second)
    await seed(alice)
    const { device: d1 } = await join(alice, alice.first)
    const { device: d2 } = await join(alice, second)
    const doc = alice.doc
    for (const d of [d1, d2]) {
      await d.send({ type: 'subscribe', docId: doc, since: 0 })
      await d.expectNext('subscribed', doc)
      await d.expectNext('caught-up', doc)
    }
    const blob = bytesOf(120)
    await sendUpload(d1, doc, blob, 301)
    expect(await d2.expectNext('live', doc)).toMatchObject({ liveId: 1, blob })
    expect((await d1.next(ofType('ack', doc))).seq).toBe(1)
    expect(await d2.expectNext('committed', doc)).toEqual({ type: 'committed', docId: doc, seq: 1, liveId: 1 })
    expect(d1.queued('echo'), 'the echo waits for company').toEqual([])
    for (const fire of timers.due()) fire()
    expect((await d1.next(ofType('echo', doc))).seq).toBe(1)
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
    const { d1, d2, doc, metrics, third } = await twoDevices({ db })
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
    // (d2 is another device of the uploader's account: told at once, one frame or two as the commits land)
    expect(
      d2.noticeFrames.reduce((a, n) => a + n, 0),
      'both commits named'
    ).toBe(2)
    expect(d1.noticeFrames, 'both echoes in one frame').toEqual([2])

    // a subscriber that arrives later gets the entries as blobs: only live traffic is sent early
    const d3 = await third()
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
    const { d1, d2, doc, history, third } = await twoDevices({ tailEntries: 3 })
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
    const d3 = await third()
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
    const { d1, d2, doc, history, third } = await twoDevices()
    const d3 = await third()
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
    await d2.send(hello(alice))
    await d2.expectRefused('ERR_MALFORMED_FRAME')
  })
})
