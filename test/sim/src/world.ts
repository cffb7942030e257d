import { createEngine, type Engine } from '@tandem/engine'

/** Messages per segment doc in the simulator: a busy chat of a run spans several. */
export const SIM_SEGMENT_MESSAGES = 16
import { type AccessRecords, HistoryStore, LevelAccessRecords, RelayMetrics, StoreService, createLogger } from '@tandem/relay'
import type { Link } from '@tandem/transport'
import type { KeyValueStore } from '@tandem/storage'
import { CrashableStore, Disk, type BatchLanding } from '@tandem/storage/testing'
import { MemoryLevel } from 'memory-level'
import { SimNetwork } from './network.js'
import type { Rng } from './rng.js'
import type { Scheduler } from './scheduler.js'
import { simSignatures } from './signatures.js'
import { WatchedStore } from './watched-store.js'
import type { Tracker } from './tracker.js'

/**
 * The relay's id on the simulated network, and the relay an invite names: an address with a
 * /p2p/ peer id, as an invite's must be (a fixed key's, never dialed).
 */
export const RELAY_ID = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWPHuC5JDV6HemoiHouxJ2eKDoiemYCASwZ49MKNYXZLtU'
/** The relay's peer id: what a device keys its relay state by (RelayClients names a relay by id, however it was given). */
export const RELAY_PEER_ID = RELAY_ID.slice(RELAY_ID.lastIndexOf('/') + 1)

/** A disk whose batches are counted (the step invariants look again at what changed). */
const memoryDisk = (): Disk => new Disk(new WatchedStore(new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })))

/**
 * A process's batches reach its disk after a seeded fsync delay (none without sync), in
 * order, on the virtual clock; a crash cancels the owner's timers and drops them.
 */
function fsyncDelays(sched: Scheduler, rng: Rng, owner: string): BatchLanding {
  let lastApply = 0
  return (reach, { sync }) => {
    const delay = sync ? rng.int(0, 3) : 0
    const at = Math.max(lastApply, sched.now + delay)
    lastApply = at
    sched.schedule(at - sched.now, reach, owner)
  }
}

export interface DeviceNode {
  name: string
  account: number
  disk: Disk
  store: CrashableStore | null
  engine: Engine | null
  /** Bumped on every restart: events from a dead incarnation are ignored. */
  incarnation: number
  skewMs: number
  rng: Rng
  peerId: string
  /**
   * Its store lost its identity (ERR_STORE_CORRUPT): the device was set up again as another node, this one never starts again.
   * Also set once the device was revoked and erased itself (`revoked`).
   */
  retired: boolean
  /** It learned it was revoked (a `revoked` event, or ERR_DEVICE_REVOKED at open) and erased its store: it never starts again. */
  revoked: boolean
}

export interface RelayNode {
  disk: Disk
  store: CrashableStore | null
  history: HistoryStore | null
  service: StoreService | null
}

interface Connection {
  a: Link & { isOpen: boolean }
  b: Link & { isOpen: boolean }
}

const silent = createLogger({ level: 'silent' })

/** Whether a device with an account lists itself (one that learned it was revoked, and waits to hear it from a relay, does not). */
function listsItself(e: Engine): boolean {
  try {
    return e.listDevices().some(x => x.thisDevice)
  } catch {
    return false // its account doc is not open yet (still joining)
  }
}

/**
 * The simulated world: devices running the real engine and a relay running the
 * real history store and store service, on crash-prone in-memory disks, joined
 * by the simulated network. The world plays the part of the libp2p layer: it
 * (re)connects every pair that may talk, on a virtual-time tick.
 */
export class World {
  readonly net: SimNetwork
  readonly devices: DeviceNode[] = []
  readonly relay: RelayNode = { disk: memoryDisk(), store: null, history: null, service: null }
  /** Upload keys for the relay: unique and the same in every run of a seed (a counter; drawing them would shift the seed's other draws). */
  private uploadKeyCount = 0
  private uploadKeys(length: number): Uint8Array {
    const bytes = new Uint8Array(length)
    new DataView(bytes.buffer).setUint32(0, ++this.uploadKeyCount)
    return bytes
  }
  /** Joins under way: the device's and its granter's incarnations (a crash of either makes it stale). */
  private readonly joining = new Map<DeviceNode, { incarnation: number; granter: DeviceNode; granterIncarnation: number }>()
  /** Whether an account's devices share a LAN at all (a phone and a laptop may never meet). */
  lan = true
  /** The store a device's new incarnation opens, given its crashable store (storage faults wrap it). */
  storeFor: ((d: DeviceNode, store: KeyValueStore) => KeyValueStore) | null = null
  /** Each account's id (by the sim's account number), once its first device created it. */
  readonly accountIds: string[] = []
  /** What a starting relay's service is given: its history (to watch its commits) and access records (wrapped to watch its chain appends). */
  relayWatch: ((history: HistoryStore, records: AccessRecords) => AccessRecords) | null = null
  /** A device learned it was revoked and erased itself (called once, as it is marked). */
  onRevoked: ((d: DeviceNode) => void) | null = null
  private readonly connections = new Map<string, Connection>()

  constructor(
    readonly sched: Scheduler,
    private readonly rng: Rng,
    readonly tracker: Tracker,
    readonly trace: (line: string) => void
  ) {
    this.net = new SimNetwork(sched, rng.child(), trace)
  }

  addDevice(account: number, skewMs: number): DeviceNode {
    const d: DeviceNode = {
      name: `a${account}d${this.devices.filter(x => x.account === account).length}`,
      account,
      disk: memoryDisk(),
      store: null,
      engine: null,
      incarnation: 0,
      skewMs,
      rng: this.rng.child(),
      peerId: '',
      retired: false,
      revoked: false
    }
    this.devices.push(d)
    return d
  }

  live(): DeviceNode[] {
    return this.devices.filter(d => d.engine !== null)
  }

  async startDevice(d: DeviceNode): Promise<Engine> {
    d.incarnation++
    const incarnation = d.incarnation
    d.store = new CrashableStore(d.disk, fsyncDelays(this.sched, d.rng.child(), d.name))
    let engine: Engine
    try {
      engine = await this.sched.await(
        createEngine({
          store: this.storeFor?.(d, d.store) ?? d.store,
          runtime: this.sched.runtime(d.name, d.skewMs, d.rng.child()),
          network: false,
          relayIds: [RELAY_ID],
          deviceName: d.name,
          // long chats as segment docs, small enough that a run's chats span several; all kept in
          // memory, so two devices holding the same docs list the same messages
          segments: { segmentMessages: SIM_SEGMENT_MESSAGES, unload: false },
          // a short session of its own with the relay (reading another account's chain for an invite or a group)
          openRelayStream: async () => this.relayStream(d, incarnation)
        })
      )
    } catch (err) {
      // refused to open (a damaged identity; or revoked while it was down, and erased at open): nothing of this incarnation lives on
      d.store.crash()
      d.store = null
      this.sched.cancelOwner(d.name)
      if ((err as { code?: string }).code === 'ERR_DEVICE_REVOKED') this.markRevoked(d, 'at open')
      throw err
    }
    engine.subscribe(e => {
      if (d.incarnation !== incarnation) return
      this.tracker.onEvent(d.name, d.account, e)
      if (e.type === 'revoked') {
        // the engine stopped and erased its store: the device is gone for good (never restarted)
        d.engine = null
        d.incarnation++
        this.markRevoked(d, 'while running')
      }
      if (e.type === 'error') this.trace(`${d.name} error ${(e.error as { code?: string }).code ?? ''}: ${e.error.message}`)
      if (e.type === 'relay') this.trace(`${d.name} relay ${e.connected} ${(e.error as { code?: string } | undefined)?.code ?? ''} ${e.error?.message ?? ''}`)
      if (e.type === 'removed') this.trace(`${d.name} hears its account was removed from ${e.chatId.slice(0, 8)}`)
      if (e.type === 'refused') this.trace(`${d.name} refused ${e.peerId.slice(-6)}: ${e.error.code}`)
      if (e.type === 'rejected') this.trace(`${d.name} rejected a blob of ${e.docId.slice(0, 14)}${e.waiting ? ' (waits for its key)' : ''}: ${e.error.code} ${e.error.message}`)
    })
    await this.sched.await(engine.start())
    d.engine = engine
    // the peer key was on disk once a start completed: a device never comes back as another
    if (d.peerId !== '' && engine.peerId !== d.peerId) this.tracker.violations.push(`identity ${this.tracker.where()}: ${d.name} came back as ${engine.peerId}, was ${d.peerId}`)
    d.peerId = engine.peerId
    this.trace(`start ${d.name} (${d.peerId.slice(-6)})`)
    // a device that crashed while joining (the grant not yet on disk) joins again at the next tick (reconnect)
    return engine
  }

  /**
   * Links a device that is up and in no account yet into its account, as its person would:
   * a live device of the account lists it (addDevice, from its offer) and it accepts the
   * grant. Null when no device of the account is up to list it, or a join is already under
   * way (neither side crashed since); otherwise the attempt, which rejects when it fails.
   * Which device lists it: the first live one in the world's order that lists itself (no draw: deterministic).
   */
  join(d: DeviceNode): Promise<void> | null {
    const e = d.engine
    if (e === null || d.retired || e.accountId !== null) return null
    const under = this.joining.get(d)
    if (under !== undefined && under.incarnation === d.incarnation && under.granterIncarnation === under.granter.incarnation) return null
    const granter = this.devices.find(g => g !== d && g.account === d.account && !g.retired && g.engine !== null && g.engine.accountId !== null && listsItself(g.engine))
    if (granter === undefined) return null
    const entry = { incarnation: d.incarnation, granter, granterIncarnation: granter.incarnation }
    this.joining.set(d, entry)
    const ge = granter.engine!
    const attempt = (async () => {
      try {
        const grant = await ge.addDevice(e.deviceOffer())
        // a crash on either side on the way: this attempt is over (the next tick starts another)
        if (d.incarnation !== entry.incarnation || granter.incarnation !== entry.granterIncarnation) throw new Error('a device crashed while linking')
        await e.acceptGrant(grant)
        this.trace(`${d.name} joined account ${d.account}, listed by ${granter.name}`)
      } catch (err) {
        this.trace(`${d.name} could not join via ${granter.name}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`)
        throw err
      } finally {
        if (this.joining.get(d) === entry) this.joining.delete(d)
      }
    })()
    return attempt
  }

  private markRevoked(d: DeviceNode, how: string): void {
    if (d.revoked) return
    d.revoked = true
    d.retired = true
    this.trace(`${d.name} learned it was revoked (${how}) and erased its store`)
    this.onRevoked?.(d)
  }

  /** Kills a device: memory gone, in-flight writes lost, its connections reset, its timers dead. */
  crashDevice(d: DeviceNode): void {
    if (d.engine === null) return
    this.trace(`crash ${d.name}`)
    d.store!.crash()
    d.engine = null
    d.incarnation++
    this.sched.cancelOwner(d.name)
    this.net.resetNode(d.peerId)
  }

  async startRelay(): Promise<void> {
    const r = this.relay
    r.store = new CrashableStore(r.disk, fsyncDelays(this.sched, this.rng.child(), RELAY_ID))
    r.history = await this.sched.await(HistoryStore.open(r.store, { maxBlobBytes: 64 * 1024 * 1024, accountQuotaBytes: 1024 * 1024 * 1024, randomBytes: n => this.uploadKeys(n) }))
    // the relay's timers are the world's: virtual, and they die with a crash (cancelOwner)
    const timers = {
      setTimeout: (fn: () => void, ms: number) => this.sched.schedule(ms, fn, RELAY_ID),
      clearTimeout: (h: unknown) => {
        this.sched.cancel(h as number)
      }
    }
    const level = await this.sched.await(LevelAccessRecords.open(r.store))
    const records = this.relayWatch?.(r.history, level) ?? level
    r.service = new StoreService(r.history, records, new RelayMetrics({ processMetrics: false }), silent, timers, { signatures: simSignatures })
    this.trace('start relay')
  }

  crashRelay(): void {
    const r = this.relay
    if (r.service === null) return
    this.trace('crash relay')
    r.store!.crash()
    r.service = null
    r.history = null
    this.sched.cancelOwner(RELAY_ID)
    this.net.resetNode(RELAY_ID)
  }

  /**
   * Opens every connection that is missing and allowed: devices of one account (on the LAN,
   * or else through the relay's circuit), device ↔ relay.
   */
  reconnect(): void {
    const live = this.live()
    // a device of an account that is not in it yet (a join failed, a device crashed on the way, none could list it): try again
    for (const d of live) if (!d.retired && d.engine!.accountId === null) void this.join(d)?.catch(() => {})
    for (const x of live) {
      const service = this.relay.service
      for (const y of live) {
        if (x.account !== y.account || x.peerId >= y.peerId) continue
        // without a LAN, devices of an account reach each other through the relay's circuit
        const via = this.lan ? undefined : RELAY_ID
        if (via !== undefined && service === null) continue
        this.ensure(`${x.peerId}|${y.peerId}`, () => {
          const pair = this.net.connect(x.peerId, y.peerId, via === undefined ? 'lan' : 'relay', via)
          if (pair !== null) {
            x.engine!.addLink(pair[0])
            y.engine!.addLink(pair[1])
          }
          return pair
        })
      }
      if (service !== null) {
        this.ensure(`${x.peerId}|${RELAY_ID}`, () => {
          const pair = this.net.connect(x.peerId, RELAY_ID, 'relay')
          if (pair !== null) {
            x.engine!.addRelayLink(RELAY_ID, pair[0])
            service.addLink(pair[1])
          }
          return pair
        })
      }
    }
  }

  /** One more link from a device to the relay (null while the relay is down or the path is cut): a stream of its own, not kept. */
  private relayStream(d: DeviceNode, incarnation: number): Link | null {
    const service = this.relay.service
    if (service === null || d.incarnation !== incarnation || d.peerId === '') return null
    const pair = this.net.connect(d.peerId, RELAY_ID, 'relay')
    if (pair === null) return null
    service.addLink(pair[1])
    return pair[0]
  }

  private ensure(key: string, open: () => [Link, Link] | null): void {
    const c = this.connections.get(key)
    if (c?.a.isOpen && c.b.isOpen) return
    const pair = open()
    if (pair === null) this.connections.delete(key)
    else this.connections.set(key, { a: pair[0] as Connection['a'], b: pair[1] as Connection['b'] })
  }
}
