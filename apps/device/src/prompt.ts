import type { Engine } from '@tandem/engine'
import { showRecoveryPhrase } from './recovery.js'
import { say } from './say.js'
import type { Terminal } from './terminal.js'

/** Interactive mode: a line you type is a message; messages from your other devices print as they arrive. */
export async function runPrompt(engine: Engine, term: Terminal, onStop: () => Promise<void>): Promise<void> {
  if (engine.accountId === null) {
    say('No account on this device. To add it to an account you have, stop here (Ctrl-D) and run `tandem-device link`.')
    const name = await term.question('Your name, to create a new account: ')
    if (name === null) return await onStop()
    const created = await engine.createAccount({ name: name.trim() || 'me' })
    if (created.recoveryPhrase !== null) showRecoveryPhrase(created.recoveryPhrase, created.accountId)
  }
  say(`device ${engine.peerId}\naccount ${engine.accountId}\nlistening on ${engine.multiaddrs().join(' ')}`)
  const chat = engine.listChats()[0] ?? (await engine.createChat({ title: 'Notes to self' }))
  engine.subscribe(e => {
    if (e.type === 'message' && e.origin === 'remote') say(`\n[${e.chatId.slice(0, 6)}] ${e.message.text}`)
    if (e.type === 'messages') say(`\n[${e.chatId.slice(0, 6)}] ${e.count} messages synced`)
    if (e.type === 'peer') say(`\n(${e.status} ${e.peerId})`)
    if (e.type === 'revoked') say('\nThis device was revoked from the account by another of its devices: its data is erased.')
  })
  term.onClose(() => {
    void onStop()
  })
  for (;;) {
    const line = await term.nextLine()
    if (line === null) return
    if (line.trim() !== '') await engine.sendMessage(chat.chatId, line)
  }
}
