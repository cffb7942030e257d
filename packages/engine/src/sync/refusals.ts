/** Refusals no retry can fix: the peer is not, or no longer, a device of this account. */
export const PERMANENT_REFUSALS: ReadonlySet<string> = new Set(['ERR_WRONG_ACCOUNT', 'ERR_DEVICE_REVOKED', 'ERR_INVALID_CERTIFICATE'])

/** Codes that mean "this peer and we may not sync" (reported as `refused`), as opposed to a broken link. */
export const REFUSALS: ReadonlySet<string> = new Set([...PERMANENT_REFUSALS, 'ERR_NOT_AUTHENTICATED', 'ERR_UNSUPPORTED_VERSION'])
