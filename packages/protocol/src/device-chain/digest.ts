/**
 * What a chain link's signature covers and what names a link: the signed message carries
 * its own domain (DEVICE_CHAIN_SIGNATURE_DOMAIN), so a device's peer key signing a link
 * can never be replayed as any other message that key signs (libp2p's own signed
 * envelopes and Noise payloads use other prefixes, and so do Tandem's other records).
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import * as encoding from 'lib0/encoding'
import { base32 } from 'multiformats/bases/base32'
import { SIGNATURE_BYTES } from '../limits.js'
import { InvalidCredentialsError, InvalidDeviceListError } from '../errors.js'
import { ACCOUNT_ID_PREFIX } from '../identity.js'
import * as wire from '../wire.js'
import { nobleVerify, type SignatureBackend } from '../crypto/signatures.js'
import { signingKeyFromSeed, type SigningKeyPair } from './keys.js'
import { type ChainLink, type ChainLinkBody, keyHex, linkErrors, writeChainLink, writeLinkBody } from './link.js'

/** Prepended to every signed link body. */
export const DEVICE_CHAIN_SIGNATURE_DOMAIN = 'tandem/device-chain'
/** Prepended to the whole link (signature included) before hashing. */
export const LINK_HASH_DOMAIN = 'tandem/device-chain/link'
/** 160 bits of the genesis hash, as account ids have always been: 'a' + 32 base32 characters. */
const ACCOUNT_ID_HASH_BYTES = 20

/** The signed bytes: varstring(DEVICE_CHAIN_SIGNATURE_DOMAIN) followed by the link minus its signature. */
export function signedLinkMessage(body: ChainLinkBody): Uint8Array {
  return encoding.encode(encoder =>
    wire.guard(
      () => {
        encoding.writeVarString(encoder, DEVICE_CHAIN_SIGNATURE_DOMAIN)
        writeLinkBody(encoder, body)
      },
      'chain link',
      linkErrors
    )
  )
}

/**
 * sha256(varstring(LINK_HASH_DOMAIN) ‖ link): the name `prev` gives a link. It covers the
 * signature too, so one hash names one exact byte string (strict verification leaves
 * nobody but the signer able to make a second valid signature).
 */
export function linkHash(link: ChainLink): Uint8Array {
  const known = hashes.get(link)
  if (known !== undefined && known.signature === link.signature) return known.hash.slice()
  const hash = sha256(
    encoding.encode(encoder => {
      encoding.writeVarString(encoder, LINK_HASH_DOMAIN)
      writeChainLink(encoder, link)
    })
  )
  hashes.set(link, { signature: link.signature, hash: hash.slice() })
  return hash
}

/**
 * Each link object's hash, with the signature it covered. Fork choice, key refreshes and the
 * rules hash every held link again whenever one arrives: a new device accepting a grant of 14
 * links spent 30 ms of its first screen's ~250 ms of CPU in linkHash (bench screen, issue 15).
 * Links are values nobody edits in place; one that is given a new signature is hashed anew.
 */
const hashes = new WeakMap<ChainLink, { signature: Uint8Array; hash: Uint8Array }>()

/** The account id a genesis link founds: 'a' + base32(linkHash(genesis)[0..20]); it never changes. */
export function accountIdFromGenesis(genesis: ChainLink, hash: Uint8Array = linkHash(genesis)): string {
  if (genesis.version !== 1) throw new InvalidDeviceListError(`link ${genesis.version} is not a genesis: only link 1 founds an account`)
  return ACCOUNT_ID_PREFIX + base32.baseEncode(hash.subarray(0, ACCOUNT_ID_HASH_BYTES))
}

/** Signs a body with the key its `signer` names; a key pair that is not the signer's, or not a pair, fails here rather than in every verifier. */
export function signLinkBody(body: ChainLinkBody, key: SigningKeyPair): ChainLink {
  const { publicKey } = signingKeyFromSeed(key.secretKey)
  if (!wire.equalBytes(publicKey, key.publicKey)) throw new InvalidCredentialsError('signing publicKey does not match its secretKey')
  if (!wire.equalBytes(publicKey, body.signer?.publicKey)) throw new InvalidCredentialsError('the key signing a link must be the one its signer field names')
  return { ...body, signature: ed25519.sign(signedLinkMessage(body), key.secretKey) }
}

/**
 * Link hashes whose signature has verified. Whether a link's signature verifies is a
 * function of its exact bytes, which its hash names, so a hash seen verifying needs no
 * second check; fork choice re-reads every held link whenever one arrives, and a check
 * costs ~2.4 ms here against ~20 µs for the hash. Successes only, oldest dropped first.
 */
const verifiedHashes = new Set<string>()
const VERIFIED_HASHES_KEPT = 4096

/**
 * Strict RFC 8032 (zip215: false), like certificates: no non-canonical encodings, no
 * small-order keys. `hash` must be linkHash(link), computed by the caller from this same link.
 */
export function linkSignatureVerifies(link: ChainLink, hash: Uint8Array = linkHash(link)): boolean {
  const hex = keyHex(hash)
  if (verifiedHashes.has(hex)) return true
  const message = signedLinkMessage(link) // also checks every field
  if (!(link.signature instanceof Uint8Array) || link.signature.length !== SIGNATURE_BYTES) return false
  const ok = nobleVerify(link.signature, message, link.signer.publicKey)
  if (ok) remember(hex)
  return ok
}

function remember(hex: string): void {
  if (verifiedHashes.has(hex)) return
  if (verifiedHashes.size >= VERIFIED_HASHES_KEPT) verifiedHashes.delete(verifiedHashes.values().next().value!)
  verifiedHashes.add(hex)
}

/**
 * Checks many links' signatures at once with a native backend (WebCrypto), so that the rules'
 * own checks ({@link linkSignatureVerifies}) find them verified. A chain is verified whole when
 * a device joins and when the relay loads an account: ~2 ms a signature with noble against
 * ~0.1 ms with WebCrypto started together (measured, see crypto/signatures.ts). Only successes
 * are remembered; the signer must still be a current device with a usable key (the rules).
 * With noble (a simulator) this does nothing: the rules verify as they go.
 */
export async function preverifyLinks(links: readonly ChainLink[], signatures: SignatureBackend): Promise<void> {
  if (!signatures.native || links.length < 2) return
  await Promise.all(
    links.map(async link => {
      try {
        const hex = keyHex(linkHash(link))
        if (!verifiedHashes.has(hex) && (await signatures.verify(link.signature, signedLinkMessage(link), link.signer.publicKey))) remember(hex)
      } catch {
        // a malformed link: the rules say what is wrong with it
      }
    })
  )
}
