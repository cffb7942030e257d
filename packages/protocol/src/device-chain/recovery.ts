/**
 * The account's recovery key, derived from a recovery phrase: BIP-39 English words
 * (@scure/bip39) carrying 128 bits or more of generated entropy, never a phrase a person
 * makes up. Only the public key enters the chain; the phrase and everything derived from
 * it stay with the person, so the relay holds nothing that lets it act for the account.
 *
 *   root = scrypt(entropy, "tandem/recovery-phrase/v1", N = 2^16, r = 8, p = 1, 32 bytes)
 *   seed = HKDF-SHA256(ikm = root, salt = none, info = "tandem/recovery/ed25519", 32 bytes)
 *
 * Why scrypt on a phrase that already has 128 bits: every link publishes the recovery
 * public key, so anyone holding the chain (the relay included) can test guesses offline.
 * Against a whole phrase that is hopeless either way; against a phrase partly seen (a photo
 * with three words hidden is 2^33 guesses) the memory-hard step makes each guess cost
 * 64 MiB and about half a second instead of microseconds. scrypt rather than Argon2id:
 * both are in @noble/hashes and pure JS (so browsers run it), and measured here scrypt
 * gives more memory per millisecond (64 MiB in ~0.45 s against Argon2id's 19 MiB in
 * ~0.6 s). HKDF then splits the one slow root into keys per purpose: issue 14 derives the
 * recovery X25519 key with info "tandem/recovery/x25519" from the same root.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { InvalidCredentialsError } from '../errors.js'
import { type AgreementKeyPair, agreementKeyFromSecret, type SigningKeyPair, signingKeyFromSeed } from './keys.js'

export const RECOVERY_PHRASE_WORDS = 12
export const RECOVERY_SCRYPT = Object.freeze({ N: 2 ** 16, r: 8, p: 1 })
const SCRYPT_SALT = 'tandem/recovery-phrase/v1'
const SIGNING_KEY_INFO = 'tandem/recovery/ed25519'
const AGREEMENT_KEY_INFO = 'tandem/recovery/x25519'
/** 24 words of the longest English word (8 letters) and separators, with room for stray spaces. */
const MAX_PHRASE_CHARS = 1024
/** BIP-39 word counts and the entropy bytes each carries. */
const ENTROPY_BYTES: Readonly<Record<number, number>> = { 12: 16, 15: 20, 18: 24, 21: 28, 24: 32 }
const utf8 = new TextEncoder()

/** A new phrase from injected randomness (the seeded simulator makes accounts deterministically). */
export function generateRecoveryPhrase(randomBytes: (n: number) => Uint8Array, words = RECOVERY_PHRASE_WORDS): string {
  const bytes = ENTROPY_BYTES[words]
  if (bytes === undefined) throw new RangeError(`a recovery phrase has 12, 15, 18, 21 or 24 words, not ${words}`)
  return entropyToMnemonic(randomBytes(bytes).slice(0, bytes), wordlist)
}

/**
 * The phrase as its words, lower case, single spaces (what people type varies in case and
 * spacing). Throws InvalidCredentialsError naming the problem: an unknown word (with its
 * position, so a typo reads as a typo), a wrong number of words, or words that do not
 * check out (the BIP-39 checksum: a mistyped word that is also a list word, or words out of order).
 */
export function normalizeRecoveryPhrase(text: string): string {
  if (typeof text !== 'string' || text.length > MAX_PHRASE_CHARS) throw new InvalidCredentialsError('recovery phrase: not a phrase')
  const words = text
    .normalize('NFKD')
    .trim()
    .toLowerCase()
    .split(/\s+/u)
    .filter(w => w.length > 0)
  const known = new Set(wordlist)
  const unknown = words.findIndex(w => !known.has(w))
  if (unknown >= 0) throw new InvalidCredentialsError(`recovery phrase: word ${unknown + 1}, ${JSON.stringify(words[unknown]!.slice(0, 32))}, is not in the word list`)
  if (ENTROPY_BYTES[words.length] === undefined) throw new InvalidCredentialsError(`recovery phrase: ${words.length} words, expected 12, 15, 18, 21 or 24`)
  const phrase = words.join(' ')
  try {
    mnemonicToEntropy(phrase, wordlist)
  } catch (cause) {
    throw new InvalidCredentialsError('recovery phrase: the words do not check out (a word mistyped as another list word, or out of order?)', { cause })
  }
  return phrase
}

/** The recovery key pair of a phrase (about half a second: see the file comment). Throws InvalidCredentialsError for a phrase that does not check out. */
export async function recoveryKeyFromPhrase(text: string): Promise<RecoveryKeys> {
  const entropy = mnemonicToEntropy(normalizeRecoveryPhrase(text), wordlist)
  const root = await scryptAsync(entropy, utf8.encode(SCRYPT_SALT), { ...RECOVERY_SCRYPT, dkLen: 32 })
  const seed = hkdf(sha256, root, undefined, utf8.encode(SIGNING_KEY_INFO), 32)
  const agreement = agreementKeyFromSecret(hkdf(sha256, root, undefined, utf8.encode(AGREEMENT_KEY_INFO), 32))
  root.fill(0)
  return { ...signingKeyFromSeed(seed), agreement }
}

/** The recovery signing key pair (it signs recovery links), with the X25519 pair key generations are sealed to. */
export interface RecoveryKeys extends SigningKeyPair {
  agreement: AgreementKeyPair
}
