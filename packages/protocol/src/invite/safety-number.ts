/**
 * The safety number two accounts compare to know they talk to each other and to no one in
 * between (issue 16), the same on both sides:
 *
 *   half(A)  = SHA-512 iterated 5,200 times: h₀ = SHA-512("tandem/safety-number/v1" ‖ A),
 *              hₖ₊₁ = SHA-512(hₖ ‖ A); its first 30 bytes as six 5-byte big-endian numbers,
 *              each mod 100,000, written as 5 digits: 30 digits
 *   number   = the two halves in ascending order, 60 digits in 12 groups of 5
 *
 * A is the account id, which is the hash of the account's first device-chain link: it
 * commits to the founding device's keys and the recovery key, and every later link (every
 * device, every key generation and its account key) must chain back to it by signatures.
 * So the id is the account's identity key, and every key a chat uses is checked against the
 * chain that founds it: matching numbers mean the same two chains. The shape follows Signal's
 * (iterations to slow a search for a look-alike id, halves sorted so both sides show the
 * same); the 30 digits per side are ~99 bits. A key generation does not change the number
 * (it is the same account); only another account would.
 */
import { sha512 } from '@noble/hashes/sha2.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { isAccountId } from '../identity.js'

export const SAFETY_NUMBER_ITERATIONS = 5200
const DOMAIN = new TextEncoder().encode('tandem/safety-number/v1')

function half(accountId: string): string {
  const id = new TextEncoder().encode(accountId)
  let h = sha512(concatBytes(DOMAIN, id))
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) h = sha512(concatBytes(h, id))
  let digits = ''
  for (let i = 0; i < 30; i += 5) {
    let n = 0
    for (let j = 0; j < 5; j++) n = n * 256 + h[i + j]!
    digits += String(n % 100_000).padStart(5, '0')
  }
  return digits
}

/** The 60 digits (12 groups of 5, space-separated) of two accounts, the same whichever is first. */
export function safetyNumber(a: string, b: string): string {
  if (!isAccountId(a) || !isAccountId(b)) throw new RangeError('a safety number is of two account ids')
  if (a === b) throw new RangeError('a safety number is of two different accounts')
  const digits = [half(a), half(b)].sort().join('')
  return digits.match(/.{5}/g)!.join(' ')
}
