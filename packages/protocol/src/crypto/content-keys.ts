/**
 * What a key generation's 32 random bytes (K_g) derive, all HKDF-SHA256 (@noble/hashes):
 * a doc's key, the generation's public id, and (for chats between accounts, issue 16) the
 * account's X25519 key pair of that generation. Different `info` strings keep them apart.
 */
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'

const utf8 = new TextEncoder()
export const KEY_ID_BYTES = 16

/** The key a doc's blobs are sealed under in generation `key`: HKDF(ikm = K_g, salt = docId, info = "tandem/doc/v1"). */
export function docKey(generationKey: Uint8Array, docId: string): Uint8Array {
  return hkdf(sha256, generationKey, utf8.encode(docId), utf8.encode('tandem/doc/v1'), 32)
}

/** A public name for K_g (in the link that starts the generation): a device that opened a box checks it got the right key. */
export function keyIdOf(generationKey: Uint8Array): Uint8Array {
  return hkdf(sha256, generationKey, undefined, utf8.encode('tandem/key-id/v1'), KEY_ID_BYTES)
}

/** The account's X25519 key pair of a generation: what a chat's key is sealed to for a member account (issue 16). */
export function accountAgreementKey(generationKey: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const secretKey = hkdf(sha256, generationKey, undefined, utf8.encode('tandem/account-x25519/v1'), 32)
  return { publicKey: x25519.getPublicKey(secretKey), secretKey }
}
