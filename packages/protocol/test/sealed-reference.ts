/**
 * PROTOCOL.md's sealing constructions ("Key generations", "Sealed blobs") written a second time,
 * from the text, with node:crypto (OpenSSL) instead of noble and lib0: XChaCha20-Poly1305 is
 * HChaCha20 (below) plus OpenSSL's ChaCha20-Poly1305, X25519 and Ed25519 are OpenSSL's, and the
 * varuints are written here. A test that compares these bytes with `src` checks the spec and the
 * code against each other.
 */
import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject, scryptSync, sign } from 'node:crypto'

const utf8 = new TextEncoder()

export const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))

/** varuint: unsigned LEB128, low group first. */
export function varuint(n: number): Uint8Array {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n % 128) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return new Uint8Array(out)
}

export const varstring = (s: string): Uint8Array => {
  const bytes = utf8.encode(s)
  return concat(varuint(bytes.length), bytes)
}

const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0

/** HChaCha20 (draft-irtf-cfrg-xchacha §2.2): the ChaCha20 core without the final addition, words 0–3 and 12–15. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  const k = Buffer.from(key)
  const n = Buffer.from(nonce16)
  const s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
  for (let i = 0; i < 8; i++) s.push(k.readUInt32LE(4 * i))
  for (let i = 0; i < 4; i++) s.push(n.readUInt32LE(4 * i))
  const qr = (a: number, b: number, c: number, d: number) => {
    s[a] = (s[a]! + s[b]!) >>> 0
    s[d] = rotl(s[d]! ^ s[a]!, 16)
    s[c] = (s[c]! + s[d]!) >>> 0
    s[b] = rotl(s[b]! ^ s[c]!, 12)
    s[a] = (s[a]! + s[b]!) >>> 0
    s[d] = rotl(s[d]! ^ s[a]!, 8)
    s[c] = (s[c]! + s[d]!) >>> 0
    s[b] = rotl(s[b]! ^ s[c]!, 7)
  }
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12)
    qr(1, 5, 9, 13)
    qr(2, 6, 10, 14)
    qr(3, 7, 11, 15)
    qr(0, 5, 10, 15)
    qr(1, 6, 11, 12)
    qr(2, 7, 8, 13)
    qr(3, 4, 9, 14)
  }
  const out = Buffer.alloc(32)
  ;[0, 1, 2, 3, 12, 13, 14, 15].forEach((w, i) => {
    out.writeUInt32LE(s[w]!, 4 * i)
  })
  return new Uint8Array(out)
}

/** XChaCha20-Poly1305 encryption: ciphertext ‖ 16-byte tag. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const subkey = hchacha20(key, nonce.subarray(0, 16))
  const cipher = createCipheriv('chacha20-poly1305', subkey, concat(new Uint8Array(4), nonce.subarray(16, 24)), { authTagLength: 16 })
  cipher.setAAD(aad, { plaintextLength: plaintext.length })
  return concat(cipher.update(plaintext), cipher.final(), cipher.getAuthTag())
}

export const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array => new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))

const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex')
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')

const x25519Private = (secret: Uint8Array): KeyObject => createPrivateKey({ key: Buffer.concat([X25519_PKCS8, secret]), format: 'der', type: 'pkcs8' })

export const x25519Public = (secret: Uint8Array): Uint8Array => new Uint8Array(createPublicKey(x25519Private(secret)).export({ format: 'der', type: 'spki' }).subarray(12))

export const x25519 = (secret: Uint8Array, publicKey: Uint8Array): Uint8Array =>
  new Uint8Array(diffieHellman({ privateKey: x25519Private(secret), publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, publicKey]), format: 'der', type: 'spki' }) }))

export const ed25519Sign = (seed: Uint8Array, message: Uint8Array): Uint8Array =>
  new Uint8Array(sign(null, message, createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' })))

export const scrypt = (password: Uint8Array, salt: string): Uint8Array => new Uint8Array(scryptSync(password, salt, 32, { N: 2 ** 16, r: 8, p: 1, maxmem: 256 * 1024 * 1024 }))

/** A key box as PROTOCOL.md, "Key generations", spells it. */
export function referenceKeyBox(key: Uint8Array, recipient: Uint8Array, context: Uint8Array, ephemeralSecret: Uint8Array, nonce: Uint8Array): Uint8Array {
  const ephemeral = x25519Public(ephemeralSecret)
  const boxKey = hkdf(x25519(ephemeralSecret, recipient), concat(ephemeral, recipient), concat(utf8.encode('tandem/key-box/v1'), context), 32)
  return concat(ephemeral, nonce, xchachaSeal(boxKey, nonce, key, context))
}

export const referenceBoxContext = (generation: number, keyId: Uint8Array): Uint8Array => concat(varstring('tandem/key-generation'), varuint(generation), keyId)

export const referenceDocKey = (generationKey: Uint8Array, docId: string): Uint8Array => hkdf(generationKey, utf8.encode(docId), utf8.encode('tandem/doc/v1'), 32)

export const referenceKeyId = (generationKey: Uint8Array): Uint8Array => hkdf(generationKey, new Uint8Array(0), utf8.encode('tandem/key-id/v1'), 16)

const DOMAINS = {
  blob: { aad: 'tandem/blob/v1', signature: 'tandem/blob-signature/v1' },
  ephemeral: { aad: 'tandem/ephemeral/v1', signature: 'tandem/ephemeral-signature/v1' }
} as const

/** A sealed blob as PROTOCOL.md, "Sealed blobs", spells it. */
export function referenceSealed(
  kind: 'blob' | 'ephemeral',
  input: { docId: string; epoch: number; authorSeed: Uint8Array; author: Uint8Array; key: Uint8Array; nonce: Uint8Array; plaintext: Uint8Array }
): Uint8Array {
  const aad = concat(varstring(DOMAINS[kind].aad), varstring(input.docId), varuint(input.epoch), input.author)
  const body = concat(varuint(3), varuint(input.epoch), input.author, input.nonce, xchachaSeal(input.key, input.nonce, input.plaintext, aad))
  return concat(body, ed25519Sign(input.authorSeed, concat(varstring(DOMAINS[kind].signature), varstring(input.docId), body)))
}
