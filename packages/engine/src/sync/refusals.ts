/** Refusals no retry can fix: the peer is not, or no longer, a device of this account. */
export const PERMANENT_REFUSALS: ReadonlySet<string> = new Set(['ERR_WRONG_ACCOUNT', 'ERR_DEVICE_REVOKED'])

/**
 * Codes that mean "this peer and we may not sync" (reported as `refused`), as opposed to a
 * broken link. Not listed is retried (with backoff): a device linked a moment ago is listed
 * by a link the other side may not hold yet, or one that lost a fork and is being signed again.
 */
export const REFUSALS: ReadonlySet<string> = new Set([...PERMANENT_REFUSALS, 'ERR_DEVICE_NOT_LISTED', 'ERR_NOT_AUTHENTICATED', 'ERR_UNSUPPORTED_VERSION'])
