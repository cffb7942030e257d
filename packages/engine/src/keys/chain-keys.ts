import { type AgreementKeyPair, type ChainLink, type ChainState, type Draft, type LinkExtension, TandemError } from '@tandem/protocol'
import { KeyRing } from './key-ring.js'

/**
 * What a device chain's keeper does with key material: keeps the account's key ring in step
 * with the winning chain, gives each link it signs the key material it must carry, and says
 * (typed, never thrown at the chain) what is wrong with the chain's keys.
 */
export class ChainKeys {
  /** The account's content keys this device holds, read from the winning chain. */
  readonly ring: KeyRing
  private problemListeners: Array<(problem: TandemError) => void> = []

  constructor(agreement: AgreementKeyPair, random: (n: number) => Uint8Array) {
    this.ring = new KeyRing([agreement], random)
  }

  /** A problem with the chain's key material (a box that does not open, a generation out of order). */
  onProblem(listener: (problem: TandemError) => void): void {
    this.problemListeners.push(listener)
  }

  /** The ring reads the winning chain again; `settled(i)`: link i can no longer lose a fork (the genesis, or a relay holds it). */
  refresh(chain: readonly ChainLink[], settled: (index: number) => boolean): void {
    for (const p of this.ring.update(chain, settled)) this.report(p)
  }

  /** Key material for a link this device signs (a generation for a revocation, boxes for added devices). */
  readonly forLink = (head: ChainState, draft: Draft): LinkExtension[] => this.ring.extensionsFor(head, draft)

  /**
   * The same for a lost link signed again on the winner: a device that lacks the winner's
   * generation still re-signs what it meant (the devices it adds then ask for their keys:
   * KeyExchange), and says why the link carries none.
   */
  readonly forRebase = (head: ChainState, draft: Draft): LinkExtension[] => {
    try {
      return this.ring.extensionsFor(head, draft)
    } catch (err) {
      if (!(err instanceof TandemError)) throw err
      this.report(err)
      return []
    }
  }

  private report(problem: TandemError): void {
    for (const l of this.problemListeners) l(problem)
  }
}
