// Accounts with real device chains for relay tests and contract cases: devices with
// Ed25519 keys (their peer ids are what a Noise session would authenticate), links signed
// with the protocol's own createGenesis / proposeLink, membership records signed by a device.
import {
  MAX_CHAIN_DEVICES,
  agreementKeyFromSecret,
  createGenesis,
  peerIdFromSigningKey,
  proposeLink,
  signMembership,
  signingKeyFromSeed,
  verifyChain,
  verifySuccessor,
  accountIdFromGenesis,
  type ChainDevice,
  type ChainIntent,
  type ChainLink,
  type ChainState,
  type SignedMembership,
  type SigningKeyPair
} from '@tandem/protocol'

/** Where key material comes from: random bytes in tests, a pattern in the contract cases (which need none). */
export type TestBytes = (n: number) => Uint8Array

export class TestDevice {
  readonly key: SigningKeyPair
  readonly peerId: string
  readonly device: ChainDevice
  constructor(bytes: TestBytes, name: string, linkedAt = 1) {
    this.key = signingKeyFromSeed(bytes(32))
    this.peerId = peerIdFromSigningKey(this.key.publicKey)
    this.device = { signingKey: this.key.publicKey, agreementKey: agreementKeyFromSecret(bytes(32)).publicKey, name, platform: 'node', linkedAt }
  }
}

/**
 * An account as its devices see it: the links signed so far (`links`, genesis first) and
 * the state they make. `propose` signs a successor of any state without adopting it (for
 * forks); `extend` signs one on the current head and adopts it.
 */
export class TestAccount {
  readonly first: TestDevice
  readonly recovery: SigningKeyPair
  readonly links: ChainLink[]
  readonly id: string
  state: ChainState
  private clock = 1000

  constructor(private readonly bytes: TestBytes) {
    this.first = new TestDevice(bytes, 'first')
    this.recovery = signingKeyFromSeed(bytes(32))
    const genesis = createGenesis({ device: this.first.device, signer: this.first.key, recoveryKey: this.recovery.publicKey, issuedAt: this.clock })
    this.links = [genesis]
    this.id = accountIdFromGenesis(genesis)
    this.state = verifyChain(this.links, { accountId: this.id })
  }

  get genesis(): ChainLink {
    return this.links[0]!
  }

  get doc(): string {
    return `account:${this.id}`
  }

  device(name: string): TestDevice {
    return new TestDevice(this.bytes, name, ++this.clock)
  }

  /** A successor of `on` (default: the head) signed by `signer`, not adopted. The device limit is not checked here: the relay's is. */
  propose(signer: TestDevice, intents: ChainIntent[], on: ChainState = this.state): ChainLink {
    return proposeLink(on, intents, { kind: 'device', key: signer.key }, { issuedAt: ++this.clock, policy: { maxDevices: MAX_CHAIN_DEVICES } })
  }

  /** Signs the next link on the head and adopts it. */
  extend(signer: TestDevice, intents: ChainIntent[]): ChainLink {
    const link = this.propose(signer, intents)
    this.adopt(link)
    return link
  }

  add(signer: TestDevice, ...devices: TestDevice[]): ChainLink {
    return this.extend(
      signer,
      devices.map(d => ({ type: 'add-device', device: d.device }))
    )
  }

  revoke(signer: TestDevice, ...devices: TestDevice[]): ChainLink {
    return this.extend(
      signer,
      devices.map(d => ({ type: 'revoke-device', peerId: d.peerId }))
    )
  }

  /** Makes `link` (a successor of the head) the head. */
  adopt(link: ChainLink): void {
    this.state = verifySuccessor(this.state, link)
    this.links.push(link)
  }

  membership(signer: TestDevice, docId: string, version: number, members: TestAccount[]): SignedMembership {
    return signMembership({ accountId: this.id, key: signer.key }, { docId, version, members: members.map(m => m.id), issuedAt: 1000 + version })
  }
}
