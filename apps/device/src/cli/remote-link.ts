import type { RemoteClient } from '../http/remote-client.js'
import { RemoteCallError } from '../http/remote-client.js'
import { duration, say, when } from '../say.js'
import type { Terminal } from '../terminal.js'

type Event = { type: string } & Record<string, unknown>

/**
 * `tandem-device link --code TEXT` on a running device: its `linkDevice` call waits while
 * the `link-confirm` event shows the six digits here; the person's y/n (or `--yes`: no
 * `term`) goes back as `confirmLink`.
 */
export async function linkByCodeRemote(device: RemoteClient, code: string, term: Terminal | null): Promise<{ peerId: string; name: string }> {
  const stream = device.events(e => {
    if (e.type === 'link-confirm') void answer(e)
    if (e.type === 'link-confirm-closed') {
      say('(the link session ended before you answered)')
      term?.abandon()
    }
  })
  const answer = async (e: Event): Promise<void> => {
    say(`New device: "${e.name}" (${(e.platform as string) || 'unknown platform'}, ${e.peerId})`)
    say(`Six digits: ${e.confirmation}`)
    const yes = term === null ? true : await term.yesNo('Does the new device show the same six digits? Link it? [y/n] ')
    await device.call('confirmLink', yes === true).catch(() => {}) // the session may have ended meanwhile: linkDevice says how
  }
  try {
    await stream.ready
    say('Reaching the new device…')
    return await device.call<{ peerId: string; name: string }>('linkDevice', code)
  } finally {
    stream.close()
  }
}

/**
 * `tandem-device link` on a running device without an account: shows its code (QR and text),
 * the six digits once a device of the account reads it, asks for the passphrase when asked,
 * and resolves once linked (rejects with the typed reason it was not).
 */
export async function showLinkCodeRemote(device: RemoteClient, term: Terminal, json: boolean): Promise<void> {
  let settle!: { resolve: () => void; reject: (err: Error) => void }
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject }
  })
  const stream = device.events(e => {
    if (e.type === 'link-confirmation') say(json ? JSON.stringify(e) : `A device is linking this one. Check that it shows the same six digits: ${e.confirmation}`)
    if (e.type === 'link-passphrase-needed') void passphrase(e)
    if (e.type === 'linked') settle.resolve()
    if (e.type === 'link-failed') {
      const error = e.error as { code: string; message: string }
      settle.reject(new RemoteCallError(error.code, error.message, 200))
    }
  })
  const passphrase = async (e: Event): Promise<void> => {
    if ((e.wrongAttempts as number) > 0) say('That passphrase was wrong.')
    const text = await term.secret('This account has a passphrase. Type it: ')
    if (text === null) await device.call('cancelLink')
    else await device.call('enterPassphrase', text).catch((err: Error) => say(err.message))
  }
  term.onClose(() => {
    void device.call('cancelLink').catch(() => {})
  })
  try {
    await stream.ready
    const code = await device.call<{ text: string; expiresAt: number; qr: { terminal: string } }>('showLinkCode')
    if (json) say(JSON.stringify({ text: code.text, expiresAt: code.expiresAt }))
    else {
      say('Scan this code with a device of your account, or type the text below into it:')
      say(code.qr.terminal)
      say(`  ${code.text}`)
      say()
      say('On that device: tandem-device link --code <the text above>')
      say(`The code works once, until ${when(code.expiresAt)} (${duration(code.expiresAt - Date.now())} from now).`)
    }
    await done
  } finally {
    stream.close()
  }
}
