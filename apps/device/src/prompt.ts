import type { Engine } from '@tandem/engine'
import { Names } from './cli/chat-view.js'
import { PromptCommands } from './prompt-commands.js'
import { showLiveEvents } from './prompt-events.js'
import { sayTyping, showTyping } from './prompt-typing.js'
import { showRecoveryPhrase } from './recovery.js'
import { say } from './say.js'
import type { Terminal } from './terminal.js'

/**
 * The chat client at the terminal: `/help` lists the commands, a plain line is sent to the
 * open chat, and what arrives is shown as it comes (with who sent it, and the ticks of what
 * this account sent). Stdin may be a pipe: each line is taken in turn.
 */
export async function runPrompt(engine: Engine, term: Terminal, onStop: () => Promise<void>, serving = false): Promise<void> {
  // with --http the device serves its API after stdin ends (a script or a service started it): Ctrl-C or SIGTERM stops it
  const ended = (): Promise<void> => (serving ? Promise.resolve() : onStop())
  let created = false
  if (engine.accountId === null) {
    say('No account on this device. To add it to an account you have, stop here (Ctrl-D) and run `tandem-device link`.')
    const name = await term.question('Your name, to create a new account: ')
    if (name === null) return await ended()
    const account = await engine.createAccount({ name: name.trim() || 'me' })
    if (account.recoveryPhrase !== null) showRecoveryPhrase(account.recoveryPhrase, account.accountId)
    created = true
  }
  say(`device ${engine.peerId}\naccount ${engine.accountId}\nlistening on ${engine.multiaddrs().join(' ')}`)
  // Only the device that made the account makes its first chat: a device that joined one has
  // its chats on the way, and a "Notes to self" of its own would be a second one once they come
  if (created) await engine.createChat({ title: 'Notes to self' })
  const names = (): Names => new Names(engine.accountId, engine.listContacts())
  let typingFollows = (): void => {}
  const commands = new PromptCommands(engine, term, names, onStop, () => typingFollows())
  typingFollows = showTyping(engine, term, names, () => commands.openChat)
  const lineTaken = sayTyping(engine, term, () => commands.openChat)
  const open = engine.listChats()[0]
  if (open !== undefined) commands.open(open.chatId)
  else say('No chats here yet: they arrive as the account syncs (/chats lists them), or /invite someone.')
  say('Type /help for the commands; a line without / is sent to the open chat.')
  showLiveEvents(engine, names, () => commands.openChat)
  term.onClose(() => {
    void ended()
  })
  for (;;) {
    term.prompt()
    const line = await term.nextLine()
    lineTaken()
    if (line === null) return
    await commands.run(line.trim())
  }
}
