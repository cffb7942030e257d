import type { Engine, LinkConfirmation } from '@tandem/engine'
import { say } from './say.js'
import type { Terminal } from './terminal.js'

/**
 * `tandem-device link --code TEXT` on a device of the account: reads the code, reaches the
 * new device, shows the six digits and the device's name, and links it only when the person
 * answers y (the digits match). Rejects with the engine's typed error: nothing was linked.
 */
export async function linkNewDevice(engine: Engine, term: Terminal, code: string): Promise<{ peerId: string; name: string }> {
  say('Reaching the new device…')
  const linked = await engine.linkDevice(code, { confirm: info => confirmOnTerminal(term, info) })
  say(`Linked "${linked.name}" (${linked.peerId}) to account ${engine.accountId}.`)
  return linked
}

async function confirmOnTerminal(term: Terminal, { confirmation, name, platform, peerId, signal }: LinkConfirmation): Promise<boolean> {
  say(`New device: "${name}" (${platform || 'unknown platform'}, ${peerId})`)
  say(`Six digits: ${confirmation}`)
  // the other side cancelled or the session ran out: the question is moot
  const abandon = (): void => {
    say('(the link session ended before you answered)')
    term.abandon()
  }
  signal.addEventListener('abort', abandon, { once: true })
  try {
    const yes = await term.yesNo('Does the new device show the same six digits? Link it? [y/n] ')
    if (yes === true) say('Linking… (the new device asks for the passphrase if the account has one)')
    return yes === true
  } finally {
    signal.removeEventListener('abort', abandon)
  }
}
