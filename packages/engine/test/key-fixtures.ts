/** An account's chain with its key generations, made the way devices make it (KeyRing.genesisExtensions, KeyRing.extensionsFor), for the key ring and blob codec tests. */
import { randomBytes } from 'node:crypto'
import {
  type AgreementKeyPair,
  acceptLink,
  agreementKeyFromSecret,
  type ChainDevice,
  type ChainIntent,
  type ChainLink,
  type ChainSigner,
  type ChainState,
  createGenesis,
  peerIdFromSigningKey,
  proposeLink,
  type SigningKeyPair,
  signingKeyFromSeed,
  verifyGenesis
} from '@tandem/protocol'
import { KeyRing } from '../src/keys/key-ring.js'

export const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

export interface TestDevice {
  signing: SigningKeyPair
  agreement: AgreementKeyPair
  peerId: string
  device: ChainDevice
  signer: ChainSigner
}

/** Device `i` (1…99): fixed keys from seeds filled with i. */
export function device(i: number): TestDevice {
  const signing = signingKeyFromSeed(new Uint8Array(32).fill(i))
  const agreement = agreementKeyFromSecret(new Uint8Array(32).fill(100 + i))
  return {
    signing,
    agreement,
    peerId: peerIdFromSigningKey(signing.publicKey),
    device: { signingKey: signing.publicKey, agreementKey: agreement.publicKey, name: `device ${i}`, platform: 'node', linkedAt: i },
    signer: { kind: 'device', key: signing }
  }
}

/** A recovery key (as a phrase derives it: an Ed25519 pair that signs, an X25519 pair that generations are sealed to). */
export function recoveryKeys(i: number): { signing: SigningKeyPair; agreement: AgreementKeyPair } {
  return { signing: signingKeyFromSeed(new Uint8Array(32).fill(200 + i)), agreement: agreementKeyFromSecret(new Uint8Array(32).fill(230 + i)) }
}

export const ringOf = (...holders: AgreementKeyPair[]): KeyRing => new KeyRing([...holders], random)

/** One account: its links, and a ring per device that signs links (each reads the chain before it signs). */
export class TestAccount {
  readonly links: ChainLink[] = []
  state: ChainState
  private issuedAt = 1_000

  constructor(
    first: TestDevice,
    readonly recovery: { signing: SigningKeyPair; agreement: AgreementKeyPair } | null = recoveryKeys(1)
  ) {
    const extensions = ringOf().genesisExtensions(first.agreement.publicKey, recovery?.agreement.publicKey ?? null)
    const genesis = createGenesis({
      device: first.device,
      signer: first.signing,
      recoveryKey: (recovery?.signing ?? signingKeyFromSeed(new Uint8Array(32).fill(199))).publicKey,
      issuedAt: this.issuedAt,
      extensions
    })
    this.links.push(genesis)
    this.state = verifyGenesis(genesis)
  }

  /** `by` signs a link with these intents; `ring` (the signer's, brought up to date first) makes its key material. */
  propose(by: ChainSigner, ring: KeyRing, intents: ChainIntent[]): ChainLink {
    ring.update(this.links, () => true)
    const link = proposeLink(this.state, intents, by, { issuedAt: ++this.issuedAt, extensions: (head, draft) => ring.extensionsFor(head, draft) })
    this.state = acceptLink(this.state, link).state
    this.links.push(link)
    return link
  }

  /** A ring holding `holders`' keys that has read the whole chain (every link settled). */
  ring(...holders: AgreementKeyPair[]): KeyRing {
    const ring = ringOf(...holders)
    ring.update(this.links, () => true)
    return ring
  }
}

export const hex = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('hex'))
