/**
 * Device certificates: the account key vouches that a libp2p peer id is one of its
 * devices. Peers check them in the hello frame; the relay checks them for access.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { InvalidCertificateError, InvalidCredentialsError, UnsupportedVersionError, WrongAccountError } from './errors.js'
import { ACCOUNT_PUBLIC_KEY_BYTES, accountIdFromPublicKey, accountKeyFromSecret, type AccountKeyPair } from './identity.js'
import * as wire from './wire.js'

export const CERTIFICATE_VERSION = 1
export const MAX_PEER_ID_BYTES = 128
export const MAX_DEVICE_NAME_BYTES = 256
export const SIGNATURE_BYTES = 64
/** Prepended to what the account key signs, so a certificate signature can never be replayed as any other signed Tandem message. */
export const CERTIFICATE_SIGNATURE_DOMAIN = 'tandem/device-certificate'

export interface DeviceCertificate {
  accountPublicKey: Uint8Array
  peerId: string
  name: string
  /** Milliseconds since the epoch (a non-negative safe integer). */
  createdAt: number
  signature: Uint8Array
}

type CertificateBody = Omit<DeviceCertificate, 'signature'>

const errs: wire.WireErrors = {
  malformed: (m, o) => new InvalidCertificateError(`certificate ${m}`, o),
  tooLarge: (m, o) => new InvalidCertificateError(`certificate ${m}`, o)
}

function writeBody(encoder: encoding.Encoder, body: CertificateBody): void {
  wire.writeUint(encoder, 'version', CERTIFICATE_VERSION, errs)
  wire.writeFixedBytes(encoder, 'accountPublicKey', body.accountPublicKey, ACCOUNT_PUBLIC_KEY_BYTES, errs)
  wire.writeString(encoder, 'peerId', body.peerId, MAX_PEER_ID_BYTES, errs)
  wire.writeString(encoder, 'name', body.name, MAX_DEVICE_NAME_BYTES, errs)
  wire.writeUint(encoder, 'createdAt', body.createdAt, errs)
}

/** The signed bytes: varstring(domain) followed by the certificate encoding minus its signature. */
function signedMessage(body: CertificateBody): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, CERTIFICATE_SIGNATURE_DOMAIN)
  writeBody(encoder, body)
  return encoding.toUint8Array(encoder)
}

export function signDeviceCertificate(account: AccountKeyPair, device: { peerId: string; name: string; createdAt: number }): DeviceCertificate {
  const { publicKey } = accountKeyFromSecret(account.secretKey)
  // A mismatched pair would yield certificates that never verify; fail where the bug is.
  if (!equalBytes(publicKey, account.publicKey)) {
    throw new InvalidCredentialsError('account publicKey does not match its secretKey')
  }
  const body: CertificateBody = { accountPublicKey: publicKey, peerId: device.peerId, name: device.name, createdAt: device.createdAt }
  return { ...body, signature: ed25519.sign(signedMessage(body), account.secretKey) }
}

/**
 * Checks the signature, then the expectations. Returns the certificate's account id.
 * Throws InvalidCertificateError (malformed, bad signature, other peer id) or
 * WrongAccountError (valid, but for another account than `expect.accountId`).
 */
export function verifyDeviceCertificate(cert: DeviceCertificate, expect: { peerId?: string; accountId?: string }): string {
  const message = signedMessage(cert) // also validates every field's type and bound
  if (!(cert.signature instanceof Uint8Array) || cert.signature.length !== SIGNATURE_BYTES) {
    throw new InvalidCertificateError(`certificate signature must be ${SIGNATURE_BYTES} bytes`)
  }
  // zip215: false is strict RFC 8032: no non-canonical encodings, no small-order keys,
  // so exactly one byte string verifies for a given certificate.
  let ok = false
  try {
    ok = ed25519.verify(cert.signature, message, cert.accountPublicKey, { zip215: false })
  } catch {
    ok = false
  }
  if (!ok) throw new InvalidCertificateError('certificate signature does not verify')
  if (expect.peerId !== undefined && cert.peerId !== expect.peerId) {
    throw new InvalidCertificateError(`certificate is for peer ${cert.peerId}, not the connected peer ${expect.peerId}`)
  }
  const accountId = accountIdFromPublicKey(cert.accountPublicKey)
  if (expect.accountId !== undefined && accountId !== expect.accountId) {
    throw new WrongAccountError(`device belongs to account ${accountId}, expected ${expect.accountId}`)
  }
  return accountId
}

export function certificateAccountId(cert: DeviceCertificate): string {
  return accountIdFromPublicKey(cert.accountPublicKey)
}

export function writeDeviceCertificate(encoder: encoding.Encoder, cert: DeviceCertificate): void {
  writeBody(encoder, cert)
  wire.writeFixedBytes(encoder, 'signature', cert.signature, SIGNATURE_BYTES, errs)
}

/** Throws InvalidCertificateError on malformed bytes, UnsupportedVersionError on an unknown certificate version. */
export function readDeviceCertificate(decoder: decoding.Decoder): DeviceCertificate {
  return wire.guard(
    () => {
      const version = wire.readUint(decoder, 'version', errs)
      if (version !== CERTIFICATE_VERSION) {
        throw new UnsupportedVersionError(`certificate version ${version}, this build reads ${CERTIFICATE_VERSION}`)
      }
      // Keys are copied, not viewed: certificates are kept long after the frame buffer is gone.
      const accountPublicKey = wire.readFixedBytes(decoder, 'accountPublicKey', ACCOUNT_PUBLIC_KEY_BYTES, errs).slice()
      const peerId = wire.readString(decoder, 'peerId', MAX_PEER_ID_BYTES, errs)
      const name = wire.readString(decoder, 'name', MAX_DEVICE_NAME_BYTES, errs)
      const createdAt = wire.readUint(decoder, 'createdAt', errs)
      const signature = wire.readFixedBytes(decoder, 'signature', SIGNATURE_BYTES, errs).slice()
      return { accountPublicKey, peerId, name, createdAt, signature }
    },
    'certificate',
    errs
  )
}

export function encodeDeviceCertificate(cert: DeviceCertificate): Uint8Array {
  return encoding.encode(encoder => writeDeviceCertificate(encoder, cert))
}

export function decodeDeviceCertificate(bytes: Uint8Array): DeviceCertificate {
  return wire.decodeWhole(bytes, readDeviceCertificate, 'certificate', errs)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i])
}
