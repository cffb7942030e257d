import type { Engine } from '@tandem/engine'
import { PASSPHRASE_BACKOFF_BASE_MS, PASSPHRASE_BACKOFF_MAX_MS, PASSPHRASE_FREE_ATTEMPTS } from '@tandem/protocol'
import { duration, say } from './say.js'
import type { Terminal } from './terminal.js'

const badCommand = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_BAD_COMMAND' })

/**
 * `tandem-device passphrase [--remove]`: two-step verification for linking. The passphrase
 * is asked twice, without echo on a terminal, since a typo here would lock the person's own
 * next device out; only its Argon2id verifier is kept, in the account doc.
 */
export async function setPassphrase(engine: Engine, term: Terminal, remove: boolean): Promise<void> {
  if (remove) {
    await engine.setPassphrase(null)
    say('Passphrase removed: linking a new device now needs only the code and your confirmation.')
    return
  }
  const first = await term.secret('New passphrase: ')
  const again = first === null ? null : await term.secret('Type it again: ')
  if (first === null || again === null) throw badCommand('no passphrase was typed: nothing changed')
  if (first !== again) throw badCommand('the two passphrases differ: nothing changed')
  await engine.setPassphrase(first)
  say('Passphrase set: a new device is linked only once it gives it.')
  say(
    `A device linking another lets ${PASSPHRASE_FREE_ATTEMPTS} wrong passphrases go, then waits ${duration(PASSPHRASE_BACKOFF_BASE_MS)} before the next, ` +
      `doubling each time up to ${duration(PASSPHRASE_BACKOFF_MAX_MS)}.`
  )
}
