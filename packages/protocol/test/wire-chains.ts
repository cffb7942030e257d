/**
 * Real device chains for the frame tests: links made by createGenesis and proposeLink and
 * verified as they are made, built once, on first use (signing and checking 70 links takes
 * a fraction of a second, which tests that never use them should not pay).
 */
import { type ChainIntent, type ChainLink, type ChainState, encodeChainLink, MAX_EXTENSION_BYTES, MAX_LINK_BYTES, proposeLink, verifySuccessor } from '../src/index.js'
import { dev, genesisOf } from './chain-fixtures.js'

export interface RealChain {
  accountId: string
  /** Genesis first. */
  links: ChainLink[]
  /** `states[i]` is the chain up to `links[i]`. */
  states: ChainState[]
}

/** Links in `realChain()`: more than one frame's MAX_LINKS_PER_FRAME (64). */
export const REAL_CHAIN_LENGTH = 70

let chain: RealChain | undefined

/** One account (founded by device 1): devices 2…10 added a link each, device 10 revoked, then renames up to REAL_CHAIN_LENGTH links. */
export function realChain(): RealChain {
  if (chain !== undefined) return chain
  const genesis = genesisOf(1)
  const links = [genesis.link]
  const states = [genesis.state]
  let state = genesis.state
  const step = (intents: ChainIntent[]) => {
    const link = proposeLink(state, intents, dev(1).signer, { issuedAt: 10_000 + state.version })
    state = verifySuccessor(state, link)
    links.push(link)
    states.push(state)
  }
  for (let i = 2; i <= 10; i++) step([{ type: 'add-device', device: dev(i).device }])
  step([{ type: 'revoke-device', peerId: dev(10).peerId }])
  while (links.length < REAL_CHAIN_LENGTH) step([{ type: 'rename-device', peerId: dev(1 + (links.length % 9)).peerId, name: `name ${links.length}` }])
  chain = { accountId: genesis.state.accountId, links, states }
  return chain
}

let largest: ChainLink | undefined

/** A real successor of `realChain()`'s head, signed by device 2, whose extensions make it exactly MAX_LINK_BYTES. */
export function largestLink(): ChainLink {
  if (largest !== undefined) return largest
  const head = realChain().states.at(-1)!
  const make = (filler: number) =>
    proposeLink(head, [], dev(2).signer, {
      issuedAt: 99_000,
      extensions: [
        { type: 1, data: new Uint8Array(MAX_EXTENSION_BYTES).fill(7) },
        { type: 2, data: new Uint8Array(filler).fill(9) }
      ]
    })
  // An empty filler has a 1-byte length prefix; one of 16 384 to 65 535 bytes a 3-byte one.
  const filler = MAX_LINK_BYTES - encodeChainLink(make(0)).length - 2
  if (filler < 16_384 || filler > 65_535) throw new Error(`largestLink: filler of ${filler} bytes`)
  largest = make(filler)
  const size = encodeChainLink(largest).length
  if (size !== MAX_LINK_BYTES) throw new Error(`largestLink: ${size} bytes, not ${MAX_LINK_BYTES}`)
  return largest
}
