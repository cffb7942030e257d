/**
 * How the chain travels inside sync and store frames: a head (version and hash, what a
 * hello says it holds) and a run of links (what a `links` / `offer-links` frame carries).
 * A chain longer than one frame goes as several runs; `splitLinks` cuts them.
 */
import type * as decoding from 'lib0/decoding'
import type * as encoding from 'lib0/encoding'
import * as wire from '../wire.js'
import { linkHash } from './digest.js'
import { type ChainLink, encodeChainLink, LINK_HASH_BYTES, readChainLink, writeChainLink } from './link.js'
import type { ChainState } from './state.js'

/** What a peer names as the newest link it holds. */
export interface ChainHead {
  version: number
  hash: Uint8Array
}

/** Links in one frame. */
export const MAX_LINKS_PER_FRAME = 64
/** Encoded links in one frame: leaves headroom under MAX_FRAME_BYTES (256 KiB) for the frame's other fields. */
export const MAX_LINK_RUN_BYTES = 192 * 1024

export const headOf = (state: ChainState): ChainHead => ({ version: state.version, hash: state.headHash })

export const sameHead = (a: ChainHead | null, b: ChainHead | null): boolean => a !== null && b !== null && a.version === b.version && wire.equalBytes(a.hash, b.hash)

export function writeChainHead(encoder: encoding.Encoder, head: ChainHead | null, errs: wire.WireErrors): void {
  if (head !== null && typeof head !== 'object') throw errs.malformed('head: not a chain head or null')
  wire.writeBool(encoder, 'head present', head !== null, errs)
  if (head === null) return
  wire.writeUint(encoder, 'head.version', head.version, errs)
  if (head.version < 1) throw errs.malformed('head.version must be at least 1')
  wire.writeFixedBytes(encoder, 'head.hash', head.hash, LINK_HASH_BYTES, errs)
}

export function readChainHead(decoder: decoding.Decoder, errs: wire.WireErrors): ChainHead | null {
  if (!wire.readBool(decoder, 'head present', errs)) return null
  const version = wire.readUint(decoder, 'head.version', errs)
  if (version < 1) throw errs.malformed('head.version must be at least 1')
  return { version, hash: wire.readFixedBytes(decoder, 'head.hash', LINK_HASH_BYTES, errs).slice() }
}

/** varuint(n) link{n}, 1 ≤ n ≤ MAX_LINKS_PER_FRAME; the frame's size bound covers the bytes. */
export function writeLinkRun(encoder: encoding.Encoder, links: readonly ChainLink[], errs: wire.WireErrors): void {
  if (!Array.isArray(links) || links.length === 0) throw errs.malformed('links: a run has at least one link')
  wire.writeCount(encoder, 'links', links.length, MAX_LINKS_PER_FRAME, errs)
  for (const link of links) writeChainLink(encoder, link)
}

export function readLinkRun(decoder: decoding.Decoder, errs: wire.WireErrors): ChainLink[] {
  const count = wire.readCount(decoder, 'links', MAX_LINKS_PER_FRAME, errs)
  if (count === 0) throw errs.malformed('links: a run has at least one link')
  const links: ChainLink[] = []
  for (let i = 0; i < count; i++) links.push(readChainLink(decoder))
  return links
}

/** Cuts links (in order) into runs that each fit one frame. */
export function splitLinks(links: readonly ChainLink[]): ChainLink[][] {
  const runs: ChainLink[][] = []
  let run: ChainLink[] = []
  let bytes = 0
  for (const link of links) {
    const size = encodeChainLink(link).length
    if (run.length > 0 && (run.length >= MAX_LINKS_PER_FRAME || bytes + size > MAX_LINK_RUN_BYTES)) {
      runs.push(run)
      run = []
      bytes = 0
    }
    run.push(link)
    bytes += size
  }
  if (run.length > 0) runs.push(run)
  return runs
}

/** The head a list of links (genesis first) ends in, or null for none. */
export function headOfLinks(links: readonly ChainLink[]): ChainHead | null {
  const last = links.at(-1)
  return last === undefined ? null : { version: last.version, hash: linkHash(last) }
}
