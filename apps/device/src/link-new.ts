import type { Engine, PassphraseRequest } from '@tandem/engine'
import { duration, say, when } from './say.js'
import type { Terminal } from './terminal.js'

/**
 * `tandem-device link` on the new device: shows a code (QR and text), then the six digits
 * once a device of the account reads it, asks for the account's passphrase when that device
 * challenges, and resolves once this device belongs to the account. Rejects with the
 * invite's typed error (expired, declined, wrong passphrase…): nothing was linked.
 */
export async function linkAsNewDevice(engine: Engine, term: Terminal, ttlMs: number | undefined): Promise<void> {
  const invite = await engine.showLinkCode(ttlMs === undefined ? {} : { ttlMs })
  say('Scan this code with a device of your account, or type the text below into it:')
  say(invite.qr('terminal'))
  say(`  ${invite.text}`)
  say()
  say(`On that device: tandem-device link --code <the text above>`)
  say(`The code works once, until ${when(invite.expiresAt)} (${duration(invite.expiresAt - Date.now())} from now).`)
  invite.on('confirmation', digits => {
    say()
    say(`A device is linking this one. Check that it shows the same six digits: ${digits}`)
  })
  invite.on('passphrase-needed', request => {
    void answerPassphrase(invite, term, request)
  })
  // Ctrl-D while waiting declines: nothing is linked, the other device hears ERR_LINK_DECLINED
  term.onClose(() => {
    invite.cancel()
  })
  await invite.done
  const info = engine.accountInfo
  say()
  say(`Linked: this device is now a device of account ${info?.accountId}${info?.name ? ` (${info.name})` : ''}; its history is on its way.`)
}

type Invite = Awaited<ReturnType<Engine['showLinkCode']>>

/** Asks for the passphrase until one is sent (text that cannot be a passphrase is asked again); stdin closed cancels. */
async function answerPassphrase(invite: Invite, term: Terminal, request: PassphraseRequest): Promise<void> {
  if (request.wrongAttempts > 0) say('That passphrase was wrong.')
  if (request.retryAfterMs > 0) say(`The other device lets this one try again in ${duration(request.retryAfterMs)} (too many wrong passphrases).`)
  for (;;) {
    const text = await term.secret('This account has a passphrase. Type it: ')
    if (text === null) {
      invite.cancel()
      return
    }
    try {
      await invite.enterPassphrase(text)
      return
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_INVALID_CREDENTIALS') return // the session ended: `done` says why
      say((err as Error).message)
    }
  }
}
