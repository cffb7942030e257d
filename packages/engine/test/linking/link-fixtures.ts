/**
 * Two devices for the link tests: real libp2p nodes on 127.0.0.1 (TCP + Noise + yamux, as
 * the engine builds them), a LinkHost on the real device chain (createGenesis, proposeLink,
 * acceptLink, verifyChain), and a manual clock every timer of the service runs on.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Connection, Libp2p, Stream, StreamHandlerOptions } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import {
  acceptLink,
  type AttemptLimiterState,
  agreementKeyFromSecret,
  type ChainLink,
  type ChainState,
  createGenesis,
  createPassphraseVerifier,
  decodeChain,
  encodeChain,
  MIN_PASSPHRASE_PARAMS,
  type PassphraseVerifier,
  peerIdFromSigningKey,
  proposeLink,
  type SigningKeyPair,
  signingKeyFromPeerId,
  signingKeyFromSeed,
  verifyChain
} from '@tandem/protocol'
import { withJoinedWrites } from '@tandem/transport'
import { createLibp2p } from 'libp2p'
import type { DeviceGrant, DeviceOffer, LinkHost } from '../../src/linking/index.js'
import type { Runtime, TimerHandle } from '../../src/runtime.js'

/** A clock that moves only when the test says: timers fire in order as it passes them. */
export class ManualClock implements Runtime {
  time = 1_800_000_000_000
  readonly #timers = new Map<number, { at: number; fn: () => void }>()
  #next = 1

  now = (): number => this.time
  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const id = this.#next++
    this.#timers.set(id, { at: this.time + Math.max(0, ms), fn })
    return id
  }
  clearTimeout = (handle: TimerHandle): void => {
    this.#timers.delete(handle as number)
  }
  randomBytes = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n))
  defer = (fn: () => void): void => {
    setImmediate(fn)
  }

  /** Moves the clock on by `ms`, firing every timer due on the way, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0]
      if (due === undefined) break
      this.#timers.delete(due[0])
      this.time = Math.max(this.time, due[1].at)
      due[1].fn()
    }
    this.time = end
  }
}

const recovery = signingKeyFromSeed(new Uint8Array(32).fill(200))

/** A device: a libp2p node on 127.0.0.1 and a LinkHost over it, recording what the service asked of it. */
export class TestDevice implements LinkHost {
  readonly runtime: Runtime
  readonly peerId: string
  readonly node: Libp2p
  readonly #key: SigningKeyPair
  readonly #agreement = agreementKeyFromSecret(globalThis.crypto.getRandomValues(new Uint8Array(32)))
  chain: ChainLink[] | null = null
  state: ChainState | null = null
  verifier: PassphraseVerifier | null = null
  limiterState: AttemptLimiterState | null = null
  readonly approved: DeviceOffer[] = []
  readonly accepted: Array<{ grant: DeviceGrant; from: string }> = []

  private constructor(
    readonly name: string,
    runtime: Runtime,
    key: SigningKeyPair,
    node: Libp2p
  ) {
    this.runtime = runtime
    this.#key = key
    this.node = node
    this.peerId = peerIdFromSigningKey(key.publicKey)
  }

  static async create(name: string, runtime: Runtime): Promise<TestDevice> {
    const seed = globalThis.crypto.getRandomValues(new Uint8Array(32))
    const node = await createLibp2p({
      privateKey: await generateKeyPairFromSeed('Ed25519', seed),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [withJoinedWrites(noise())],
      streamMuxers: [yamux()]
    })
    const device = new TestDevice(name, runtime, signingKeyFromSeed(seed), node)
    if (node.peerId.toString() !== device.peerId) throw new Error('the node’s peer id is not the chain’s signing key')
    return device
  }

  /** Founds an account: the genesis lists this device. */
  createAccount(): void {
    const genesis = createGenesis({ device: this.#listing(this.runtime.now()), signer: this.#key, recoveryKey: recovery.publicKey, issuedAt: this.runtime.now() })
    this.chain = [genesis]
    this.state = verifyChain(this.chain)
  }

  async setPassphrase(passphrase: string): Promise<void> {
    this.verifier = await createPassphraseVerifier(passphrase, n => this.runtime.randomBytes(n), { params: MIN_PASSPHRASE_PARAMS })
  }

  #listing(linkedAt: number) {
    return { signingKey: this.#key.publicKey, agreementKey: this.#agreement.publicKey, name: this.name, platform: 'node', linkedAt }
  }

  describeSelf() {
    return { agreementKey: this.#agreement.publicKey, name: this.name, platform: 'node' }
  }

  hasAccount(): boolean {
    return this.state !== null
  }

  async approveDevice(offer: DeviceOffer): Promise<Required<DeviceGrant>> {
    const state = this.state!
    const signingKey = signingKeyFromPeerId(offer.peerId)!
    const device = { signingKey, agreementKey: offer.agreementKey, name: offer.name, platform: offer.platform, linkedAt: this.runtime.now() }
    const link = proposeLink(state, [{ type: 'add-device', device }], { kind: 'device', key: this.#key }, { issuedAt: this.runtime.now() })
    this.state = acceptLink(state, link).state // the relay's compare-and-set, here on this device's own chain
    this.chain!.push(link)
    this.approved.push(offer)
    return { accountId: state.accountId, chain: encodeChain(this.chain!), keyMaterial: new Uint8Array([7, 7, 7]), hints: [] }
  }

  async acceptGrant(grant: DeviceGrant, from: string): Promise<void> {
    const links = decodeChain(grant.chain)
    this.state = verifyChain(links, { accountId: grant.accountId })
    this.chain = links
    this.accepted.push({ grant, from })
  }

  passphraseVerifier(): PassphraseVerifier | null {
    return this.verifier
  }

  async loadLimiterState(): Promise<AttemptLimiterState | null> {
    return this.limiterState
  }

  async saveLimiterState(state: AttemptLimiterState): Promise<void> {
    this.limiterState = state
  }

  handle(protocol: string, handler: (stream: Stream, connection: Connection) => void, options: StreamHandlerOptions): Promise<void> {
    return this.node.handle(protocol, handler, options)
  }

  unhandle(protocol: string): Promise<void> {
    return this.node.unhandle(protocol)
  }

  async dial(addresses: string[], _peerId: string, protocol: string, signal: AbortSignal): Promise<{ stream: Stream; remotePeerId: string }> {
    const connection = await this.node.dial(
      addresses.map(a => multiaddr(a)),
      { signal }
    )
    const stream = await connection.newStream(protocol, { signal, runOnLimitedConnection: true })
    return { stream, remotePeerId: connection.remotePeer.toString() }
  }

  reachableAddresses(): string[] {
    return this.node.getMultiaddrs().map(a => a.toString().replace(`/p2p/${this.peerId}`, ''))
  }

  /** Peer ids the chain's head lists. */
  listedPeers(): string[] {
    return this.state === null ? [] : this.state.head.devices.map(d => peerIdFromSigningKey(d.signingKey))
  }
}
