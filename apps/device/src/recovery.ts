import type { Engine } from '@tandem/engine'
import { say } from './say.js'
import type { Terminal } from './terminal.js'

const badCommand = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_BAD_COMMAND' })

/**
 * The recovery phrase as the person should copy it: numbered, four words a row, so a word
 * skipped or swapped while writing it down shows. It is shown once and stored nowhere.
 */
export function showRecoveryPhrase(phrase: string, accountId: string): void {
  const words = phrase.trim().split(/\s+/)
  say('Your recovery phrase. Write it down and keep it somewhere safe: it is shown only now, and it is')
  say('the only way back into this account if you lose every device.')
  for (let i = 0; i < words.length; i += 4)
    say(
      `  ${words
        .slice(i, i + 4)
        .map((w, j) => `${String(i + j + 1).padStart(2)} ${w.padEnd(9)}`)
        .join(' ')
        .trimEnd()}`
    )
  say(`Account id (you need it too): ${accountId}`)
}

/**
 * `tandem-device recover --account ID`: on a device with no account and a relay, asks for the
 * recovery phrase and becomes a device of the account again (the lost devices are revoked);
 * the history then comes from the relay.
 */
export async function recover(engine: Engine, term: Terminal, accountId: string): Promise<void> {
  const phrase = await term.secret('Recovery phrase (12 words): ')
  if (phrase === null || phrase.trim() === '') throw badCommand('no recovery phrase was typed: nothing changed')
  say('Reading the account from the relay…')
  const info = await engine.recoverAccount({ accountId, recoveryPhrase: phrase })
  say(`Recovered: this device is now the device of account ${info.accountId}; the devices listed before are revoked, and the history is on its way.`)
  say('Make a new recovery phrase if the old one may have been seen: tandem-device recovery-phrase')
}

/** `tandem-device recovery-phrase`: a new phrase replaces the old one, shown once. */
export async function newRecoveryPhrase(engine: Engine): Promise<void> {
  const phrase = await engine.setRecoveryPhrase()
  showRecoveryPhrase(phrase, engine.accountId ?? '')
  say('The old phrase no longer works once the relay has this change.')
}
