// Hostile peers against a real `tandem-relay` process (issue 12, "Limits anyone can exhaust"):
// throw-away identities asking for circuit reservations, idle TCP connections that never
// start a handshake, a /tandem/store stream that never says hello. Everything runs on
// 127.0.0.x with bounded counts, and every socket and process is closed at the end.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { STORE_PROTOCOL, STORE_PROTOCOL_VERSION, decodeChain, encodeStoreFrame, headOfLinks, peerIdFromSigningKey, signingKeyFromSeed } from '@tandem/protocol'
import { TestAccount } from '@tandem/relay/testing'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { DeviceProcess } from '../helpers/device-process.js'
import { IdleFlood } from '../helpers/idle-flood.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { RoguePeer } from '../helpers/rogue-peer.js'

interface Info {
  peerId: string
  accountId: string
  multiaddrs: string[]
}

interface Health {
  ok: boolean
  accepting: boolean
  reason?: string
  pendingConnections: number
  addressesAtPendingLimit: number
  refusedPendingPerAddress: number
  refusedReservations: number
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})

async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tandem-hostile-${label}-`))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function startRelay(args: string[]): Promise<RelayProcess> {
  const relay = await RelayProcess.start(await tempDir('relay'), args)
  cleanups.push(() => relay.stop())
  return relay
}

function startDevice(label: string, dir: string, relay: RelayProcess): DeviceProcess {
  const d = DeviceProcess.start(label, ['--data', dir, '--name', label, '--listen', '/ip4/127.0.0.1/tcp/0', '--relay', relay.address])
  cleanups.push(() => d.stop())
  return d
}

async function rogue(): Promise<RoguePeer> {
  const r = await RoguePeer.start()
  cleanups.push(() => r.stop())
  return r
}

async function health(relay: RelayProcess): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${relay.httpUrl!}/healthz`)
  return { status: res.status, body: (await res.json()) as Health }
}

async function metric(relay: RelayProcess, line: RegExp): Promise<number> {
  const text = await (await fetch(`${relay.httpUrl!}/metrics`)).text()
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text)
  if (m === null) throw new Error(`no ${line.source} in /metrics`)
  return Number(m[1])
}

/** Resolves once `check` holds, checked every 50 ms; rejects after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

const tcpPort = (relay: RelayProcess): number => Number(/\/tcp\/(\d+)\//.exec(relay.address)![1])
const circuitOf = (relay: RelayProcess, peerId: string): string => `/p2p/${relay.peerId}/p2p-circuit/p2p/${peerId}`

describe('a relay under hostile peers', () => {
  it('reserves circuit slots only for devices it serves: throw-away identities are refused without taking a slot, and a silent store stream is closed at the hello deadline', async () => {
    // four slots: before, the throw-away identities below took all of them and the device got none
    const relay = await startRelay(['--max-reservations', '4', '--reservation-hello-wait', '1s'])
    // a device whose person creates the account only after what follows (over a second, the relay's hello wait)
    const device = startDevice('device', await tempDir('device'), relay)
    await device.request('info') // its network is up

    // a /tandem/store stream that never says hello, held open from the start
    const silent = await rogue()
    const silentStream = await silent.openStore(relay.address, STORE_PROTOCOL)
    const silentOpened = Date.now()

    // eight throw-away identities ask for a reservation at once, and the one holding the silent stream too
    const throwAway = await Promise.all(Array.from({ length: 8 }, () => rogue()))
    expect(await Promise.all([...throwAway, silent].map(r => r.reserve(relay.address)))).toEqual(Array(9).fill('PERMISSION_DENIED'))

    // a device of an account the relay does not hold (its chain never offered) is not enough either
    const stranger = await rogue()
    const account = new TestAccount(n => new Uint8Array(randomBytes(n)))
    const s = await stranger.openStore(relay.address, STORE_PROTOCOL)
    s.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: account.id, head: headOfLinks(account.links) }))
    await s.frame(f => f.type === 'welcome')
    expect(await stranger.reserve(relay.address)).toBe('PERMISSION_DENIED')

    // the device, which asks for its reservation beside its hello, gets its circuit address (before, a
    // device reached the relay before it had an account, was refused, and was never asked again)
    await device.request('create-account', { name: 'Ann', recovery: false })
    const info = await device.request<Info>('info')
    await device.waitForEvent(e => e.event === 'relay' && e.connected === true, 20_000)
    await eventually(
      'the device reachable through the relay',
      async () => (await device.request<Info>('info')).multiaddrs.some(m => m.includes(circuitOf(relay, info.peerId))),
      20_000
    )
    expect(await metric(relay, /tandem_relay_reservations/)).toBe(1)
    expect(await metric(relay, /tandem_relay_admission_refusals_total\{reason="reservation_not_served"\}/)).toBe(10)

    // a peer presenting the account's real chain (which does not list it) is served nothing, and its reservation is refused
    const thief = await rogue()
    const offer = {
      peerId: peerIdFromSigningKey(signingKeyFromSeed(new Uint8Array(randomBytes(32))).publicKey),
      agreementKey: randomBytes(32).toString('base64'),
      name: 'x',
      platform: 'node'
    }
    const links = decodeChain(new Uint8Array(Buffer.from((await device.request<{ chain: string }>('add-device', { offer })).chain, 'base64')))
    const stolen = await thief.openStore(relay.address, STORE_PROTOCOL)
    stolen.sendFrame(encodeStoreFrame({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId: info.accountId, head: headOfLinks(links) }))
    stolen.sendFrame(encodeStoreFrame({ type: 'subscribe', docId: `account:${info.accountId}`, since: 0 }))
    // (welcomed as a peer of the account not listed yet: a device just linked offers its link itself)
    expect(await stolen.frame(f => f.type === 'doc-error')).toMatchObject({ docId: `account:${info.accountId}`, code: 'ERR_DEVICE_NOT_LISTED' })
    expect(stolen.frames.some(f => f.type === 'blob' || f.type === 'snapshot-data' || f.type === 'subscribed')).toBe(false)
    expect(await thief.reserve(relay.address)).toBe('PERMISSION_DENIED')

    // the silent stream was still open through all of that, and is closed at the 10 s hello deadline
    expect(silentStream.frames).toEqual([])
    expect(await silentStream.refusal(20_000)).toMatchObject({ code: 'ERR_NOT_AUTHENTICATED' })
    process.stderr.write(`silent /tandem/store stream closed ${Date.now() - silentOpened} ms after it opened\n`)
    expect((await health(relay)).status).toBe(200)
  })

  it('lets a device from another address connect while 1,100 idle connections from one address hold their handshakes, and /healthz reports them', async () => {
    // the production limits, with a handshake deadline long enough that the flood holds for the whole test
    const relay = await startRelay(['--handshake-timeout', '60s'])
    const device = startDevice('device', await tempDir('device'), relay)
    await device.request('info') // the process is up; it dials the relay once it has an account

    const flood = await IdleFlood.open('127.0.0.1', tcpPort(relay), 1_100, ['127.0.0.2'])
    cleanups.push(() => flood.close())
    // the relay keeps 64 (its per-address share) and refuses the rest at once; before, it kept
    // 1,024 until its 30 s upgrade timeout and refused every other peer meanwhile
    await flood.untilClosed(1_100 - 64, 10_000)
    const during = await health(relay)
    expect(during.status).toBe(200)
    expect(during.body).toMatchObject({ ok: true, accepting: true, pendingConnections: 64, addressesAtPendingLimit: 1, refusedPendingPerAddress: 1_036 })
    expect(await metric(relay, /tandem_relay_pending_connections/)).toBe(64)

    // the device (from 127.0.0.1) connects, says hello and gets its circuit address meanwhile
    const started = Date.now()
    await device.request('create-account', { name: 'Ann', recovery: false })
    await device.waitForEvent(e => e.event === 'relay' && e.connected === true, 20_000)
    const { peerId } = await device.request<Info>('info')
    await eventually('the device reachable through the relay', async () => (await device.request<Info>('info')).multiaddrs.some(m => m.includes(circuitOf(relay, peerId))), 20_000)
    process.stderr.write(`device on the relay ${Date.now() - started} ms after create-account, beside 1,100 idle connections from 127.0.0.2\n`)
    expect(flood.open).toBe(64) // the flood held all along

    await flood.close()
    await eventually('no pending handshakes after the flood', async () => (await health(relay)).body.pendingConnections === 0, 10_000)
  })

  it('says 503 on /healthz while idle connections from several addresses fill every handshake place, and recovers at the handshake deadline', async () => {
    const relay = await startRelay(['--max-pending-connections', '64', '--max-pending-per-address', '16', '--handshake-timeout', '5s'])
    const probe = await rogue()

    // 5 addresses × 20: each address keeps 16, and the relay's 64 places are full after four of them
    const from = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6']
    const flood = await IdleFlood.open('127.0.0.1', tcpPort(relay), 100, from)
    cleanups.push(() => flood.close())
    await flood.untilClosed(100 - 64, 5_000)
    const full = await health(relay)
    expect(full.status).toBe(503)
    expect(full.body).toMatchObject({ ok: false, accepting: false, reason: 'pending-handshakes-full', pendingConnections: 64 })
    expect(await metric(relay, /tandem_relay_accepting/)).toBe(0)
    // what it says is so: a peer from 127.0.0.1 is refused
    await expect(probe.node.dial(multiaddr(relay.address), { signal: AbortSignal.timeout(5_000) })).rejects.toThrow()

    // the relay closes connections that never finished their handshake at its deadline, and takes peers again
    await flood.untilClosed(100, 20_000)
    const after = await health(relay)
    expect(after.status).toBe(200)
    expect(after.body).toMatchObject({ ok: true, accepting: true, pendingConnections: 0 })
    expect(await metric(relay, /tandem_relay_accepting/)).toBe(1)
    await probe.node.dial(multiaddr(relay.address), { signal: AbortSignal.timeout(5_000) })
  })
})
