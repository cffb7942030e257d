import { DEVICE_MAIN } from '@tandem/device/device-process'
import { RELAY_MAIN } from '@tandem/device/relay-process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { plainBuild } from './plain.js'
import { JsonProcess, script, startAndWaitLine, tempDir, type Event } from './proc.js'
import { messageText } from './text.js'
import { buildStoreGranter, type Granter, type GrantJson, grantToJson, offerFromJson, type OfferJson, processGranter, storeGranter } from './tools/grants.js'

/**
 * The systems behind one small interface, each side a separate process
 * on 127.0.0.1: Tandem (tandem-relay + tandem-device --control, TCP + Noise +
 * yamux), y-websocket (@y/websocket-server + y-leveldb, y-websocket clients),
 * automerge-repo (sync server with nodefs storage, websocket clients). And, on
 * request, Tandem without end-to-end encryption: the same two programs built
 * from commit 4e8b2c9 (tandem-plain: plain.ts), driven the same way. And the floor of
 * Tandem's live path (`floor`: peers/floor-*.ts): its libp2p stack and a sealed, signed frame
 * per message through a server that only forwards, with no Yjs, store or acks above them.
 */
export type SystemKey = 'tandem' | 'tandem-plain' | 'yws' | 'am' | 'floor'
export const SYSTEM_NAMES: Record<SystemKey, string> = {
  tandem: 'Tandem',
  'tandem-plain': 'Tandem plain (4e8b2c9)',
  yws: 'y-websocket',
  am: 'automerge-repo',
  floor: 'the stack alone (floor)'
}

/** Tandem, sealed (this build) or plain (4e8b2c9): the same device and relay programs, the same control protocol. */
export const isTandem = (key: SystemKey): key is 'tandem' | 'tandem-plain' => key === 'tandem' || key === 'tandem-plain'

/** The device and relay programs of a Tandem system. */
const tandemMains = (key: 'tandem' | 'tandem-plain'): { device: string; relay: string } => {
  if (key === 'tandem') return { device: DEVICE_MAIN, relay: RELAY_MAIN }
  const b = plainBuild()
  return { device: b.deviceMain, relay: b.relayMain }
}

/** A stopped device's store of this Tandem system lists new devices (see grants.ts). */
export const storeGranterFor = (key: 'tandem' | 'tandem-plain', dataDir: string): Granter =>
  key === 'tandem' ? storeGranter(dataDir) : buildStoreGranter(plainBuild().engineDir, dataDir)

export interface Server {
  readonly key: SystemKey
  readonly proc: JsonProcess
  readonly port: number
  readonly dataDir: string
  /** Tandem only: the relay's peer id and its /metrics URL. */
  readonly peerId?: string
  /** Tandem only: every address the relay listens on (with /p2p/), e.g. a /ws one next to TCP. */
  readonly multiaddrs?: string[]
  readonly httpUrl?: string
  /** ms from spawn to ready (listening). */
  readonly startMs: number
  stop(): Promise<void>
}

/** What a client needs to open a chat: Tandem, a device of the account that lists it + chat id; a doc name; an automerge URL. */
export type ChatRef = TandemRef | { doc: string }
export interface TandemRef {
  chatId: string
  granter: Granter
  /** The data dir of the (stopped) device that wrote the history, when the bench seeded it. */
  writerDir?: string
}

export interface ClientOptions {
  /** Connect through this port (a counting proxy) instead of the server's. */
  viaPort?: number
  /** Tandem: extra tandem-device flags (default `--no-sync`). */
  deviceFlags?: string[]
  /** Tandem: no relay at all (device to device only). */
  noRelay?: boolean
  /** Tandem: reuse this data dir (restart an existing device). */
  dataDir?: string
  author?: number
}

export interface Client {
  readonly proc: JsonProcess
  readonly label: string
  readonly dataDir: string
  ready(): Promise<void>
  /** Creates a chat (Tandem: an account and a chat) and opens it. */
  create(): Promise<ChatRef>
  /**
   * What opening a chat needs before the clock starts (Tandem: the grant of a device of the
   * account, which may open a stopped device's store); nothing for the others.
   */
  prepareJoin(ref: ChatRef): Promise<void>
  /** Opens a chat (Tandem: joins the account: accepts the grant); returns at once, the sync goes on. */
  join(ref: ChatRef): Promise<void>
  /** Tandem: remember the chat of a device restarted on its data dir. */
  use(ref: ChatRef): void
  send(text: string): Promise<void>
  /**
   * Builds what `burst(count, seed)` will send, ahead of a timed section. (The peers'
   * clients make their texts themselves; a Tandem device gets them on stdin, and building
   * them in the bench process would take CPU from the devices while the clock runs.)
   */
  prepareBurst?(count: number, seed: number): void
  /** `count` messages as fast as the client can write them. */
  burst(count: number, seed: number, timeoutMs?: number): Promise<void>
  waitMessages(count: number, timeoutMs?: number): Promise<number>
  /**
   * From now on the client prints message events, and nothing else unasked (a Tandem device is
   * told `watch` {events: ["message"]}: the peers' clients print nothing else either).
   */
  watch(): Promise<void>
  /** From now on the client prints only its answers (a Tandem device: `watch` {events: []}; the peers' clients print nothing unasked). */
  mute(): Promise<void>
  /** Calls `cb` with the text of every message this client receives from elsewhere (after watch()). */
  onMessage(cb: (text: string) => void): () => void
  stop(): Promise<void>
}

/** `BENCH_CPU_PROF=DIR` profiles every process the bench starts (node --cpu-prof) into DIR. */
export const nodeArgs = (label: string): string[] => {
  const dir = process.env.BENCH_CPU_PROF
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${label}-${Date.now()}.cpuprofile`]
}

const tandemRelayAddr = (server: Server, port = server.port): string => `/ip4/127.0.0.1/tcp/${port}/p2p/${server.peerId!}`

// ── servers ────────────────────────────────────────────────────────────────────

export async function startServer(key: SystemKey, dataDir: string, opts: { port?: number; extra?: string[] } = {}): Promise<Server> {
  const t0 = performance.now()
  if (isTandem(key)) {
    const listen = `/ip4/127.0.0.1/tcp/${opts.port ?? 0}`
    const { proc, lines } = await startAndWaitLine(
      key === 'tandem' ? 'tandem-relay' : 'tandem-plain-relay',
      'node',
      [
        ...nodeArgs(key === 'tandem' ? 'relay' : 'relay-plain'),
        tandemMains(key).relay,
        '--data',
        dataDir,
        '--listen',
        listen,
        '--http',
        '127.0.0.1:0',
        '--log-level',
        'warn',
        ...(opts.extra ?? [])
      ],
      /^http: /,
      60_000
    )
    const startMs = performance.now() - t0
    const peerId = lines.find(l => l.startsWith('peer id: '))!.slice(9)
    const multiaddrs = lines.filter(l => l.startsWith('listening: ')).map(l => l.slice(11))
    const port = Number(/\/tcp\/(\d+)/.exec(multiaddrs[0]!)![1])
    const httpUrl = lines
      .find(l => l.startsWith('http: '))!
      .slice(6)
      .split(' ')[0]!
    return { key, proc, port, dataDir, peerId, multiaddrs, httpUrl, startMs, stop: () => terminate(proc) }
  }
  const file = key === 'yws' ? 'peers/yws-server.js' : key === 'floor' ? 'peers/floor-server.js' : 'peers/am-server.js'
  const { proc, m, lines } = await startAndWaitLine(
    `${key}-server`,
    'node',
    [...nodeArgs(`${key}-server`), script(file), '--data', dataDir, '--port', String(opts.port ?? 0)],
    /^port (\d+)/,
    120_000
  )
  const peerId = lines.find(l => l.startsWith('peer '))?.slice(5)
  return { key, proc, port: Number(m[1]), dataDir, peerId, startMs: performance.now() - t0, stop: () => terminate(proc) }
}

/** SIGTERM (each server flushes its store), then SIGKILL after a bound. */
export async function terminate(proc: JsonProcess, timeoutMs = 60_000): Promise<void> {
  if (!proc.running) return
  proc.child.kill('SIGTERM')
  const timer = setTimeout(() => {
    proc.child.kill('SIGKILL')
  }, timeoutMs)
  await proc.exited
  clearTimeout(timer)
}

/** Peers: the server process writes `docs` chats of `messages` each into its own store (seed mode) and exits. */
export async function seedPeerServer(key: 'yws' | 'am' | 'floor', dataDir: string, docs: number, messages: number): Promise<ChatRef[]> {
  if (key === 'floor') throw new Error('the floor keeps no history: it measures the live path only (--only latency)')
  const file = key === 'yws' ? 'peers/yws-server.js' : 'peers/am-server.js'
  const { proc } = await startAndWaitLine(
    `${key}-seed`,
    'node',
    [script(file), '--data', dataDir, '--seed-docs', String(docs), '--seed-messages', String(messages)],
    /^seeded/,
    3_600_000
  )
  await proc.exited
  if (key === 'yws') return Array.from({ length: docs }, (_, d) => ({ doc: `chat-${d}` }))
  return (JSON.parse(await readFile(join(dataDir, 'urls.json'), 'utf8')) as string[]).map(doc => ({ doc }))
}

// ── clients ──────────────────────────────────────────────────────────────────

export async function startClient(key: SystemKey, label: string, server: Server | null, opts: ClientOptions = {}): Promise<Client> {
  const dataDir = opts.dataDir ?? (await tempDir(label))
  if (isTandem(key)) {
    const args = [...nodeArgs(label), tandemMains(key).device, '--control', '--data', dataDir, ...(opts.deviceFlags ?? ['--no-sync'])]
    if (server !== null && opts.noRelay !== true) args.push('--relay', tandemRelayAddr(server, opts.viaPort))
    return tandemClient(new JsonProcess(label, 'node', args), dataDir, key === 'tandem')
  }
  const port = opts.viaPort ?? server!.port
  if (key === 'floor') return peerClient(new JsonProcess(label, 'node', [...nodeArgs(label), script('peers/floor-client.js'), '--relay', tandemRelayAddr(server!, port)]), dataDir)
  const file = key === 'yws' ? 'peers/yws-client.js' : 'peers/am-client.js'
  const proc = new JsonProcess(label, 'node', [...nodeArgs(label), script(file), '--url', `ws://127.0.0.1:${port}`, '--author', String(opts.author ?? 0)])
  return peerClient(proc, dataDir)
}

/** Texts per Tandem `burst` command (~1 MB of JSON): a 10⁶-message burst is 100 commands, not one 100 MB line. */
const BURST_CHUNK = 10_000

/** The texts of a burst as JSON arrays, one per `burst` command. */
const burstChunks = (count: number, seed: number): string[] => {
  const out: string[] = []
  for (let from = 0; from < count; from += BURST_CHUNK) {
    out.push(JSON.stringify(Array.from({ length: Math.min(BURST_CHUNK, count - from) }, (_, j) => messageText(seed, from + j))))
  }
  return out
}

/** `filtersEvents`: the device takes `watch` {events}, and is told to print only what the measure reads (4e8b2c9's device prints every event whatever it is told). */
function tandemClient(proc: JsonProcess, dataDir: string, filtersEvents: boolean): Client {
  let chatId = ''
  const prepared = new Map<string, string[]>()
  let grant: GrantJson | null = null
  /** This device, listed for one run by a granter that revokes such devices: revoked once it stops. */
  let listedBy: { granter: Granter; peerId: string } | null = null
  const prepareJoin = async (ref: ChatRef): Promise<void> => {
    const { granter } = ref as TandemRef
    const offer = offerFromJson(await proc.request<OfferJson>('device-offer'))
    grant = grantToJson(await granter.grant(offer))
    listedBy = { granter, peerId: offer.peerId }
  }
  return {
    proc,
    label: proc.label,
    dataDir,
    ready: async () => {
      await proc.request('info', {}, 60_000)
    },
    create: async () => {
      await proc.request('create-account', { name: 'bench', recovery: false })
      chatId = (await proc.request<{ chatId: string }>('create-chat', { title: 'bench chat' })).chatId
      return { chatId, granter: processGranter(proc) }
    },
    prepareJoin,
    join: async ref => {
      if (grant === null) await prepareJoin(ref)
      chatId = (ref as TandemRef).chatId
      await proc.request('accept-grant', { grant })
      grant = null
    },
    use: ref => {
      chatId = (ref as { chatId: string }).chatId
    },
    send: async text => {
      await proc.request('send', { chatId, text })
    },
    prepareBurst: (count, seed) => {
      prepared.set(`${count}:${seed}`, burstChunks(count, seed))
    },
    burst: async (count, seed, timeoutMs = 600_000) => {
      // the peers' texts (messageText(seed, i), i = 0…count-1), BURST_CHUNK per command, one command
      // after another; serialized beforehand if prepareBurst was called (outside a timed section)
      const deadline = performance.now() + timeoutMs
      const chunks = prepared.get(`${count}:${seed}`) ?? burstChunks(count, seed)
      prepared.delete(`${count}:${seed}`)
      for (const texts of chunks) {
        await proc.request('burst', { chatId, concurrency: 256, quiet: true }, Math.max(1, deadline - performance.now()), { texts })
      }
    },
    waitMessages: (count, timeoutMs = 600_000) => proc.request<number>('wait-messages', { chatId, count }, timeoutMs),
    watch: async () => {
      await proc.request('watch', filtersEvents ? { events: ['message'] } : {})
    },
    mute: async () => {
      if (filtersEvents) await proc.request('watch', { events: [] })
    },
    onMessage: cb =>
      proc.on((e: Event) => {
        if (e.event === 'message' && e.origin === 'remote') cb((e.message as { text: string }).text)
      }),
    stop: async () => {
      await proc.stop()
      const listed = listedBy
      listedBy = null
      if (listed?.granter.revoke !== undefined) await listed.granter.revoke(listed.peerId)
    }
  }
}

function peerClient(proc: JsonProcess, dataDir: string): Client {
  return {
    proc,
    label: proc.label,
    dataDir,
    ready: async () => {
      await proc.request('ping', {}, 60_000)
    },
    create: async () => ({ doc: await proc.request<string>('create') }),
    prepareJoin: async () => {},
    join: async ref => {
      await proc.request('connect', { doc: (ref as { doc: string }).doc })
    },
    use: () => {},
    send: async text => {
      await proc.request('send', { text })
    },
    burst: async (count, seed, timeoutMs = 600_000) => {
      await proc.request('burst', { count, seed }, timeoutMs)
    },
    waitMessages: (count, timeoutMs = 600_000) => proc.request<number>('wait-messages', { count }, timeoutMs),
    watch: async () => {
      await proc.request('watch')
    },
    mute: async () => {},
    onMessage: cb =>
      proc.on((e: Event) => {
        if (e.event === 'message') cb(e.text as string)
      }),
    stop: () => proc.stop()
  }
}

// ── Tandem specifics ─────────────────────────────────────────────────────────

export interface DeviceInfo {
  peerId: string
  multiaddrs: string[]
  peers: string[]
  relays: Array<{ relay: string; connected: boolean; pendingUploads: number }>
}
export const info = (c: Client): Promise<DeviceInfo> => c.proc.request<DeviceInfo>('info')

/** Waits (bounded) until `a` has a sync session with every device in `others`. */
export async function waitPeers(a: Client, others: Client[], timeoutMs = 30_000): Promise<void> {
  const ids = await Promise.all(others.map(async o => (await info(o)).peerId))
  const t0 = performance.now()
  while (performance.now() - t0 < timeoutMs) {
    const peers = new Set((await info(a)).peers)
    if (ids.every(id => peers.has(id))) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`${a.label}: no sync session with ${others.map(o => o.label).join(', ')} within ${timeoutMs} ms`)
}

/** Resolves once the device reports `count` of its own messages as sent (on the relay's disk). */
export function waitSent(c: Client, count: number, timeoutMs = 600_000): { done: Promise<void>; sent: () => number } {
  let sent = 0
  let off = (): void => {}
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`${c.label}: ${sent}/${count} sent after ${timeoutMs} ms`))
    }, timeoutMs)
    off = c.proc.on(e => {
      if (e.event !== 'status' || e.status !== 'sent') return
      sent += (e.messageIds as string[]).length
      if (sent >= count) {
        off()
        clearTimeout(timer)
        resolve()
      }
    })
  })
  return { done, sent: () => sent }
}

/** Resolves once the device has no upload waiting for the relay's ack (polled twice in a row, bounded). */
export async function waitUploaded(c: Client, timeoutMs = 600_000): Promise<void> {
  const t0 = performance.now()
  let quiet = 0
  while (performance.now() - t0 < timeoutMs) {
    const relays = (await info(c)).relays
    quiet = relays.length > 0 && relays.every(r => r.connected && r.pendingUploads === 0) ? quiet + 1 : 0
    if (quiet >= 2) return
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`${c.label}: uploads still pending after ${timeoutMs} ms`)
}

/** A Tandem relay's Prometheus counter. */
export async function relayMetric(server: Server, name: string): Promise<number> {
  const text = await (await fetch(`${server.httpUrl!}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}
