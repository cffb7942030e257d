import { InvalidCredentialsError, recoveryKeyFromPhrase, TandemError } from '@tandem/protocol'
import type { Link } from '@tandem/transport'
import { EngineStateError, InvalidArgumentError, RelayUnavailableError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { AccountInfo, AccountService } from './account-service.js'
import { fetchChain } from './chain-fetch.js'

/** How long each relay gets to send the account's chain. */
const FETCH_TIMEOUT_MS = 15_000

export interface RecoverOptions {
  accountId: string
  recoveryPhrase: string
  /**
   * Revoke every device listed now (default true): recovery is for when they are lost, and
   * a lost phone should read nothing more. With false they stay (the device limit counts them).
   */
  revokeOtherDevices?: boolean
}

/**
 * Brings an account back on a device with no account, from its id and recovery phrase: the
 * chain comes from a relay (checked, never trusted), the phrase derives the recovery key the
 * chain names, and that key signs the link that lists this device (and revokes the lost
 * ones). The relay sees the chain it already held plus one link; never the phrase or any
 * key. The history then comes from the relay like a linked device's.
 */
export async function recoverAccount(
  account: AccountService,
  relays: () => Promise<Array<{ relayId: string; link: Link }>>,
  runtime: Runtime,
  options: RecoverOptions
): Promise<AccountInfo> {
  if (typeof options?.accountId !== 'string' || typeof options.recoveryPhrase !== 'string') throw new InvalidArgumentError('recoverAccount takes { accountId, recoveryPhrase }')
  if (account.accountId !== null) throw new EngineStateError('this device already belongs to an account')
  const key = await recoveryKeyFromPhrase(options.recoveryPhrase) // a typo is ERR_INVALID_CREDENTIALS, with the word's place
  const streams = await relays()
  if (streams.length === 0) throw new RelayUnavailableError('recovery needs a relay that holds the account: start this device with one')
  let failure: unknown = null
  for (const { link } of streams) {
    try {
      const fetched = await fetchChain(link, options.accountId.trim(), runtime, FETCH_TIMEOUT_MS)
      if (!sameKey(fetched.state.recoveryKey, key.publicKey)) throw new InvalidCredentialsError(`this recovery phrase is not the one of account ${options.accountId}`)
      for (const other of streams) other.link.close()
      return await account.recover(fetched.links, key, options.revokeOtherDevices !== false)
    } catch (err) {
      if (err instanceof InvalidCredentialsError || !(err instanceof TandemError)) {
        for (const other of streams) other.link.close()
        throw err
      }
      failure = err
    }
  }
  throw failure
}

const sameKey = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
