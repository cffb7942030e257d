// Who the relay serves (and so who may hold a circuit reservation): StoreService.whenServed,
// linking sessions (a device with no account yet), and a reservation over real libp2p.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { STORE_PROTOCOL, decodeStoreFrame, encodeStoreFrame, type StoreFrame } from '@tandem/protocol'
import { StreamLink } from '@tandem/transport'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger.js'
import { RelayMetrics } from '../src/metrics.js'
import { createRelay } from '../src/relay.js'
import { reserveByHand, startHopClient, waitFor } from './helpers.js'
import { cleanups, hello, newAccount, ofType, setup, heldTimers } from './store-helpers.js'

const settled = async <T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> => {
  const marker = Symbol('pending')
  // a promise that is already settled wins the race against a fresh microtask chain
  const v = await Promise.race([p, new Promise<typeof marker>(resolve => setImmediate(() => resolve(marker)))])
  return v === marker ? { done: false } : { done: true, value: v as T }
}

describe('StoreService.whenServed', () => {
  it('waits for the hello of a device its chain lists, and answers at once from then on', async () => {
    const { connect, seed, service } = await setup()
    const alice = newAccount()
    await seed(alice)
    const waiting = service.whenServed(alice.first.peerId, new AbortController().signal)
    expect((await settled(waiting)).done).toBe(false)
    const device = connect(alice.first.peerId)
    await device.send(hello(alice))
    expect(await waiting).toBe(true)
    expect(await service.isServed(alice.first.peerId)).toBe(true)
    expect(await service.whenServed(alice.first.peerId, AbortSignal.abort())).toBe(true)
  })

  it('is false when the wait ends first: no session, one that never says hello, a device its account does not list', async () => {
    const { connect, seed, service } = await setup()
    const alice = newAccount()
    await seed(alice)
    const [silent, stranger] = [alice.device('silent'), alice.device('stranger')]
    const gone = new AbortController()
    const nobody = service.whenServed(alice.device('nobody').peerId, gone.signal)
    connect(silent.peerId) // says nothing
    const quiet = service.whenServed(silent.peerId, gone.signal)
    await connect(stranger.peerId).send(hello(alice))
    const unlisted = service.whenServed(stranger.peerId, gone.signal)
    gone.abort()
    expect(await Promise.all([nobody, quiet, unlisted])).toEqual([false, false, false])
  })
})

describe('linking sessions (a hello without an account)', () => {
  it('are served while they last, send nothing, are capped, and end at their deadline', async () => {
    const timers = heldTimers()
    const ended: string[] = []
    const { connect, service } = await setup({}, undefined, timers, { maxLinkingSessions: 2, linkingSessionMs: 600_000, linkingEnded: peer => ended.push(peer) })
    const waiting = newAccount()
    const [a, b, c] = [waiting.device('a'), waiting.device('b'), waiting.device('c')]
    const da = connect(a.peerId)
    await da.send(hello(null))
    expect(await da.expectNext('welcome')).toEqual({ type: 'welcome', head: null })
    expect(await service.whenServed(a.peerId, AbortSignal.timeout(1000))).toBe(true)
    const db = connect(b.peerId)
    await db.send(hello(null))
    await db.expectNext('welcome')
    expect(service.linkingCount).toBe(2)
    // the cap: a third is refused, typed, and takes no place
    const dc = connect(c.peerId)
    await dc.send(hello(null))
    await dc.expectRefused('ERR_LINK_RATE_LIMITED')
    expect(await service.isServed(c.peerId)).toBe(false)
    // a linking session may send nothing else
    await db.send({ type: 'subscribe', docId: waiting.doc, since: 0 })
    await db.expectRefused('ERR_NOT_AUTHENTICATED')
    await waitFor('b to be forgotten', () => service.linkingCount === 1)
    await waitFor('b to give its reservation back', () => ended.includes(b.peerId))
    // the deadline: the session is closed, its place and its standing go
    const deadlines = timers.due(600_000)
    expect(deadlines).toHaveLength(1)
    deadlines[0]!()
    await da.expectRefused('ERR_NOT_AUTHENTICATED')
    await waitFor('a to give its reservation back', () => ended.includes(a.peerId))
    expect(service.linkingCount).toBe(0)
    expect(await service.isServed(a.peerId)).toBe(false)
  })

  it('get a circuit reservation from a relay on 127.0.0.1 while the session lasts, and lose it when it ends', async () => {
    const dataDir = await mkdtemp(joinPath(tmpdir(), 'tandem-relay-linking-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const metrics = new RelayMetrics({ processMetrics: false })
    const relay = await createRelay({
      dataDir,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
      sync: false,
      logger: createLogger({ level: 'silent' }),
      metrics
    })
    await relay.start()
    cleanups.push(() => relay.stop())
    const client: Libp2p = await startHopClient()
    await client.start()
    cleanups.push(() => client.stop())
    const addr = relay.multiaddrs()[0]!
    const reservations = async (): Promise<number> => (await metrics.reservations.get()).values[0]?.value ?? 0

    const stream = await client.dialProtocol(multiaddr(addr), STORE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const link = new StreamLink(stream, relay.peerId, 'outbound')
    const frames: StoreFrame[] = []
    link.start({ onFrame: bytes => frames.push(decodeStoreFrame(bytes)), onError: () => {}, onClose: () => {} })
    await link.send(encodeStoreFrame(hello(null)))
    await waitFor('welcome', () => frames.some(ofType('welcome')))
    await reserveByHand(client, addr)
    expect(relay.health().refusedReservations).toBe(0)
    expect(await reservations()).toBe(1)

    link.close()
    const deadline = Date.now() + 5000
    while ((await reservations()) !== 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    expect(await reservations()).toBe(0)
  })
})
