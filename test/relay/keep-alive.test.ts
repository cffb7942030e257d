import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { createEngine, type Engine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { RelayProcess } from '../helpers/relay-process.js'
import { untilEngine } from '../helpers/until.js'
import { Rig } from './relay-helpers.js'

// Issue 15, the idle path: a quiet connection is pinged (one yamux ping) and closed when the
// pong does not come, on the device and on the relay; nothing else talks while nothing
// happens. The intervals are shortened here (the device's keepAlive option, the relay's
// --keepalive flag); the defaults are 45 s / 15 s on the device, 90 s / 15 s on the relay.

const rig = new Rig()
const engines: Engine[] = []
const relays: RelayProcess[] = []
let proxy: FreezingProxy | null = null
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
  for (const r of relays.splice(0)) await r.stop()
  await proxy?.close()
  proxy = null
  await rig.cleanup()
})

/**
 * A TCP proxy to `target` on 127.0.0.1 that counts the bytes each way and can freeze: every
 * connection open then stops carrying anything, without a FIN or a reset (a phone gone out of
 * coverage, a NAT that forgot the mapping); connections made afterwards work.
 */
class FreezingProxy {
  up = 0
  down = 0
  private readonly open = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>()
  private constructor(
    private readonly server: Server,
    readonly port: number
  ) {}

  static async start(target: number): Promise<FreezingProxy> {
    let self: FreezingProxy | null = null
    const server = createServer(client => {
      const upstream = createConnection({ host: '127.0.0.1', port: target })
      const pair = { client, upstream, frozen: false }
      self!.open.add(pair)
      client.on('data', d => {
        if (pair.frozen) return
        self!.up += d.byteLength
        upstream.write(d)
      })
      upstream.on('data', d => {
        if (pair.frozen) return
        self!.down += d.byteLength
        client.write(d)
      })
      const close = (): void => {
        // a frozen connection says nothing, not even goodbye
        if (pair.frozen) return
        client.destroy()
        upstream.destroy()
        self!.open.delete(pair)
      }
      for (const s of [client, upstream]) {
        s.on('error', close)
        s.on('close', close)
      }
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    self = new FreezingProxy(server, (server.address() as { port: number }).port)
    return self
  }

  /** The connections open now go silent: nothing passes either way, nothing is closed. */
  freeze(): void {
    for (const p of this.open) p.frozen = true
  }

  get connections(): number {
    return [...this.open].filter(p => !p.frozen).length
  }

  async close(): Promise<void> {
    for (const p of this.open) {
      p.client.destroy()
      p.upstream.destroy()
    }
    this.open.clear()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}

/** A relay process (with `relayArgs`) reached only through a freezing proxy, which it announces as its only address. */
async function startRelay(relayArgs: string[]): Promise<{ relay: RelayProcess; address: string }> {
  // a port for the relay, then the proxy in front of it, then the relay announcing only the proxy
  const probe = createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise<void>(resolve => probe.close(() => resolve()))
  proxy = await FreezingProxy.start(port)
  const dir = await rig.dir('relay')
  const relay = await RelayProcess.start(dir, ['--announce', `/ip4/127.0.0.1/tcp/${proxy.port}`, ...relayArgs], [`/ip4/127.0.0.1/tcp/${port}`])
  relays.push(relay)
  return { relay, address: `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${relay.peerId}` }
}

async function device(address: string, keepAlive?: { quietMs?: number; timeoutMs?: number }): Promise<{ engine: Engine; connected: () => boolean; chatId: string }> {
  const engine = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: 'phone',
    network: { listen: [], relays: [address], ...(keepAlive !== undefined ? { keepAlive } : {}) }
  })
  engines.push(engine)
  let connected = false
  engine.subscribe(e => {
    if (e.type === 'relay') connected = e.connected
  })
  await engine.start()
  await engine.createAccount({ name: 'Ann', recovery: false })
  const { chatId } = await engine.createChat({ title: 'quiet' })
  await untilEngine(engine, () => connected, 'connected to the relay', 15_000)
  return { engine, connected: () => connected, chatId }
}

const health = async (relay: RelayProcess): Promise<{ connections: number; sessions: number }> =>
  (await (await fetch(`${relay.httpUrl!}/healthz`)).json()) as { connections: number; sessions: number }

it('a device notices its relay connection gone silent within its keep-alive bound, redials, and its message is sent', async () => {
  // the relay's own check far away (110 s): only the device's can find it
  const { address } = await startRelay(['--keepalive', '110s'])
  const d = await device(address, { quietMs: 1_000, timeoutMs: 1_000 })
  proxy!.freeze()
  const frozenAt = Date.now()
  await untilEngine(d.engine, () => !d.connected(), 'the silent connection noticed', 10_000)
  // nothing arrives after the freeze: the check fires 1 s after the last byte, the pong is given 1 s
  expect(Date.now() - frozenAt).toBeLessThan(6_000)
  await untilEngine(d.engine, () => d.connected(), 'back on the relay through a new connection', 10_000)
  const { id: messageId } = await d.engine.sendMessage(d.chatId, 'after the silence')
  await untilEngine(d.engine, () => d.engine.listMessages(d.chatId).find(m => m.id === messageId)?.status === 'sent', 'the message sent', 10_000)
  expect(proxy!.connections).toBe(1)
}, 60_000)

it('the relay drops a device connection gone silent within its keep-alive bound', async () => {
  const { relay, address } = await startRelay(['--keepalive', '1s', '--keepalive-timeout', '1s'])
  // the device's own check far away: only the relay's can find it
  await device(address, { quietMs: 600_000 })
  expect((await health(relay)).connections).toBe(1)
  proxy!.freeze()
  // 1 s quiet + 1 s for the pong, with room for a loaded machine
  await relay.waitForLog(line => line.includes('closed a silent connection'), 8_000)
  expect(await health(relay)).toMatchObject({ connections: 0, sessions: 0 })
}, 60_000)

it('an idle device and its relay exchange nothing but one ping and its pong per quiet interval', async () => {
  const { address } = await startRelay(['--keepalive', '5s'])
  const d = await device(address, { quietMs: 2_000 })
  // what a connection's start brings (identify, the circuit reservation) is over
  await new Promise(resolve => setTimeout(resolve, 3_000))
  proxy!.up = 0
  proxy!.down = 0
  await new Promise(resolve => setTimeout(resolve, 12_000))
  // a yamux ping and its pong are 30 B each with Noise's length and tag: about 6 round trips
  // in 12 s. Before issue 15 the device pinged the relay with a ping stream every 10 s (~530 B)
  // and dialed it as a device on /tandem/sync (~330 B each), and both ends' yamux pinged too.
  expect(proxy!.up).toBeGreaterThanOrEqual(4 * 30)
  expect(proxy!.up).toBeLessThanOrEqual(7 * 30)
  expect(proxy!.down).toBeLessThanOrEqual(7 * 30)
  expect(d.connected()).toBe(true)
}, 60_000)
