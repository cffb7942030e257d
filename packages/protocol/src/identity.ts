/**
 * Account ids. An account is named by the hash of its device chain's first link
 * (device-chain/digest.ts, accountIdFromGenesis): 'a' + 32 lowercase base32 characters.
 */

export const ACCOUNT_ID_PREFIX = 'a'
/** 'a' + base32 of 20 bytes. */
export const ACCOUNT_ID_LENGTH = 33
const ACCOUNT_ID_PATTERN = /^a[a-z2-7]{32}$/

/** True for the spelling of an account id (not whether such an account exists). */
export const isAccountId = (value: unknown): value is string => typeof value === 'string' && ACCOUNT_ID_PATTERN.test(value)
