// A browser device, played from Node: only WebSockets and circuit relay, no
// listening socket of its own. On Node 20 dialing /ws needs the polyfilled
// globalThis.WebSocket (the `ws` package), which this import installs.
import '@tandem/relay/polyfill'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { STORE_PROTOCOL, STORE_PROTOCOL_VERSION, decodeStoreFrame, encodeStoreFrame, headOfLinks } from '@tandem/protocol'
import { DEFAULT_RELAY_LIMITS } from '@tandem/relay'
import { TestAccount } from '@tandem/relay/testing'
import { withJoinedWrites } from '@tandem/transport'
import { createLibp2p } from 'libp2p'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blast, sha, waitFor } from '../../packages/relay/test/helpers.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { RogueStream } from '../helpers/rogue-peer.js'
import { Rig } from './relay-helpers.js'

const BLAST = '/tandem-test/blast/1.0.0'
const KiB = 1024
const MiB = 1024 * KiB
/** libp2p's default data limit per relayed connection, both directions together. */
const LIBRARY_DEFAULT_RELAYED_BYTES = 128 * KiB

const rig = new Rig()
const nodes: Libp2p[] = []
let relay: RelayProcess
let relayWs: string

/**
 * A libp2p node configured like the engine in a browser tab: WebSockets to
 * reach the relay, circuit relay to be reached ('/p2p-circuit' reserves a slot
 * on every relay it connects to), the engine's Noise and yamux. (In a real
 * browser, libp2p's default gater also refuses ws:// and private addresses;
 * Node's allows them.)
 */
async function browserDevice(): Promise<Libp2p & { account: TestAccount }> {
  // its key is the first device of an account of its own (the seed both libp2p and the chain take)
  const seed = new Uint8Array(randomBytes(32))
  let first = true
  const account = new TestAccount(n => {
    if (first && n === 32) {
      first = false
      return seed
    }
    return new Uint8Array(randomBytes(n))
  })
  const node = await createLibp2p({
    privateKey: await generateKeyPairFromSeed('Ed25519', seed),
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [withJoinedWrites(noise())],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  nodes.push(node)
  if (account.first.peerId !== node.peerId.toString()) throw new Error('the test account does not list this node')
  return Object.assign(node, { account })
}

/**
 * Says hello on /tandem/store as the first device of an account of its own, as the engine
 * does once it has an account: the relay reserves circuit slots only for devices it serves,
 * and the reservation request (sent once identify has run) waits for this hello.
 */
async function sayHello(node: Libp2p & { account: TestAccount }): Promise<RogueStream<ReturnType<typeof decodeStoreFrame>>> {
  const { account } = node
  const stream = new RogueStream(await node.dialProtocol(multiaddr(relayWs), STORE_PROTOCOL, { signal: AbortSignal.timeout(10_000) }), decodeStoreFrame)
  stream.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: account.id, head: headOfLinks(account.links) }))
  stream.sendFrame(encodeStoreFrame({ type: 'offer-links', links: account.links, last: true }))
  await stream.frame(f => f.type === 'welcome')
  return stream
}

const circuitThroughRelay = (node: Libp2p): string | undefined =>
  node
    .getMultiaddrs()
    .map(a => a.toString())
    .find(a => a === `${relayWs}/p2p-circuit/p2p/${node.peerId.toString()}`)

beforeAll(async () => {
  // a real tandem-relay process, listening like its defaults (TCP and WebSockets) on loopback
  relay = await RelayProcess.start(await rig.dir('relay'), [], ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'])
  const ws = relay.multiaddrs.find(a => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a))
  if (ws === undefined) throw new Error(`the relay printed no /ws address: ${relay.multiaddrs.join(', ')}`)
  relayWs = ws
})
afterAll(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  await relay?.stop()
  await rig.cleanup()
})

describe('a browser device (WebSockets only, reachable only through the relay)', () => {
  it('gets a reservation over /ws, and another browser device reaches it through the circuit and exchanges 4 MiB', async () => {
    const a = await browserDevice()
    const b = await browserDevice()
    // connected over /ws, each says hello on /tandem/store (which makes it a device the relay serves)
    await Promise.all([sayHello(a), sayHello(b)])
    // its only address is the circuit through the relay's /ws address
    await waitFor('a circuit address through the relay', () => circuitThroughRelay(a) !== undefined)
    const circuitToA = circuitThroughRelay(a)!

    const toA = randomBytes(2 * MiB)
    const toB = randomBytes(2 * MiB)
    const receivedByA = Promise.withResolvers<Uint8Array>()
    let arrivedVia = ''
    await a.handle(
      BLAST,
      (stream, connection) => {
        arrivedVia = connection.remoteAddr.toString()
        blast(stream, toB).then(receivedByA.resolve, receivedByA.reject)
      },
      { runOnLimitedConnection: true }
    )

    const connection = await b.dial(multiaddr(circuitToA), { signal: AbortSignal.timeout(10_000) })
    // limited: the relay's own limits, not libp2p's 128 KiB / 2 minutes
    expect(connection.limits).toBeDefined()
    expect(Number(connection.limits!.bytes)).toBeGreaterThan(DEFAULT_RELAY_LIMITS.relayedDataLimitBytes - MiB)
    expect(connection.limits!.seconds).toBeGreaterThan(DEFAULT_RELAY_LIMITS.relayedDurationLimitMs / 1000 - 60)

    const stream = await connection.newStream(BLAST, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
    const receivedByB = await blast(stream, toA)
    const gotA = await receivedByA.promise
    expect(arrivedVia).toBe(`${relayWs}/p2p-circuit/p2p/${b.peerId.toString()}`)
    expect(toA.byteLength + toB.byteLength).toBeGreaterThan(30 * LIBRARY_DEFAULT_RELAYED_BYTES)
    expect(sha(receivedByB)).toBe(sha(toB))
    expect(sha(gotA)).toBe(sha(toA))
  })

  it('is served /tandem/store over its WebSocket connection: an unknown device gets typed refusals, not a hang', async () => {
    const c = await browserDevice()
    const accountDoc = c.account.doc

    // the first device of an account the relay has never seen, its chain not offered: welcome, but no chain held
    const hello = new RogueStream(await c.dialProtocol(multiaddr(relayWs), STORE_PROTOCOL, { signal: AbortSignal.timeout(10_000) }), decodeStoreFrame)
    hello.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: c.account.id, head: headOfLinks(c.account.links) }))
    expect(await hello.frame(f => f.type === 'welcome')).toMatchObject({ type: 'welcome', head: null })
    hello.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: accountDoc, since: 0 }))
    expect(await hello.frame(f => f.type === 'doc-error')).toMatchObject({ docId: accountDoc, code: 'ERR_DEVICE_NOT_LISTED' })
    hello.abort()

    // no hello at all: an ERROR frame, then the relay closes the stream
    const early = new RogueStream(await c.dialProtocol(multiaddr(relayWs), STORE_PROTOCOL, { signal: AbortSignal.timeout(10_000) }), decodeStoreFrame)
    early.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: accountDoc, since: 0 }))
    expect(await early.refusal()).toMatchObject({ code: 'ERR_NOT_AUTHENTICATED' })
    // all of it over the device's one WebSocket connection to the relay
    expect(c.getConnections().map(x => x.remoteAddr.toString())).toEqual([relayWs])
  })
})
