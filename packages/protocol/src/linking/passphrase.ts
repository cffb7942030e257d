/**
 * Two-step verification: an account's optional passphrase, kept by its devices only as a
 * verifier, checked when a new device links (PROTOCOL.md, "Two-step verification").
 *
 *   key      = Argon2id(NFKC(passphrase), salt[16], t, m KiB, p, 32 bytes)        @noble/hashes
 *   verifier ::= varuint(1) varuint(t) varuint(m) varuint(p) bytes[16](salt) bytes[32](key)
 *   proof    = HMAC-SHA256(key, varstring("tandem/link/passphrase") ‖ transcript)  (transcript.ts)
 *
 * The person types the passphrase on the new device; that device derives the key with the
 * salt and parameters the existing device sends, and sends only a proof bound to the
 * session. So the passphrase never leaves the device it was typed on, the memory-hard work
 * is done by whoever is trying (not by the device that checks), and a proof seen once is
 * good for no other session. Whoever holds a verifier can make proofs, so it travels only
 * among the account's devices, inside the account's encrypted data (issue 14).
 *
 * Parameters, measured here (Node 20, one x86 core shared with other work; fresh process,
 * median of 5, peak RSS over the process before):
 *   m = 19 MiB, t = 2 (OWASP's minimum)     195 ms   (the floor a new device accepts)
 *   m = 46 MiB, t = 1                       238 ms
 *   m = 64 MiB, t = 1                       370 ms   +66 MiB
 *   m = 64 MiB, t = 2                       662 ms   +66 MiB   ← PASSPHRASE_PARAMS
 *   m = 64 MiB, t = 3, p = 4 (RFC 9106)     915 ms   +67 MiB
 * derivePassphraseKey (the async form, yielding to the event loop every 10 ms) takes 0.95–1.05 s
 * at PASSPHRASE_PARAMS here, process peak RSS 127 MiB (the test at the real parameters).
 * 64 MiB because each guess at a stolen verifier (or at one proof a rogue dialer collected)
 * should cost an attacker's hardware memory, not just time; t = 2 keeps one check under a
 * second here (a phone's browser is ~3× slower) and it runs once per attempt. p = 1: the
 * library computes lanes one after another, so more lanes would cost the defender time and
 * give an attacker's parallel hardware the speed-up.
 *
 * A new device refuses a challenge below MIN_PASSPHRASE_PARAMS: otherwise whoever dialed it
 * (someone who photographed its code) could ask for cheap parameters and then test guesses
 * against the proof at no cost. It refuses one above MAX_PASSPHRASE_PARAMS too (memory or
 * minutes a dialer could make it spend).
 */
import { equalBytes } from '@noble/curves/utils.js'
import { argon2idAsync } from '@noble/hashes/argon2.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { InvalidCredentialsError, UnsupportedVersionError, WrongPassphraseError } from '../errors.js'
import * as wire from '../wire.js'
import { type LinkTranscript, transcriptBytes } from './transcript.js'

export interface PassphraseParams {
  /** Argon2id passes over memory. */
  t: number
  /** Memory in KiB. */
  m: number
  /** Lanes. */
  p: number
}

export interface PassphraseVerifier {
  params: PassphraseParams
  salt: Uint8Array
  /** The Argon2id output: what a proof is keyed with. */
  key: Uint8Array
}

export const PASSPHRASE_VERIFIER_VERSION = 1
export const PASSPHRASE_PARAMS: Readonly<PassphraseParams> = Object.freeze({ t: 2, m: 64 * 1024, p: 1 })
export const MIN_PASSPHRASE_PARAMS: Readonly<PassphraseParams> = Object.freeze({ t: 2, m: 19 * 1024, p: 1 })
export const MAX_PASSPHRASE_PARAMS: Readonly<PassphraseParams> = Object.freeze({ t: 8, m: 256 * 1024, p: 4 })
export const PASSPHRASE_SALT_BYTES = 16
export const PASSPHRASE_KEY_BYTES = 32
export const PASSPHRASE_PROOF_BYTES = 32
/** UTF-8 bytes of a passphrase after NFKC. */
export const MAX_PASSPHRASE_BYTES = 1024
const PROOF_LABEL = 'tandem/link/passphrase'

export const passphraseErrors: wire.WireErrors = {
  malformed: (m, o) => new InvalidCredentialsError(`passphrase verifier ${m}`, o),
  tooLarge: (m, o) => new InvalidCredentialsError(`passphrase verifier ${m}`, o)
}

/** Parameters Argon2id can run (m ≥ 8p KiB) and within MAX_PASSPHRASE_PARAMS; thrown as `errs.malformed`. */
function checkRunnable(params: PassphraseParams, errs: wire.WireErrors): void {
  const { t, m, p } = params ?? ({} as PassphraseParams)
  const within = (n: number, lo: number, hi: number) => Number.isSafeInteger(n) && n >= lo && n <= hi
  const max = MAX_PASSPHRASE_PARAMS
  if (!within(p, 1, max.p) || !within(t, 1, max.t) || !within(m, 8 * p, max.m)) {
    throw errs.malformed(`Argon2id parameters t=${t} m=${m} p=${p} outside t 1..${max.t}, m 8p..${max.m} KiB, p 1..${max.p}`)
  }
}

/** Written inside a verifier and a passphrase-challenge frame: varuint(t) varuint(m) varuint(p). */
export function writePassphraseParams(encoder: encoding.Encoder, params: PassphraseParams, errs: wire.WireErrors): void {
  checkRunnable(params, errs)
  wire.writeUint(encoder, 't', params.t, errs)
  wire.writeUint(encoder, 'm', params.m, errs)
  wire.writeUint(encoder, 'p', params.p, errs)
}

export function readPassphraseParams(decoder: decoding.Decoder, errs: wire.WireErrors): PassphraseParams {
  const t = wire.readUint(decoder, 't', errs)
  const m = wire.readUint(decoder, 'm', errs)
  const p = wire.readUint(decoder, 'p', errs)
  const params = { t, m, p }
  checkRunnable(params, errs)
  return params
}

function passphraseBytes(passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string' || !passphrase.isWellFormed()) throw new InvalidCredentialsError('passphrase: not text')
  // NFKC: the same passphrase typed on another keyboard or system (composed or not) is the same bytes.
  const bytes = new TextEncoder().encode(passphrase.normalize('NFKC'))
  if (bytes.length === 0) throw new InvalidCredentialsError('passphrase: empty')
  if (bytes.length > MAX_PASSPHRASE_BYTES) throw new InvalidCredentialsError(`passphrase: over ${MAX_PASSPHRASE_BYTES} bytes`)
  return bytes
}

export interface PassphraseOptions {
  /** The weakest parameters accepted (default MIN_PASSPHRASE_PARAMS); tests lower it to run fast. */
  minimum?: PassphraseParams
}

/**
 * The key of `passphrase` under a salt and parameters, e.g. a passphrase-challenge's: what
 * the new device computes (`PASSPHRASE_PARAMS` take ~1 s). Throws InvalidCredentialsError
 * for an unusable passphrase or parameters below the minimum or over the maximum.
 */
export async function derivePassphraseKey(passphrase: string, salt: Uint8Array, params: PassphraseParams, options: PassphraseOptions = {}): Promise<Uint8Array> {
  checkRunnable(params, passphraseErrors)
  const min = options.minimum ?? MIN_PASSPHRASE_PARAMS
  if (params.t < min.t || params.m < min.m) throw new InvalidCredentialsError(`Argon2id parameters t=${params.t} m=${params.m} are weaker than the minimum t=${min.t} m=${min.m}`)
  if (!(salt instanceof Uint8Array) || salt.length !== PASSPHRASE_SALT_BYTES) throw new InvalidCredentialsError(`passphrase salt must be ${PASSPHRASE_SALT_BYTES} bytes`)
  const password = passphraseBytes(passphrase)
  // asyncTick: yields to the event loop every 10 ms, so sessions and timers go on meanwhile.
  const key = await argon2idAsync(password, salt, { ...params, dkLen: PASSPHRASE_KEY_BYTES, asyncTick: 10 })
  password.fill(0)
  return key
}

/** A verifier for a new passphrase, with a fresh salt from the injected randomness. */
export async function createPassphraseVerifier(
  passphrase: string,
  randomBytes: (n: number) => Uint8Array,
  options: PassphraseOptions & { params?: PassphraseParams } = {}
): Promise<PassphraseVerifier> {
  const params = { ...(options.params ?? PASSPHRASE_PARAMS) }
  const salt = randomBytes(PASSPHRASE_SALT_BYTES).slice(0, PASSPHRASE_SALT_BYTES)
  return { params, salt, key: await derivePassphraseKey(passphrase, salt, params, options) }
}

/** True when `passphrase` is the verifier's; the keys are compared in constant time. */
export async function verifyPassphrase(verifier: PassphraseVerifier, passphrase: string, options: PassphraseOptions = {}): Promise<boolean> {
  const key = await derivePassphraseKey(passphrase, verifier.salt, verifier.params, { minimum: options.minimum ?? verifier.params })
  return equalBytes(key, verifier.key)
}

/** The new device's passphrase-proof: the derived key bound to this session. */
export function passphraseProof(key: Uint8Array, t: LinkTranscript): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== PASSPHRASE_KEY_BYTES) throw new InvalidCredentialsError(`passphrase key must be ${PASSPHRASE_KEY_BYTES} bytes`)
  const label = encoding.encode(encoder => encoding.writeVarString(encoder, PROOF_LABEL))
  return hmac.create(sha256, key).update(label).update(transcriptBytes(t)).digest()
}

/** The existing device's check of a passphrase-proof (constant time). Throws WrongPassphraseError. */
export function verifyPassphraseProof(verifier: PassphraseVerifier, t: LinkTranscript, proof: Uint8Array): void {
  const expected = passphraseProof(verifier.key, t)
  const ok = proof instanceof Uint8Array && proof.length === PASSPHRASE_PROOF_BYTES && equalBytes(expected, proof)
  if (!ok) throw new WrongPassphraseError('wrong passphrase')
}

export function encodePassphraseVerifier(verifier: PassphraseVerifier): Uint8Array {
  const errs = passphraseErrors
  return encoding.encode(encoder =>
    wire.guard(
      () => {
        wire.writeUint(encoder, 'version', PASSPHRASE_VERIFIER_VERSION, errs)
        writePassphraseParams(encoder, verifier.params, errs)
        wire.writeFixedBytes(encoder, 'salt', verifier.salt, PASSPHRASE_SALT_BYTES, errs)
        wire.writeFixedBytes(encoder, 'key', verifier.key, PASSPHRASE_KEY_BYTES, errs)
      },
      'passphrase verifier',
      errs
    )
  )
}

/** Throws InvalidCredentialsError (bytes, bounds, parameters Argon2id cannot run) or UnsupportedVersionError. */
export function decodePassphraseVerifier(bytes: Uint8Array): PassphraseVerifier {
  const errs = passphraseErrors
  if (bytes instanceof Uint8Array && bytes.length > 64) throw errs.tooLarge(`${bytes.length} bytes, over the bound of 64`)
  return wire.decodeWhole(
    bytes,
    decoder => {
      const version = wire.readUint(decoder, 'version', errs)
      if (version !== PASSPHRASE_VERIFIER_VERSION) throw new UnsupportedVersionError(`passphrase verifier version ${version}, this build reads ${PASSPHRASE_VERIFIER_VERSION}`)
      const params = readPassphraseParams(decoder, errs)
      const salt = wire.readFixedBytes(decoder, 'salt', PASSPHRASE_SALT_BYTES, errs).slice()
      const key = wire.readFixedBytes(decoder, 'key', PASSPHRASE_KEY_BYTES, errs).slice()
      return { params, salt, key }
    },
    'passphrase verifier',
    errs
  )
}
